"""Rules that relate one part of a plan to another, run after the schema accepted it.

Each finding is `(path, message)`: the path points into the YAML data (the loader
turns it into a line), the message says what to do. Only certain impossibilities
are reported; a plan that is merely unusual passes.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pilotscale.plan.domains import domain_of, shown
from pilotscale.plan.overrides import override_problems
from pilotscale.plan.problems import PathKey, format_path, quoted
from pilotscale.plan.schema import ApprovalGate, Department, MetricGate, Plan, TrendGate

Finding = tuple[PathKey, str]

OWNER_ROLES = (
    "sponsor",
    "lead",
    "support.technical",
    "support.adoption",
    "support.content",
    "support.governance",
)
SUPPORT_AREAS = ("technical", "adoption", "content", "governance")


def crosscheck(plan: Plan) -> list[Finding]:
    """Every cross-reference problem in `plan`, in no particular order."""
    findings: list[Finding] = []
    for rule in _RULES:
        findings.extend(rule(plan))
    return findings


# --------------------------------------------------------------------------- helpers


def _suggest(name: str, known: Iterable[str], *, listing: bool = True) -> str:
    """A hint to append to a message: the closest known name, or the known names."""
    names = sorted(set(known))
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    # A shortened name ('ines' for 'ines.garcia') is a typo difflib rates too low.
    containing = [known_name for known_name in names if len(name) >= 3 and name in known_name]
    if close or len(containing) == 1:
        return f" (did you mean '{(close or containing)[0]}'?)"
    if not listing:
        return ""
    if not names:
        return " (none are defined)"
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    return f" (known: {shown})"


def _duplicates(
    values: Sequence[str], base: PathKey, field: str | None, what: str
) -> Iterable[Finding]:
    first: dict[str, PathKey] = {}
    for index, value in enumerate(values):
        path: PathKey = (*base, index) if field is None else (*base, index, field)
        if value in first:
            yield (
                path,
                f"{what} {quoted(value)} is used twice (first at {format_path(first[value])}): "
                f"make each {what} unique",
            )
        else:
            first[value] = path


def _unknown_person(plan: Plan, person_id: str, what: str) -> str | None:
    ids = {p.id for p in plan.people}
    if person_id in ids:
        return None
    return (
        f"{what} {quoted(person_id)} is not a person under people: add the person or fix the id"
        f"{_suggest(person_id, ids)}"
    )


# --------------------------------------------------------------------------- duplicates


def _duplicate_names(plan: Plan) -> Iterable[Finding]:
    yield from _duplicates([p.id for p in plan.people], ("people",), "id", "person id")
    yield from _duplicates([p.email.lower() for p in plan.people], ("people",), "email", "email")
    yield from _duplicates(
        [d.name for d in plan.departments], ("departments",), "name", "department name"
    )
    yield from _duplicates([g.name for g in plan.gates], ("gates",), "name", "gate name")
    yield from _duplicates([p.name for p in plan.phases], ("phases",), "name", "phase name")
    yield from _duplicates([m.name for m in plan.metrics], ("metrics",), "name", "metric name")
    yield from _duplicates([c.name for c in plan.channels], ("channels",), "name", "channel name")
    yield from _duplicates(
        [k.name for k in plan.program.kpis], ("program", "kpis"), "name", "KPI name"
    )
    for d, dept in enumerate(plan.departments):
        yield from _duplicates(
            [u.name for u in dept.use_cases],
            ("departments", d, "use_cases"),
            "name",
            "use case name",
        )
        yield from _duplicate_modules(dept, d)
    for p, phase in enumerate(plan.phases):
        yield from _duplicates(phase.exit_gates, ("phases", p, "exit_gates"), None, "exit gate")


def _duplicate_modules(dept: Department, d: int) -> Iterable[Finding]:
    # Module ids are unique across the three segments: progress is tracked by id.
    seen: dict[str, PathKey] = {}
    for segment in ("power", "casual", "self_service"):
        for index, module in enumerate(getattr(dept.training, segment)):
            path: PathKey = ("departments", d, "training", segment, index, "id")
            if module.id in seen:
                yield (
                    path,
                    f"training module id {quoted(module.id)} is used twice in department "
                    f"{quoted(dept.name)} (first at {format_path(seen[module.id])}): "
                    "make each module id unique",
                )
            else:
                seen[module.id] = path


# --------------------------------------------------------------------------- references


def _program_refs(plan: Plan) -> Iterable[Finding]:
    for field in ("sponsor", "lead"):
        message = _unknown_person(plan, getattr(plan.program, field), f"program {field}")
        if message:
            yield ("program", field), message
    yield from _channel_ref(plan, plan.program.email_channel, "email", ("program", "email_channel"))
    yield from _channel_ref(plan, plan.program.chat_channel, "chat", ("program", "chat_channel"))


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _channel_ref(plan: Plan, name: str | None, kind: str, path: PathKey) -> Iterable[Finding]:
    if name is None:
        return
    channels = {c.name: c for c in plan.channels}
    channel = channels.get(name)
    right_kind = [c.name for c in plan.channels if c.kind == kind]
    if quoted(name) != f"'{name}'":
        yield (
            path,
            "this names a channel, but holds what looks like its URL, which is a secret and must "
            f"not be written in the plan: define {_a(kind)} channel under channels with url "
            "'env:NAME' or 'secret:BLOCK-NAME', and write the channel's name here",
        )
    elif channel is None:
        yield (
            path,
            f"channel {quoted(name)} is not defined under channels: add {_a(kind)} channel "
            f"with this name or fix the name{_suggest(name, right_kind)}",
        )
    elif channel.kind != kind:
        yield (
            path,
            f"channel {quoted(name)} is {_a(channel.kind)} channel, but this needs "
            f"{_a(kind)} channel: name a channel of kind {kind}{_suggest(name, right_kind)}",
        )


def _people_refs(plan: Plan) -> Iterable[Finding]:
    names = [d.name for d in plan.departments]
    for i, person in enumerate(plan.people):
        if person.department is not None and person.department not in names:
            yield (
                ("people", i, "department"),
                f"department {quoted(person.department)} is not defined under departments: fix the "
                f"name or add the department{_suggest(person.department, names)}",
            )


def _department_refs(plan: Plan) -> Iterable[Finding]:
    phases = plan.phase_names()
    names = {d.name for d in plan.departments}
    departments_of = {p.id: p.department for p in plan.people}
    for d, dept in enumerate(plan.departments):
        base: PathKey = ("departments", d)
        message = _unknown_person(plan, dept.sponsor, "sponsor") if dept.sponsor else None
        if message:
            yield (*base, "sponsor"), message
        for c, champion in enumerate(dept.champions):
            # Champions, support owners and approvers may be roster people, whom the plan
            # cannot know: `apply` checks them against the roster (core.roster).
            home = departments_of.get(champion)
            # An unknown home department is reported on the person already.
            if home is not None and home != dept.name and home in names:
                yield (
                    (*base, "champions", c),
                    f"champion {quoted(champion)} belongs to department {quoted(home)} "
                    f"(their people: entry says so) but is listed under {quoted(dept.name)}: "
                    "fix the person's department or list them under their own department",
                )
        if dept.initial_phase is not None and dept.initial_phase not in phases:
            yield (
                (*base, "initial_phase"),
                f"initial phase {quoted(dept.initial_phase)} is not defined under phases: use one "
                f"of the phase names{_suggest(dept.initial_phase, phases)}",
            )
        yield from _channel_ref(plan, dept.chat_channel, "chat", (*base, "chat_channel"))
        yield from _kpi_refs(plan, dept, base)


def _kpi_refs(plan: Plan, dept: Department, base: PathKey) -> Iterable[Finding]:
    known = {k.name for k in plan.program.kpis} | {m.name for m in plan.metrics}
    for u, use_case in enumerate(dept.use_cases):
        for k, target in enumerate(use_case.kpis):
            if target.kpi not in known:
                yield (
                    (*base, "use_cases", u, "kpis", k, "kpi"),
                    f"KPI {quoted(target.kpi)} is neither a program KPI nor a metric: add it under "
                    f"program.kpis or metrics, or fix the name{_suggest(target.kpi, known)}",
                )


def _gate_refs(plan: Plan) -> Iterable[Finding]:
    ids = {p.id for p in plan.people}
    metrics = [m.name for m in plan.metrics]
    for g, gate in enumerate(plan.gates):
        if gate.owner not in ids and gate.owner not in OWNER_ROLES:
            yield (
                ("gates", g, "owner"),
                f"owner {quoted(gate.owner)} is neither a person id nor a department role: use a "
                f"person id or one of {', '.join(OWNER_ROLES)}"
                f"{_suggest(gate.owner, [*ids, *OWNER_ROLES], listing=False)}",
            )
        if isinstance(gate, MetricGate | TrendGate) and gate.metric not in metrics:
            yield (
                ("gates", g, "metric"),
                f"metric {quoted(gate.metric)} is not declared under metrics, so nothing feeds it "
                "and this gate would stay pending forever: declare it under metrics or fix the name"
                f"{_suggest(gate.metric, metrics)}",
            )
        if isinstance(gate, ApprovalGate):
            yield from _approval_problems(plan, g, gate)


def _gate_overrides(plan: Plan) -> Iterable[Finding]:
    """A department's override names a gate of the plan and a number that gate has."""
    gates = {g.name: g for g in plan.gates}
    for d, dept in enumerate(plan.departments):
        for name, override in dept.gate_overrides.items():
            base = ("departments", d, "gate_overrides", name)
            gate = gates.get(name)
            if gate is None:
                yield (
                    base,
                    f"gate {quoted(name)} is not defined under gates, so there is nothing to "
                    f"override: fix the name{_suggest(name, gates)}",
                )
                continue
            for field, why in override_problems(gate, override):
                yield ((*base, field), why)


def _metric_ranges(plan: Plan) -> Iterable[Finding]:
    """A declared min above the unit's top (or max below its bottom) leaves no valid value."""
    for i, metric in enumerate(plan.metrics):
        domain = domain_of(plan, metric.name)
        if domain.low > domain.high:
            end = "min" if metric.min is not None else "max"
            yield (
                ("metrics", i, end),
                f"metric {quoted(metric.name)} can take no value: its range would be "
                f"{shown(domain.low)} to {shown(domain.high)}; declare both min and max",
            )


def _approval_problems(plan: Plan, g: int, gate: ApprovalGate) -> Iterable[Finding]:
    yield from _duplicates(gate.approvers, ("gates", g, "approvers"), None, "approver")
    if not gate.approvers:
        yield (
            ("gates", g, "approvers"),
            f"approval gate {quoted(gate.name)} has no approvers, so it can never pass: "
            "list the person ids who may approve",
        )
    elif gate.required > len(set(gate.approvers)):
        yield (
            ("gates", g, "required"),
            f"approval gate {quoted(gate.name)} needs {gate.required} approvals but names only "
            f"{len(set(gate.approvers))} approver(s), so it can never pass: "
            "lower required or add approvers",
        )


def _never_passes(gate: Any) -> bool:
    return isinstance(gate, ApprovalGate) and (
        not gate.approvers or gate.required > len(set(gate.approvers))
    )


def _phase_refs(plan: Plan) -> Iterable[Finding]:
    gates: dict[str, Any] = {}
    for defined in plan.gates:
        gates.setdefault(defined.name, defined)
    last = len(plan.phases) - 1
    for p, phase in enumerate(plan.phases):
        for i, name in enumerate(phase.exit_gates):
            gate = gates.get(name)
            if gate is None:
                yield (
                    ("phases", p, "exit_gates", i),
                    f"gate {quoted(name)} is not defined under gates: define the gate or fix the "
                    f"name{_suggest(name, gates)}",
                )
            elif p != last and _never_passes(gate):
                yield (
                    ("phases", p, "exit_gates", i),
                    f"phase {quoted(phase.name)} can never be left: its exit gate {quoted(name)} "
                    "can never pass (see that gate's problem); fix the gate or remove it from "
                    "exit_gates",
                )
        if phase.on_regression is not None:
            yield from _regression_target(plan, p, phase.on_regression.rollback_to)
        # The first phase is left when the department's wave starts, and the last phase
        # is never left; every phase in between needs something that holds departments.
        if 0 < p < last and not phase.exit_gates and phase.min_soak is None:
            yield (
                ("phases", p),
                f"phase {phase.name} has no exit gates and no min_soak: add a gate or a "
                "min_soak, or remove the phase",
            )


def _regression_target(plan: Plan, p: int, target: str) -> Iterable[Finding]:
    """Only the last phase is monitored without end, so only it can regress; it goes back to
    a phase before it (the first one means "not started": out of the rollout)."""
    names = plan.phase_names()
    path: PathKey = ("phases", p, "on_regression", "rollback_to")
    if p != len(names) - 1:
        yield (
            ("phases", p, "on_regression"),
            f"on_regression applies to the last phase only ({quoted(names[-1])}): a phase "
            "before it holds departments until its gates pass; move it to the last phase",
        )
    elif target not in names[:p]:
        yield (
            path,
            f"rollback_to {quoted(target)} is not a phase before {quoted(names[p])}: name one "
            f"of {', '.join(names[:p])}{_suggest(target, names[:p], listing=False)}",
        )


# --------------------------------------------------------------------------- waves


def _rollout_refs(plan: Plan) -> Iterable[Finding]:
    phases = plan.phase_names()
    rollout = plan.rollout
    if rollout.default_reaches is not None and rollout.default_reaches not in phases:
        yield (
            ("rollout", "default_reaches"),
            f"phase {quoted(rollout.default_reaches)} is not defined under phases: use one of the "
            f"phase names{_suggest(rollout.default_reaches, phases)}",
        )
    for r, rule in enumerate(rollout.waves):
        if rule.reaches not in phases:
            yield (
                ("rollout", "waves", r, "reaches"),
                f"phase {quoted(rule.reaches)} is not defined under phases: use one of the phase "
                f"names{_suggest(rule.reaches, phases)}",
            )


def _waves(plan: Plan) -> Iterable[Finding]:
    first_department: dict[int, int] = {}
    for d, dept in enumerate(plan.departments):
        first_department.setdefault(dept.wave, d)
    in_use = sorted(first_department)
    listing = ", ".join(str(w) for w in in_use)
    rules: dict[int, int] = {}
    for r, rule in enumerate(plan.rollout.waves):
        base: PathKey = ("rollout", "waves", r)
        if rule.wave in rules:
            yield (
                (*base, "wave"),
                f"a second rule for wave {rule.wave} (the first is "
                f"{format_path(('rollout', 'waves', rules[rule.wave]))}): keep one rule per wave",
            )
            continue
        rules[rule.wave] = r
        if rule.wave not in first_department:
            yield (
                (*base, "wave"),
                f"no department is in wave {rule.wave}, so this rule has no effect: fix the wave "
                f"number or remove the rule (waves in use: {listing})",
            )
        if rule.after_wave >= rule.wave:
            yield (
                (*base, "after_wave"),
                f"wave {rule.wave} cannot wait for wave {rule.after_wave}: after_wave must be "
                f"lower than wave, or the wave never starts",
            )
        elif rule.after_wave not in first_department:
            yield (
                (*base, "after_wave"),
                f"wave {rule.wave} waits for wave {rule.after_wave}, which has no departments, "
                f"so it can never start: point after_wave at a wave in use ({listing})",
            )
    for wave in in_use[1:]:
        if wave in rules:
            continue
        path: PathKey = ("departments", first_department[wave], "wave")
        if plan.rollout.default_reaches is None:
            yield (
                path,
                f"wave {wave} can never start: no rule under rollout.waves says when, and "
                f"rollout.default_reaches is not set; add a rule such as {{wave: {wave}, "
                f"after_wave: {wave - 1}, reaches: PHASE}} or set rollout.default_reaches",
            )
        elif wave - 1 not in first_department:
            yield (
                path,
                f"wave {wave} can never start: it waits for wave {wave - 1}, which has no "
                f"departments; renumber the waves or add a rule for wave {wave} whose "
                f"after_wave is a wave in use ({listing})",
            )


_RULES: tuple[Callable[[Plan], Iterable[Finding]], ...] = (
    _duplicate_names,
    _program_refs,
    _people_refs,
    _department_refs,
    _gate_refs,
    _gate_overrides,
    _metric_ranges,
    _phase_refs,
    _rollout_refs,
    _waves,
)
