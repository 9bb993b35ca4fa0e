"""The stored plan for the read-only views (`status`, `report`): everything but the people
who own no gate.

At 2,000 departments of 100 people the stored plan is 21 MB of JSON, and 200,000 of it
is people: validating them all took two seconds and 170 MB, while `status` and the
report name only the owners of gates (the program lead, each department's sponsor and
support owners, and people named as a gate's owner). The database takes the JSON apart
(SQLite's and PostgreSQL's own JSON functions), so Python parses only what is shown.

A person left out is missing, not replaced: `plan.person` raises KeyError for them, so
a view that starts to need more people fails loudly instead of showing something wrong.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import bindparam, select, text
from sqlmodel import Session

from pilotscale.core.recipients import owner_or_lead
from pilotscale.models import Program
from pilotscale.plan.schema import ApprovalGate, Person, Plan
from pilotscale.store.queries import parse_plan_json
from pilotscale.store.tables import table_of

_PEOPLE: TypeAdapter[list[Person]] = TypeAdapter(list[Person])

# Top-level members of the stored plan but `people`, each as the JSON text it is stored as.
_SQLITE_MEMBERS = text(
    "SELECT j.key, j.type, j.value FROM program, json_each(program.plan_json) AS j "
    "WHERE program.id = :program AND j.key <> 'people' ORDER BY j.id"
)
_POSTGRES_MEMBERS = text(
    "SELECT j.key, 'json', j.value::text FROM program, json_each(program.plan_json::json) "
    "WITH ORDINALITY AS j(key, value, n) WHERE program.id = :program AND j.key <> 'people' "
    "ORDER BY j.n"
)
_SQLITE_PEOPLE = text(
    "SELECT p.value FROM program, json_each(program.plan_json, '$.people') AS p "
    "WHERE program.id = :program AND json_extract(p.value, '$.id') IN :ids ORDER BY p.key"
).bindparams(bindparam("ids", expanding=True))
_POSTGRES_PEOPLE = text(
    "SELECT p.value::text FROM program, "
    "json_array_elements(program.plan_json::json -> 'people') WITH ORDINALITY AS p(value, n) "
    "WHERE program.id = :program AND p.value ->> 'id' IN :ids ORDER BY p.n"
).bindparams(bindparam("ids", expanding=True))


def owners_plan_json(plan: Plan, stored: dict[str, Any]) -> str:
    """What `apply` stores as `program.owners_plan_json`: `stored` (the plan as the store
    keeps it) with only the people who own a gate. The owners are found as a read finds
    them from the stored JSON, on the plan without its people."""
    owners = owner_ids(plan.model_copy(update={"people": []}))
    people = [p for p in stored["people"] if p["id"] in owners]
    # As `store.apply.canonical_json` writes the whole plan (which imports this module).
    return json.dumps(
        {**stored, "people": people}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def load_owners_plan(*, session: Session, program: Program) -> Plan:
    """The plan as last applied, with only the people who own a gate somewhere: as `apply`
    stored it, or, on a store applied before it did, taken apart from the whole plan."""
    cached = _PLANS.get(program.plan_sha256)
    if cached is not None:
        return cached
    stored = session.execute(
        select(table_of(Program).c.owners_plan_json).where(table_of(Program).c.id == program.id)
    ).scalar_one()
    plan = _from_whole_plan(session, program) if stored is None else parse_plan_json(stored)
    _PLANS.clear()  # one program per process: the views read one
    _PLANS[program.plan_sha256] = plan
    return plan


def _from_whole_plan(session: Session, program: Program) -> Plan:
    postgres = session.get_bind().dialect.name == "postgresql"
    members = session.execute(
        _POSTGRES_MEMBERS if postgres else _SQLITE_MEMBERS, {"program": program.id}
    ).all()
    body = ",".join(f"{json.dumps(key)}:{_json(kind, value)}" for key, kind, value in members)
    plan = parse_plan_json("{" + body + ',"people":[]}')
    owners = sorted(owner_ids(plan))
    rows = session.execute(
        _POSTGRES_PEOPLE if postgres else _SQLITE_PEOPLE, {"program": program.id, "ids": owners}
    ).all()
    people = _PEOPLE.validate_json("[" + ",".join(value for (value,) in rows) + "]")
    return plan.model_copy(update={"people": people})


def owner_ids(plan: Plan) -> set[str]:
    """Everybody who owns a gate in some department (vacant roles fall back to the lead),
    and every approver (a rejection names who rejected)."""
    found = {plan.program.lead}
    for department in plan.departments:
        found.update(owner_or_lead(plan, department, gate.owner) for gate in plan.gates)
    for gate in plan.gates:
        if isinstance(gate, ApprovalGate):
            found.update(gate.approvers)
    return found


_PLANS: dict[str, Plan] = {}


def forget_owners_plans() -> None:
    """Read again on the next call (tests count the statements of a cold read)."""
    _PLANS.clear()


def _json(kind: str, value: Any) -> str:
    """A member's value as JSON text: SQLite gives objects and arrays as JSON text, and
    other values as SQL values."""
    if kind in ("json", "object", "array"):
        return str(value)
    return json.dumps({"true": True, "false": False, "null": None}.get(kind, value))
