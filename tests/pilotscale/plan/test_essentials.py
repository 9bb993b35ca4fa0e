"""The essentials (pilotscale.plan.essentials): table-driven over one complete plan, each
row taking one essential away; and the loader's three ways of treating them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pilotscale.plan.essentials import Severity, essentials
from pilotscale.plan.loader import Essentials, load_plan_text
from pilotscale.plan.problems import PlanError
from pilotscale.plan.schema import Plan
from tests.pilotscale.plan.helpers import edit
from tests.plans import plan_dict

Change = Callable[[dict[str, Any]], None]


def _dept(data: dict[str, Any], index: int = 0) -> dict[str, Any]:
    department: dict[str, Any] = data["departments"][index]
    return department


def _set(key: str, value: Any, index: int = 0) -> Change:
    return lambda data: _dept(data, index).__setitem__(key, value)


def _support(**owners: str | None) -> Change:
    def change(data: dict[str, Any]) -> None:
        support = _dept(data)["support"]
        for area, owner in owners.items():
            if owner is None:
                support.pop(area)
            else:
                support[area] = owner

    return change


def _last_phase_gates(gates: list[str]) -> Change:
    return lambda data: data["phases"][-1].__setitem__("exit_gates", gates)


def _add_soak_gate(data: dict[str, Any]) -> None:
    data["gates"].append(
        {"name": "settle", "kind": "soak", "title": "Settled", "owner": "lead", "duration": "1w"}
    )


# (case, change, expected (path, severity, words in the message))
CASES: list[tuple[str, list[Change], list[tuple[tuple[Any, ...], Severity, str]]]] = [
    ("complete", [], []),
    (
        "no sponsor at all: an essential, not a schema error",
        [lambda data: _dept(data).pop("sponsor")],
        [(("departments", 0, "sponsor"), Severity.missing, "'d001' has no sponsor")],
    ),
    (
        "blank sponsor",
        [_set("sponsor", "  ")],
        [(("departments", 0, "sponsor"), Severity.missing, "'d001' has no sponsor")],
    ),
    (
        "no champions",
        [_set("champions", [])],
        [(("departments", 0, "champions"), Severity.missing, "'d001' has no champions")],
    ),
    (
        "no use cases",
        [_set("use_cases", [])],
        [(("departments", 0, "use_cases"), Severity.missing, "'d001' has no use cases")],
    ),
    (
        "use cases without a KPI",
        [_set("use_cases", [{"name": "a", "title": "A"}, {"name": "b", "title": "B"}])],
        [(("departments", 0, "use_cases"), Severity.missing, "no use case with a KPI")],
    ),
    (
        "one use case of two has a KPI: enough",
        [
            _set(
                "use_cases",
                [
                    {"name": "a", "title": "A"},
                    {
                        "name": "b",
                        "title": "B",
                        "kpis": [{"kpi": "weekly_active_rate", "target": 1}],
                    },
                ],
            )
        ],
        [],
    ),
    (
        "one support owner missing",
        [_support(content=None)],
        [(("departments", 0, "support"), Severity.missing, "no support owner for content:")],
    ),
    (
        "every support owner missing, named in order",
        [_set("support", {})],
        [
            (
                ("departments", 0, "support"),
                Severity.missing,
                "no support owner for technical, adoption, content, governance:",
            )
        ],
    ),
    (
        "another department: its own index",
        [_set("champions", [], index=2)],
        [(("departments", 2, "champions"), Severity.missing, "'d003' has no champions")],
    ),
    (
        "everything missing in one department: each said once",
        [_set("champions", []), _set("use_cases", []), _set("support", {})],
        [
            (("departments", 0, "champions"), Severity.missing, "no champions"),
            (("departments", 0, "use_cases"), Severity.missing, "no use cases"),
            (("departments", 0, "support"), Severity.missing, "no support owner"),
        ],
    ),
    (
        "last phase without gates",
        [_last_phase_gates([])],
        [(("phases", 4, "exit_gates"), Severity.warning, "'operating' has no monitoring gates")],
    ),
    (
        "last phase with only a soak gate watches nothing",
        [_add_soak_gate, _last_phase_gates(["settle"])],
        [(("phases", 4, "exit_gates"), Severity.warning, "no monitoring gates")],
    ),
    (
        "a soak gate beside a monitoring gate is fine",
        [_add_soak_gate, _last_phase_gates(["settle", "weekly-active"])],
        [],
    ),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [(c, e) for _, c, e in CASES], ids=[case for case, _, _ in CASES]
)
def test_essentials(
    changes: list[Change], expected: list[tuple[tuple[Any, ...], Severity, str]]
) -> None:
    data = plan_dict(3)
    for change in changes:
        change(data)
    plan = Plan.model_validate(data)

    found = essentials(plan)

    assert [(e.path, e.severity) for e in found] == [(p, s) for p, s, _ in expected]
    for item, (_, _, words) in zip(found, expected, strict=True):
        assert words in item.message, item.message


# ---------------------------------------------------------------- the loader's three ways


def test_skip_loads_an_incomplete_plan_silently(plan_text: str) -> None:
    # Plans read back from the store (flows, the web app) were checked when applied.
    loaded = load_plan_text(plan_text)

    assert loaded.warnings == ()


def test_refuse_lists_the_missing_essentials_as_problems_and_warns_about_monitoring(
    plan_text: str,
) -> None:
    with pytest.raises(PlanError) as info:
        load_plan_text(plan_text, check=Essentials.refuse)

    assert [(p.line, p.path) for p in info.value.problems] == [
        (66, "departments[0].support"),
        (67, "departments[1].support"),
        (67, "departments[1].use_cases"),
    ]
    assert [(p.line, p.path) for p in info.value.warnings] == [(27, "phases[2].exit_gates")]


def test_warn_loads_with_every_missing_essential_as_a_located_warning(plan_text: str) -> None:
    loaded = load_plan_text(plan_text, check=Essentials.warn)

    assert [(p.line, p.path) for p in loaded.warnings] == [
        (27, "phases[2].exit_gates"),
        (66, "departments[0].support"),
        (67, "departments[1].support"),
        (67, "departments[1].use_cases"),
    ]


def test_a_complete_plan_has_nothing_to_say(complete_plan_text: str) -> None:
    loaded = load_plan_text(complete_plan_text, check=Essentials.refuse)

    assert loaded.warnings == ()


@pytest.mark.parametrize(
    ("old", "new", "paths"),
    [
        ("champions: [lola.champion]", "champions: lola.champion", ["departments[1].champions"]),
        (
            "governance: it.desk}\n  - name: legal",
            "governance: 7}\n  - name: legal",
            ["departments[0].support.governance"],
        ),
        ("exit_gates: [weekly-active]}", "exit_gates: weekly-active}", ["phases[2].exit_gates"]),
        # Cut away, the last phase would leave 'piloting' last: no warning about that (the
        # reference to 'operating' is a problem of its own: no phase has that name now).
        (
            "{name: operating, exit_gates",
            "{name: Operating!, exit_gates",
            ["phases[2].name", "rollout.default_reaches"],
        ),
    ],
    ids=["champions", "a support owner", "monitoring gates", "the last phase itself"],
)
def test_a_field_the_schema_refused_is_not_also_missing(
    complete_plan_text: str, old: str, new: str, paths: list[str]
) -> None:
    # The refused field is cut away before the cross-checks and essentials run on the
    # rest; "no champions" after "champions: not a list" would say one problem twice.
    text = edit(complete_plan_text, old, new)

    with pytest.raises(PlanError) as info:
        load_plan_text(text, check=Essentials.refuse)

    assert [p.path for p in info.value.problems] == paths
    assert info.value.warnings == []


def test_essentials_of_the_rest_are_reported_with_a_schema_problem(plan_text: str) -> None:
    # One run shows all: the schema problem elsewhere does not hide the essentials.
    text = edit(plan_text, "min_soak: 2w", "min_soak: soon")

    with pytest.raises(PlanError) as info:
        load_plan_text(text, check=Essentials.refuse)

    assert [p.path for p in info.value.problems] == [
        "phases[1].min_soak",
        "departments[0].support",
        "departments[1].support",
        "departments[1].use_cases",
    ]
    assert [p.path for p in info.value.warnings] == ["phases[2].exit_gates"]
