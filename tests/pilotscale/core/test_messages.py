"""Entry messages of the pure core: where an announcement goes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pilotscale.core.messages import entry_work
from pilotscale.plan.loader import load_plan
from pilotscale.plan.schema import Plan

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "acme-ai-assistant.yaml"
NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)


def _announced(plan: Plan, department: str) -> list[str]:
    dept = next(d for d in plan.departments if d.name == department)
    phase = next(p.name for p in plan.phases if "announce" in p.entry_actions)
    work = entry_work(plan, dept, phase, now=NOW, members=[], previous_phase=None)
    return [m.recipient for m in work.messages if m.event == "department_advanced"]


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(EXAMPLE).plan


def test_a_department_with_its_own_room_is_announced_there(plan: Plan) -> None:
    assert _announced(plan, "hr") == ["channel:hr-chat"]


def test_a_department_without_a_room_is_announced_in_the_programs(plan: Plan) -> None:
    roomless = next(d.name for d in plan.departments if d.chat_channel is None)

    assert _announced(plan, roomless) == [f"channel:{plan.program.chat_channel}"]


def test_no_room_anywhere_means_no_announcement(plan: Plan) -> None:
    quiet = plan.model_copy(
        update={"program": plan.program.model_copy(update={"chat_channel": None})}
    )
    roomless = next(d.name for d in plan.departments if d.chat_channel is None)

    assert _announced(quiet, roomless) == []
