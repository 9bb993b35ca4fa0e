"""Plan changes in words a program lead reads."""

from __future__ import annotations

from pilotscale.store.plandiff import describe_plan_changes, diff, diff_named
from tests.pilotscale.store.helpers import PLAN, edit, load


def test_scalars_show_old_and_new() -> None:
    assert diff({"headcount": 120, "title": "HR"}, {"headcount": 140, "title": "HR"}) == [
        "headcount 120 → 140"
    ]
    assert diff({"chat": None}, {"chat": "@ana"}) == ["chat none → @ana"]
    assert diff({"threshold": 0.5}, {"threshold": 1.0}) == ["threshold 0.5 → 1"]


def test_nested_fields_use_dotted_paths() -> None:
    old = {"support": {"technical": "it", "content": None}}
    new = {"support": {"technical": "it", "content": "kb"}}
    assert diff(old, new) == ["support.content none → kb"]


def test_lists_of_names_say_what_was_added_and_removed() -> None:
    assert diff({"champions": ["a", "b"]}, {"champions": ["b", "c"]}) == [
        "champions: added c; removed a"
    ]
    assert diff({"champions": ["a", "b"]}, {"champions": ["b", "a"]}) == ["champions reordered"]


def test_lists_of_named_items_are_matched_by_name() -> None:
    old = [{"name": "a", "target": 1}, {"name": "b", "target": 2}]
    new = [{"name": "a", "target": 5}, {"name": "c", "target": 2}]
    assert diff_named("kpi", old, new) == ["kpi a: target 1 → 5", "kpi c added", "kpi b removed"]


def test_long_values_are_only_said_to_have_changed() -> None:
    assert diff({"description": "x" * 50}, {"description": "y" * 50}) == ["description changed"]


def test_plan_sections() -> None:
    old = load().plan.model_dump(mode="json")
    text = edit(PLAN, "  - name: go-ahead\n", "  - name: sign-off\n")
    text = edit(
        text, "exit_gates: [weekly-active, go-ahead]", "exit_gates: [weekly-active, sign-off]"
    )
    text = edit(text, "max_active: 1", "max_active: 2")
    text = edit(text, "title: Helpdesk bot", "title: Helpdesk assistant")
    new = load(text).plan.model_dump(mode="json")

    assert describe_plan_changes(old, new) == [
        "program: title Helpdesk bot → Helpdesk assistant",
        "phase piloting: exit_gates: added sign-off; removed go-ahead",
        "gate sign-off added (approval)",
        "gate go-ahead removed",
        "rollout: max_active 1 → 2",
    ]


def test_identical_plans_have_no_changes() -> None:
    data = load().plan.model_dump(mode="json")
    assert describe_plan_changes(data, data) == []
