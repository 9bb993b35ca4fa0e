"""The readiness check and the roster: it refuses to run on a plan that names someone who
left the roster, and warns where the plan's headcount is off (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from pilotscale.engine.check import UnknownPeople, prepare_check
from tests.pilotscale.store.helpers import NOW, PLAN, edit
from tests.pilotscale.store.test_roster_rows import ROSTER, apply, import_roster


def test_the_check_refuses_a_plan_naming_someone_who_left_the_roster(
    engine: Engine, tmp_path: Path
) -> None:
    apply(engine)
    import_roster(engine, tmp_path, ROSTER)
    apply(engine, edit(PLAN, "champions: [lola.champion]", "champions: [lola.champion, e1002]"))
    prepare_check(engine=engine, now=NOW)  # e1002 is on the roster: fine
    without = "".join(line for line in ROSTER.splitlines(keepends=True) if "E1002" not in line)
    import_roster(engine, tmp_path, without, days=1)

    with pytest.raises(UnknownPeople) as refused:
        prepare_check(engine=engine, now=NOW)

    assert refused.value.problems == [
        "departments[2].champions[1]: champion 'e1002' is neither under people nor on the "
        "active roster: add the person to the plan, or import a roster that lists them "
        "(pilotscale people import FILE)"
    ]


def test_the_check_warns_where_the_plans_headcount_is_off(engine: Engine, tmp_path: Path) -> None:
    apply(engine)
    assert prepare_check(engine=engine, now=NOW).warnings == []  # no roster: nothing to say

    import_roster(engine, tmp_path, ROSTER)

    assert prepare_check(engine=engine, now=NOW).warnings == [
        "plan: departments[support].headcount 50 but the roster has 1 active person",
        "plan: departments[finance].headcount 120 but the roster has 3 active people",
        "plan: departments[legal].headcount 12 but the roster has 2 active people",
    ]
