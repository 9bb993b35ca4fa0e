"""The essentials every department needs before it is rolled out, from the seeds'
scaling checklist: a sponsor, at least one champion, a use case with a KPI, and an owner
for each of the four support areas (technical, adoption, content, governance); and a
last phase with monitoring gates, without which an operating department is never watched.

A plan missing one of them is valid YAML and a consistent plan (the cross-checks pass),
yet a department would advance on soak time alone: `validate` and `apply` refuse it
unless `--allow-incomplete`, which turns each missing essential into a warning. The
monitoring gates are always a warning: a program may choose to stop watching.

Pure: a plan in, findings out; the loader turns paths into lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pilotscale.plan.problems import PathKey, quoted
from pilotscale.plan.schema import Department, Plan, SoakGate

SUPPORT_AREAS = ("technical", "adoption", "content", "governance")


class Severity(StrEnum):
    missing = "missing"  # refused unless --allow-incomplete
    warning = "warning"  # always only a warning


@dataclass(frozen=True)
class Essential:
    path: PathKey  # the field that is missing or short; the loader locates its nearest line
    message: str
    severity: Severity


def essentials(plan: Plan) -> list[Essential]:
    """Every missing essential of `plan`, departments in plan order, then the last phase."""
    found: list[Essential] = []
    for d, dept in enumerate(plan.departments):
        found.extend(_department(dept, ("departments", d)))
    found.extend(_monitoring(plan))
    return found


def _department(dept: Department, base: PathKey) -> Iterable[Essential]:
    name = quoted(dept.name)
    # Absent or blank alike: the cross-checks check only a sponsor that is named.
    if not (dept.sponsor or "").strip():
        yield Essential(
            (*base, "sponsor"),
            f"department {name} has no sponsor: name the executive who backs it "
            "(a person id under people)",
            Severity.missing,
        )
    if not dept.champions:
        yield Essential(
            (*base, "champions"),
            f"department {name} has no champions: list at least one person id under "
            "champions (peers who help others use the assistant)",
            Severity.missing,
        )
    if not any(use_case.kpis for use_case in dept.use_cases):
        what = "no use cases" if not dept.use_cases else "no use case with a KPI"
        yield Essential(
            (*base, "use_cases"),
            f"department {name} has {what}: add a use case under use_cases with at least "
            "one kpis: entry (kpi, target), so its value can be measured",
            Severity.missing,
        )
    missing = [area for area in SUPPORT_AREAS if getattr(dept.support, area) is None]
    if missing:
        yield Essential(
            (*base, "support"),
            f"department {name} has no support owner for {', '.join(missing)}: name a "
            f"person id for each under support ({', '.join(SUPPORT_AREAS)})",
            Severity.missing,
        )


def _monitoring(plan: Plan) -> Iterable[Essential]:
    last = len(plan.phases) - 1
    phase = plan.phases[last]
    gates = plan.gates_by_name
    # A soak gate watches nothing: it only counts time in the phase. An undefined gate
    # counts as watching: the cross-checks report it, and once is enough.
    watching = [name for name in phase.exit_gates if not isinstance(gates.get(name), SoakGate)]
    if not watching:
        yield Essential(
            ("phases", last, "exit_gates"),
            f"the last phase {quoted(phase.name)} has no monitoring gates, so departments in it "
            "are never watched (status says 'monitor' whatever happens): list the gates that "
            "must keep passing under its exit_gates, e.g. a usage metric",
            Severity.warning,
        )
