"""The write lower bound: the lower bound's decisions (`bench.lower_bound`), then the same
rows pilotscale's `apply_check` writes — department updates and transitions, gate
results, the entry actions of advancing departments, and the outbox rows — by the
leanest script we could write: the message intents, their routes and their dedupe keys
come from the very functions pilotscale calls (`pilotscale.core.messages`,
`notifications.routing`), so this bound follows any change to what a check says; the
rows go in with raw SQL through the DB-API, one executemany per table, in one
transaction (pilotscale commits every 100 departments, which a script need not).

Like the decide-only bound it knows nothing of waivers, blackouts or a paused program
(the generated stores have none) and reads the plan as applied (no roster import).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from bench.bulk import db_value
from bench.lower_bound import Decided, decide_all
from pilotscale.core.decisions import Action, Decision
from pilotscale.core.facts import latest_decisions
from pilotscale.core.grouping import fold, item_key, split
from pilotscale.core.messages import (
    GROUPED,
    Message,
    delivered_segments,
    entry_work,
    for_decision,
    newcomer_training,
    training_reminders,
)
from pilotscale.core.phases import Event, PhaseMachine
from pilotscale.core.recipients import gate_owner, owner_names
from pilotscale.core.roster import TRAINEE_SEGMENTS
from pilotscale.core.stuck import pending_checks, stuck_gates
from pilotscale.engine.enqueue import stored_subject
from pilotscale.links import visit_key
from pilotscale.models import NotificationStatus, new_notification_id
from pilotscale.notifications.routing import dedupe_key, routes, send_after
from pilotscale.plan.schema import Plan
from pilotscale.store.identity import os_user
from pilotscale.store.queries import parse_plan_json

_MOVES = {Action.advance: Event.advance, Action.block: Event.block, Action.rollback: Event.rollback}

Rows = Callable[..., Sequence[Any]]


@dataclass
class Written:
    decisions: list[Decision]
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows handed to the database


def write_lower_bound(
    *, engine: Engine, now: datetime, run_id: str | None = None, actor: str = "scheduler"
) -> Written:
    """Decide for every department of the (only) program at `engine`, and write it all."""
    dialect = engine.dialect.name
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()

        def mark(sql: str) -> str:
            return sql.replace("?", "%s") if dialect == "postgresql" else sql

        def rows(sql: str, *params: Any) -> Sequence[Any]:
            cursor.execute(mark(sql), tuple(db_value(p, dialect) for p in params))
            return cursor.fetchall()

        def many(sql: str, params: list[tuple[Any, ...]]) -> None:
            if params:
                # psycopg 3 pipelines an executemany: one round trip per batch, not per row.
                cursor.executemany(
                    mark(sql), [tuple(db_value(v, dialect) for v in p) for p in params]
                )

        ((plan_json,),) = rows("SELECT plan_json FROM program")
        plan = parse_plan_json(plan_json)
        decided = decide_all(rows, now, owners=lambda name: owner_names(plan, name))
        written = _write(rows, many, plan, decided, now=now, run_id=run_id, actor=actor)
        raw.commit()
        return written
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def _write(
    rows: Rows,
    many: Callable[[str, list[tuple[Any, ...]]], None],
    plan: Plan,
    decided: Decided,
    *,
    now: datetime,
    run_id: str | None,
    actor: str,
) -> Written:
    machine = PhaseMachine(plan.phase_names())
    key, program_id = decided.check_key, decided.program_id
    ids = {name: dept_id for dept_id, (name, *_) in decided.departments.items()}
    todo = [d for d in decided.decisions if d.action is not Action.skip]
    evaluated = [ids[d.department] for d in todo if ids[d.department] in decided.facts]

    people = (
        {k: i for k, i in rows("SELECT key, id FROM person WHERE program_id = ?", program_id)}
        if any(d.action is Action.advance for d in todo)
        else {}
    )
    requested = _approval_requests(rows, decided, todo, ids)
    streaks = _pending_streaks(rows, decided, evaluated, key)
    overdue = _overdue(rows, program_id, now)
    newcomers = _newcomers(rows, plan, decided, evaluated)

    departments: list[tuple[Any, ...]] = []
    transitions: list[tuple[Any, ...]] = []
    gates: list[tuple[Any, ...]] = []
    onboarding: list[tuple[Any, ...]] = []
    assignments: list[tuple[Any, ...]] = []
    messages: list[Message] = []
    visits = {dept_id: row[2] for dept_id, row in decided.departments.items()}
    who = os_user()
    for decision in todo:
        dept_id = ids[decision.department]
        _, version, entered, failures, last_key = decided.departments[dept_id]
        spec = plan.department(decision.department)
        facts = decided.facts.get(dept_id)
        verdict = decision.verdict
        if verdict is not None and facts is not None:
            gates += [
                (
                    dept_id,
                    decision.before.phase,
                    r.gate,
                    r.kind,
                    str(r.outcome),
                    r.observed,
                    r.observed_text,
                    r.threshold_text,
                    r.reason,
                    gate_owner(plan, spec, r.gate),
                    now,
                    key,
                    run_id,
                )
                for r in verdict.results
            ]
        counted = decision.consecutive_failures > failures
        values = (decision.consecutive_failures, key if counted else last_key)
        state = (decision.before.phase, decision.before.status.value, entered)
        if decision.action in _MOVES:
            target = decision.after.phase if decision.action is Action.rollback else None
            after = machine.apply(
                decision.before,
                _MOVES[decision.action],
                target=target,
                department=decision.department,
            )
            moved = after.phase != decision.before.phase
            state = (after.phase, after.status.value, now if moved else entered)
            values = (0 if moved else values[0], values[1])
            transitions.append(
                (
                    dept_id,
                    decision.before.phase,
                    decision.before.status.value,
                    after.phase,
                    after.status.value,
                    _MOVES[decision.action].value,
                    actor,
                    decision.reason,
                    now,
                    run_id,
                    who,
                    "",
                    "",
                )
            )
        if decision.action in _MOVES or (failures, last_key) != values:
            departments.append((*state, *values, version + 1, now, dept_id, version))
        visits[dept_id] = state[2]

        approvals = facts.approvals if facts else {}
        approved = {
            gate: [by for by, fact in latest_decisions(given).items() if not fact.rejects]
            for gate, given in approvals.items()
        }
        stuck: dict[str, int] = {}
        if verdict is not None and facts is not None:
            recorded = streaks.get(dept_id, {})
            checks = pending_checks(verdict, recorded, counting_this_check=True)
            stuck = stuck_gates(plan, checks)
        found = for_decision(
            plan,
            decision,
            check_key=key,
            phase_entered_at=entered,
            now=now,
            approved_by=approved,
            requested_at=requested.get(dept_id, {}),
            stuck=stuck,
        )
        found += training_reminders(plan, spec, overdue.get(dept_id, []), check_key=key, now=now)
        joined = dict(newcomers.get(dept_id, []))
        if joined:
            members = [p for p in map(plan.find_person, joined) if p is not None]
            given, said = newcomer_training(
                plan, spec, decision.before.phase, members=members, now=now
            )
            assignments += [
                (dept_id, joined[a.person], a.segment, a.module, now, a.due_at) for a in given
            ]
            found += said
        if decision.action is Action.advance:
            work = entry_work(
                plan,
                spec,
                decision.after.phase,
                now=now,
                members=list(plan.members(decision.department)),
                previous_phase=decision.before.phase,
            )
            onboarding += [(dept_id, people[c], now, now) for c in work.onboard if c in people]
            assignments += [
                (dept_id, people[a.person], a.segment, a.module, now, a.due_at)
                for a in work.assignments
                if a.person in people
            ]
            found += work.messages
        messages += found

    # One message per person per check, as `engine.grouped` queues it: the reminders'
    # keys go into the ledger, and only the new ones are listed.
    single, items = split(messages)
    keys = list(dict.fromkeys(item_key(m) for m in items))
    told: set[str] = set()
    for first in range(0, len(keys), 500):
        chunk = keys[first : first + 500]
        marks = ", ".join("?" for _ in chunk)
        found = rows(
            f"SELECT dedupe_key FROM notification_item WHERE dedupe_key IN ({marks})", *chunk
        )
        told |= {k for (k,) in found}
    new = [k for k in keys if k not in told]
    many(
        "INSERT INTO notification_item (program_id, dedupe_key, told_in, created_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(program_id, k, key, now) for k in new],
    )
    fresh = set(new)
    grouped = fold([m for m in items if item_key(m) in fresh], check_key=key)
    for message in grouped:
        for item in message.context.get("items", ()) if message.event == GROUPED else ():
            found_id = ids.get(str(item.get("department", {}).get("name", "")))
            if found_id in visits:
                item["visit"] = visit_key(visits[found_id])
    outbox = _outbox_rows(plan, program_id, ids, [*single, *grouped], visits, now)
    many(
        "UPDATE department SET phase = ?, status = ?, phase_entered_at = ?, "
        "consecutive_failures = ?, last_check_key = ?, version = ?, updated_at = ? "
        "WHERE id = ? AND version = ?",
        departments,
    )
    many(
        "INSERT INTO transition (department_id, from_phase, from_status, to_phase, to_status, "
        "event, actor, reason, at, run_id, os_user, identity_source, on_behalf_of) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        transitions,
    )
    many(
        "INSERT INTO gate_result (department_id, phase, gate, kind, outcome, observed, "
        "observed_text, threshold_text, reason, owner, evaluated_at, check_key, run_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        gates,
    )
    many(
        "INSERT INTO champion_onboarding (department_id, person_id, created_at, welcomed_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        onboarding,
    )
    many(
        "INSERT INTO training_assignment (department_id, person_id, segment, module_id, "
        "assigned_at, due_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        assignments,
    )
    many(
        "INSERT INTO notification (id, program_id, department_id, dedupe_key, event, "
        "recipient_key, channel, subject, context_json, status, attempts, next_attempt_at, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        outbox,
    )
    counts = {
        "department": len(departments),
        "transition": len(transitions),
        "gate_result": len(gates),
        "champion_onboarding": len(onboarding),
        "training_assignment": len(assignments),
        "notification": len(outbox),
        "notification_item": len(new),
    }
    return Written(decided.decisions, counts)


def _outbox_rows(
    plan: Plan,
    program_id: int,
    ids: dict[str, int],
    messages: list[Message],
    visits: dict[int, datetime],
    now: datetime,
) -> list[tuple[Any, ...]]:
    """One row per (message, channel) as `engine.enqueue` builds it; the first message
    queued under a dedupe key is the one kept, as in pilotscale."""
    out: dict[str, tuple[Any, ...]] = {}
    pending = NotificationStatus.pending.value
    for message in messages:
        department_id = ids.get(message.department) if message.department else None
        visit = {"visit": visit_key(visits[department_id])} if department_id is not None else {}
        for route in routes(plan, message):
            key = dedupe_key(message, route.channel)
            if key in out:
                continue
            context = {**message.context, **visit, "recipient": route.recipient}
            out[key] = (
                new_notification_id(),
                program_id,
                department_id,
                key,
                message.event,
                message.recipient,
                route.channel,
                stored_subject(message),
                json.dumps(context, ensure_ascii=False, default=str),
                pending,
                0,
                send_after(plan, message, now),
                now,
            )
    return list(out.values())


def _approval_requests(
    rows: Rows, decided: Decided, todo: list[Decision], ids: dict[str, int]
) -> dict[int, dict[str, datetime]]:
    """When each held approval gate's approvers were first asked in this visit."""
    waiting: dict[str, tuple[int, str]] = {}
    for d in todo:
        if d.verdict is None:
            continue
        dept_id = ids[d.department]
        entered = decided.departments[dept_id][2]
        for r in d.verdict.holding:
            if r.kind == "approval":
                waiting[f"{d.department}:{r.gate}:{entered.isoformat()}"] = (dept_id, r.gate)
    if not waiting:
        return {}
    out: dict[int, dict[str, datetime]] = {}
    marks = ", ".join("?" for _ in {i for i, _ in waiting.values()})
    for dedupe, created in rows(
        "SELECT dedupe_key, created_at FROM notification WHERE event = 'approval_requested' "
        f"AND department_id IN ({marks})",
        *sorted({i for i, _ in waiting.values()}),
    ):
        found = waiting.get(dedupe.split("|", 2)[1]) if dedupe.count("|") >= 2 else None
        if found is not None:
            at = _aware(created)
            first = out.setdefault(found[0], {}).get(found[1])
            if first is None or at < first:
                out[found[0]][found[1]] = at
    return out


def _pending_streaks(
    rows: Rows, decided: Decided, evaluated: list[int], check_key: str
) -> dict[int, dict[str, int]]:
    """Checks in a row each gate was recorded pending in the current visit (this one aside)."""
    if not evaluated:
        return {}
    phases = {i: (d.phase, decided.departments[i][2]) for i, d in _by_id(decided).items()}
    since = min(decided.departments[i][2] for i in evaluated)
    latest: dict[tuple[int, str, str], tuple[datetime, str]] = {}
    wanted = set(evaluated)
    for dept_id, phase, gate, check, outcome, at in rows(
        "SELECT department_id, phase, gate, check_key, outcome, evaluated_at FROM gate_result "
        "WHERE evaluated_at >= ? AND check_key != ?",
        since,
        check_key,
    ):
        if dept_id not in wanted:
            continue
        at = _aware(at)
        if (phase, True) != (phases[dept_id][0], at >= phases[dept_id][1]):
            continue
        seen = latest.get((dept_id, gate, check))
        if seen is None or at > seen[0]:
            latest[(dept_id, gate, check)] = (at, outcome)
    by_gate: dict[tuple[int, str], list[tuple[str, str]]] = {}
    for (dept_id, gate, check), (_, outcome) in latest.items():
        by_gate.setdefault((dept_id, gate), []).append((check, outcome))
    out: dict[int, dict[str, int]] = {}
    for (dept_id, gate), results in by_gate.items():
        streak = 0
        for _, outcome in sorted(results, reverse=True):
            if outcome != "pending":
                break
            streak += 1
        if streak:
            out.setdefault(dept_id, {})[gate] = streak
    return out


def _by_id(decided: Decided) -> dict[int, Any]:
    """Department id -> its state before the check (the decision's `before`)."""
    names = {name: i for i, (name, *_) in decided.departments.items()}
    return {names[d.department]: d.before for d in decided.decisions}


def _overdue(
    rows: Rows, program_id: int, now: datetime
) -> dict[int, list[tuple[str, str, datetime]]]:
    out: dict[int, list[tuple[str, str, datetime]]] = {}
    for dept_id, person, module, due in rows(
        "SELECT t.department_id, p.key, t.module_id, t.due_at FROM training_assignment t "
        "JOIN department d ON d.id = t.department_id JOIN person p ON p.id = t.person_id "
        "WHERE d.program_id = ? AND t.completed_at IS NULL AND t.due_at <= ? "
        "AND p.removed_at IS NULL",
        program_id,
        now,
    ):
        out.setdefault(dept_id, []).append((person, module, _aware(due)))
    return out


def _newcomers(
    rows: Rows, plan: Plan, decided: Decided, evaluated: list[int]
) -> dict[int, list[tuple[str, int]]]:
    """Active trainees with nothing of their segment assigned, in segments delivered."""
    if not evaluated:
        return {}
    before = _by_id(decided)
    marks = ", ".join("?" for _ in TRAINEE_SEGMENTS)
    wanted = set(evaluated)
    out: dict[int, list[tuple[str, int]]] = {}
    for dept_id, person_id, key, segment in rows(
        "SELECT p.department_id, p.id, p.key, p.segment FROM person p "
        "JOIN department d ON d.id = p.department_id "
        f"WHERE d.program_id = ? AND p.removed_at IS NULL AND p.segment IN ({marks}) "
        "AND NOT EXISTS (SELECT 1 FROM training_assignment t WHERE t.person_id = p.id "
        "AND t.department_id = p.department_id AND t.segment = p.segment) "
        "ORDER BY p.department_id, p.key",
        decided.program_id,
        *TRAINEE_SEGMENTS,
    ):
        if dept_id in wanted and segment in delivered_segments(plan, before[dept_id].phase):
            out.setdefault(dept_id, []).append((key, person_id))
    return out


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
