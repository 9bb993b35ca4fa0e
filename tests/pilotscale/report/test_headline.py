"""The headline as a table: facts in, the sentences and tiles an executive reads out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from pilotscale.metrics.budget import BudgetProjection
from pilotscale.metrics.forecast import DepartmentForecast
from pilotscale.report.data import DepartmentRow, GateRow, ReportData
from pilotscale.report.headline import headline

AS_OF = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)
PHASES = [("planned", "Planned"), ("piloting", "Piloting"), ("operating", "Operating")]


@dataclass(frozen=True)
class D:
    """A department in one line: phase index, status, overall, holding gates, forecast."""

    title: str
    phase: int
    status: str = "active"
    overall: str | None = None
    gates: tuple[tuple[str, str, str, int], ...] = ()  # (title, outcome, owner, stuck checks)
    when: datetime | None = None


@dataclass(frozen=True)
class Case:
    departments: list[D]
    approved: float = 500_000
    annual: float = 400_000
    says: list[str] = field(default_factory=list)
    tiles: tuple[int, int, int, int] = (0, 0, 0, 0)  # operating, in flight, held, blocked


def _row(i: int, d: D) -> DepartmentRow:
    return DepartmentRow(
        name=f"d{i}",
        title=d.title,
        wave=1,
        phase=PHASES[d.phase][0],
        phase_index=d.phase,
        status=d.status,
        since=date(2026, 9, 1),
        started=d.phase > 0,
        overall=d.overall if d.phase > 0 else None,
        gates=tuple(
            GateRow(t.lower(), t, "metric", o, "", "", "", who, s) for t, o, who, s in d.gates
        ),
        held=d.phase > 0 and d.overall != "pass",
        forecast=DepartmentForecast(d.when, "", ()) if d.phase > 0 else None,
    )


def _data(case: Case) -> ReportData:
    return ReportData(
        program="p",
        title="P",
        as_of=AS_OF,
        timezone="Europe/Madrid",
        currency="EUR",
        phases=PHASES,
        departments=[_row(i, d) for i, d in enumerate(case.departments)],
        program_impact=[],
        department_impact={},
        use_cases=[],
        funnel=[],
        curve=None,
        budget=BudgetProjection(
            currency="EUR",
            users=100,
            licences=case.annual,
            usage=0,
            support=0,
            training=0,
            approved=case.approved,
            pilot=50_000,
            departments=(),
        ),
    )


SECURITY = ("Security review", "fail", "Jane Roe", 0)
TRAINING = ("Training done", "pending", "Ana Ruiz", 0)
STUCK = ("Guardrails", "pending", "Compliance", 4)

CASES = {
    "nothing started": Case(
        [D("HR", 0), D("Sales", 0)],
        says=[
            "0 of 2 departments operating (2 not started); nothing is in the way.",
            "Full scale projects EUR 400,000 a year, EUR 100,000 under the approved "
            "EUR 500,000 (80%); no department is waiting to advance.",
        ],
    ),
    "in flight advances at the next check": Case(
        [D("HR", 1, overall="pass"), D("Sales", 2, overall="pass")],
        says=[
            "1 of 2 departments operating and 1 in flight; nothing is in the way.",
            "next to advance: HR, at the next readiness check.",
        ],
        tiles=(1, 1, 0, 0),
    ),
    "the earliest forecast, in the plan's time zone": Case(
        [
            D(
                "HR",
                1,
                overall="pending",
                gates=(TRAINING,),
                when=datetime(2026, 11, 2, 23, 30, tzinfo=UTC),
            ),
            D(
                "Sales",
                1,
                overall="fail",
                gates=(SECURITY,),
                when=datetime(2026, 10, 20, tzinfo=UTC),
            ),
        ],
        says=[
            "0 of 2 departments operating and 2 held",
            "next expected to advance: Sales, around 2026-10-20.",
        ],
        tiles=(0, 0, 2, 0),
    ),
    "a date is the plan's day": Case(
        [D("HR", 1, overall="pending", when=datetime(2026, 11, 2, 23, 30, tzinfo=UTC))],
        says=["next expected to advance: HR, around 2026-11-03."],  # already the 3rd in Madrid
        tiles=(0, 0, 1, 0),
    ),
    "a blocked department's gate comes first": Case(
        [
            D("HR", 1, overall="pending", gates=(TRAINING,)),
            D("Ops", 1, overall="pending", gates=(TRAINING,)),
            D("Sales", 1, status="blocked", overall="fail", gates=(SECURITY,)),
        ],
        says=[
            "most in the way: Security review (failing, owner Jane Roe), holding Sales.",
            "no held department has a date to advance at the current trend.",
        ],
        tiles=(0, 0, 2, 1),
    ),
    "the gate holding most departments": Case(
        [
            D("HR", 1, overall="fail", gates=(SECURITY,)),
            D("Ops", 1, overall="pending", gates=(TRAINING,)),
            D("Sales", 1, overall="pending", gates=(TRAINING,)),
        ],
        says=["most in the way: Training done (pending, owner Ana Ruiz), holding Ops and Sales."],
        tiles=(0, 0, 3, 0),
    ),
    "failing before stuck, stuck before pending": Case(
        [D("HR", 1, overall="pending", gates=(TRAINING, STUCK))],
        says=["most in the way: Guardrails (stuck, owner Compliance), holding HR."],
        tiles=(0, 0, 1, 0),
    ),
    "operating but watched, paused named": Case(
        [
            D("CS", 2, overall="pending", gates=(STUCK,)),
            D("HR", 2, overall="pass"),
            D("Ops", 1, status="paused"),
        ],
        says=["2 of 3 departments operating and 1 paused; most in the way: Guardrails"],
        tiles=(2, 0, 0, 0),
    ),
    "over budget": Case(
        [D("HR", 0)],
        annual=600_000,
        says=["EUR 100,000 over the approved EUR 500,000 (120%)"],
    ),
    "no budget approved": Case(
        [D("HR", 0)],
        approved=0,
        says=["Full scale projects EUR 400,000 a year, with no scale budget approved;"],
    ),
    "an empty plan": Case([], says=["No department is in the plan yet."]),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_headline(case: Case) -> None:
    lead = headline(_data(case))

    for part in case.says:
        assert part in lead.text, lead.text
    assert tuple(t.value for t in lead.tiles) == case.tiles
    assert [t.label for t in lead.tiles] == ["operating", "in flight", "held", "blocked"]


def test_the_operating_tile_splits_healthy_and_watched() -> None:
    lead = headline(_data(CASES["operating but watched, paused named"]))

    assert lead.tiles[0].note == "1 healthy, 1 watched"
