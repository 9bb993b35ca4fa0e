"""Cross-checks: unknown references, duplicates, gates that never pass, waves that never start."""

from __future__ import annotations

from pilotscale.plan.crosscheck import crosscheck
from pilotscale.plan.loader import load_plan_text
from tests.pilotscale.plan.helpers import edit, problems


def test_the_valid_plan_has_no_findings(plan_text: str) -> None:
    assert crosscheck(load_plan_text(plan_text).plan) == []


# --------------------------------------------------------------------------- unknown references


def test_unknown_people_are_reported_where_they_are_named(plan_text: str) -> None:
    text = edit(
        plan_text, "  sponsor: ines.sponsor\n  lead: leo.lead", "  sponsor: ines\n  lead: boss"
    )
    text = edit(
        text,
        "    sponsor: ines.sponsor\n    champions: [lola",
        "    sponsor: ines.sponsr\n    champions: [lola",
    )
    text = edit(text, "champions: [fran.champion]", "champions: [fran.champion, fran.chmpion]")
    text = edit(text, "adoption: it.desk}", "adoption: it.dsk}")
    text = edit(text, "approvers: [ines.sponsor, leo.lead]", "approvers: [ines.sponsor, leo]")

    assert problems(text) == [
        "plan.yaml:5: program.sponsor: program sponsor 'ines' is not a person under people: add "
        "the person or fix the id (did you mean 'ines.sponsor'?)",
        "plan.yaml:6: program.lead: program lead 'boss' is not a person under people: add the "
        "person or fix the id (known: fran.champion, ines.sponsor, it.desk, leo.lead, "
        "lola.champion)",
        # Champions, support owners and approvers may be roster people: `apply` checks
        # them against the roster (tests/pilotscale/store/test_roster.py), not `validate`.
        "plan.yaml:71: departments[1].sponsor: sponsor 'ines.sponsr' is not a person under "
        "people: add the person or fix the id (did you mean 'ines.sponsor'?)",
    ]


def test_an_unknown_department_of_a_person(plan_text: str) -> None:
    text = edit(plan_text, "department: legal,", "department: legl,")

    assert problems(text) == [
        "plan.yaml:80: people[4].department: department 'legl' is not defined under "
        "departments: fix the name or add the department (did you mean 'legal'?)",
    ]


def test_gate_owners_are_people_or_department_roles(plan_text: str) -> None:
    text = edit(plan_text, "owner: support.adoption", "owner: support.adopt")
    text = edit(text, "owner: leo.lead", "owner: somebody")

    assert problems(text) == [
        "plan.yaml:36: gates[1].owner: owner 'support.adopt' is neither a person id nor a "
        "department role: use a person id or one of sponsor, lead, support.technical, "
        "support.adoption, support.content, support.governance (did you mean 'support.adoption'?)",
        "plan.yaml:43: gates[2].owner: owner 'somebody' is neither a person id nor a department "
        "role: use a person id or one of sponsor, lead, support.technical, support.adoption, "
        "support.content, support.governance",
    ]


def test_unknown_exit_gates_and_phases(plan_text: str) -> None:
    text = edit(plan_text, "weekly-active, go-ahead]", "weekly-activ, go-ahead]")
    text = edit(text, "default_reaches: operating", "default_reaches: operate")
    text = edit(text, "    wave: 0\n", "    wave: 0\n    initial_phase: pilot\n")

    assert problems(text) == [
        "plan.yaml:25: phases[1].exit_gates[1]: gate 'weekly-activ' is not defined under gates: "
        "define the gate or fix the name (did you mean 'weekly-active'?)",
        "plan.yaml:48: rollout.default_reaches: phase 'operate' is not defined under phases: use "
        "one of the phase names (did you mean 'operating'?)",
        "plan.yaml:54: departments[0].initial_phase: initial phase 'pilot' is not defined under "
        "phases: use one of the phase names (did you mean 'piloting'?)",
    ]


def test_an_unknown_phase_in_a_wave_rule(plan_text: str) -> None:
    text = edit(
        plan_text,
        "  default_reaches: operating\n",
        "  waves:\n    - {wave: 1, after_wave: 0, reaches: scaled}\n",
    )

    assert problems(text) == [
        "plan.yaml:49: rollout.waves[0].reaches: phase 'scaled' is not defined under phases: use "
        "one of the phase names (known: operating, piloting, planned)",
    ]


def test_channel_references_must_name_a_channel_of_the_right_kind(plan_text: str) -> None:
    text = edit(
        plan_text,
        "  email_channel: email\n  chat_channel: rollout-chat",
        "  email_channel: rollout-chat\n  chat_channel: rollout",
    )
    text = edit(text, "    chat_channel: rollout-chat\n", "    chat_channel: email\n")

    assert problems(text) == [
        "plan.yaml:14: program.email_channel: channel 'rollout-chat' is a chat channel, but this "
        "needs an email channel: name a channel of kind email (known: email)",
        "plan.yaml:15: program.chat_channel: channel 'rollout' is not defined under channels: add "
        "a chat channel with this name or fix the name (did you mean 'rollout-chat'?)",
        "plan.yaml:73: departments[1].chat_channel: channel 'email' is an email channel, but this "
        "needs a chat channel: name a channel of kind chat (known: rollout-chat)",
    ]


def test_kpi_targets_name_a_program_kpi_or_a_metric(plan_text: str) -> None:
    text = edit(plan_text, "{kpi: tickets_avoided, target: 100}", "{kpi: tickets, target: 100}")

    assert problems(text) == [
        "plan.yaml:60: departments[0].use_cases[0].kpis[0].kpi: KPI 'tickets' is neither a "
        "program KPI nor a metric: add it under program.kpis or metrics, or fix the name "
        "(did you mean 'tickets_avoided'?)",
    ]


def test_a_champion_listed_under_another_department(plan_text: str) -> None:
    text = edit(
        plan_text, "champions: [lola.champion]", "champions: [lola.champion, fran.champion]"
    )

    assert problems(text) == [
        "plan.yaml:72: departments[1].champions[1]: champion 'fran.champion' belongs to "
        "department 'finance' (their people: entry says so) but is listed under 'legal': fix the "
        "person's department or list them under their own department",
    ]


# --------------------------------------------------------------------------- duplicates


def test_duplicate_names_are_reported_at_the_second_one(plan_text: str) -> None:
    text = edit(
        plan_text,
        "  - {name: weekly_active_rate, unit: fraction}\n",
        "  - {name: weekly_active_rate, unit: fraction}\n  - {name: weekly_active_rate}\n",
    )
    text = edit(
        text, "  - name: operating\n", "  - name: planned\n    min_soak: 1d\n  - name: operating\n"
    )
    text = edit(
        text,
        "    required: 1\n",
        "    required: 1\n  - {name: weekly-active, kind: soak, title: t, owner: lead, "
        "duration: 1w}\n",
    )
    text = edit(
        text,
        "    chat_channel: rollout-chat\n",
        "    chat_channel: rollout-chat\n  - {name: finance, title: F, headcount: 1, wave: 0, "
        "sponsor: ines.sponsor}\n",
    )
    text += "  - {id: leo.lead, name: Leo Again, email: LEO@example.com}\n"

    assert problems(text) == [
        "plan.yaml:21: metrics[1].name: metric name 'weekly_active_rate' is used twice (first at "
        "metrics[0].name): make each metric name unique",
        "plan.yaml:28: phases[2].name: phase name 'planned' is used twice (first at "
        "phases[0].name): make each phase name unique",
        "plan.yaml:49: gates[3].name: gate name 'weekly-active' is used twice (first at "
        "gates[1].name): make each gate name unique",
        "plan.yaml:78: departments[2].name: department name 'finance' is used twice (first at "
        "departments[0].name): make each department name unique",
        "plan.yaml:86: people[5].email: email 'leo@example.com' is used twice (first at "
        "people[1].email): make each email unique",
        "plan.yaml:86: people[5].id: person id 'leo.lead' is used twice (first at people[1].id): "
        "make each person id unique",
    ]


def test_duplicate_channels_kpis_use_cases_and_modules(plan_text: str) -> None:
    text = edit(plan_text, "  - {name: rollout-chat, kind: chat,", "  - {name: email, kind: chat,")
    text = edit(text, "  email_channel: email\n  chat_channel: rollout-chat\n", "")
    text = edit(text, "    chat_channel: rollout-chat\n", "")
    text = edit(
        text,
        "    - {name: tickets_avoided, title: Tickets avoided, unit: tickets}\n",
        "    - {name: tickets_avoided, title: Tickets avoided, unit: tickets}\n"
        "    - {name: tickets_avoided, title: Again}\n",
    )
    text = edit(
        text,
        "          - {kpi: tickets_avoided, target: 100}\n",
        "          - {kpi: tickets_avoided, target: 100}\n"
        "      - {name: invoice-questions, title: Again}\n",
    )
    text = edit(
        text, "{id: quick-start, title: Quick start}", "{id: full-course, title: Quick start}"
    )

    assert problems(text) == [
        "plan.yaml:14: program.kpis[1].name: KPI name 'tickets_avoided' is used twice (first at "
        "program.kpis[0].name): make each KPI name unique",
        "plan.yaml:17: channels[1].name: channel name 'email' is used twice (first at "
        "channels[0].name): make each channel name unique",
        "plan.yaml:60: departments[0].use_cases[1].name: use case name 'invoice-questions' is "
        "used twice (first at departments[0].use_cases[0].name): make each use case name unique",
        "plan.yaml:65: departments[0].training.casual[0].id: training module id 'full-course' is "
        "used twice in department 'finance' (first at departments[0].training.power[0].id): make "
        "each module id unique",
    ]


def test_a_gate_listed_twice_in_a_phase(plan_text: str) -> None:
    text = edit(plan_text, "weekly-active, go-ahead]", "weekly-active, go-ahead, weekly-active]")

    assert problems(text) == [
        "plan.yaml:25: phases[1].exit_gates[3]: exit gate 'weekly-active' is used twice (first "
        "at phases[1].exit_gates[1]): make each exit gate unique",
    ]


# --------------------------------------------------------------------------- gates that never pass


def test_a_metric_gate_whose_metric_nobody_feeds(plan_text: str) -> None:
    text = edit(plan_text, "metric: weekly_active_rate", "metric: weekly_active")

    assert problems(text) == [
        "plan.yaml:37: gates[1].metric: metric 'weekly_active' is not declared under metrics, so "
        "nothing feeds it and this gate would stay pending forever: declare it under metrics or "
        "fix the name (did you mean 'weekly_active_rate'?)",
    ]


def test_an_approval_gate_with_no_approvers_traps_its_phase(plan_text: str) -> None:
    text = edit(plan_text, "approvers: [ines.sponsor, leo.lead]", "approvers: []")

    assert problems(text) == [
        "plan.yaml:25: phases[1].exit_gates[2]: phase 'piloting' can never be left: its exit "
        "gate 'go-ahead' can never pass (see that gate's problem); fix the gate or remove it "
        "from exit_gates",
        "plan.yaml:44: gates[2].approvers: approval gate 'go-ahead' has no approvers, so it can "
        "never pass: list the person ids who may approve",
    ]


def test_an_approval_gate_needing_more_approvals_than_approvers(plan_text: str) -> None:
    text = edit(
        plan_text, "approvers: [ines.sponsor, leo.lead]", "approvers: [ines.sponsor, ines.sponsor]"
    )
    text = edit(text, "required: 1", "required: 2")

    assert problems(text) == [
        "plan.yaml:25: phases[1].exit_gates[2]: phase 'piloting' can never be left: its exit "
        "gate 'go-ahead' can never pass (see that gate's problem); fix the gate or remove it "
        "from exit_gates",
        "plan.yaml:44: gates[2].approvers[1]: approver 'ines.sponsor' is used twice (first at "
        "gates[2].approvers[0]): make each approver unique",
        "plan.yaml:45: gates[2].required: approval gate 'go-ahead' needs 2 approvals but names "
        "only 1 approver(s), so it can never pass: lower required or add approvers",
    ]


def test_an_impossible_gate_on_the_last_phase_traps_nothing(plan_text: str) -> None:
    text = edit(plan_text, "weekly-active, go-ahead]", "weekly-active]")
    text = edit(text, "  - name: operating\n", "  - name: operating\n    exit_gates: [go-ahead]\n")
    text = edit(text, "required: 1", "required: 3")

    assert problems(text) == [
        "plan.yaml:46: gates[2].required: approval gate 'go-ahead' needs 3 approvals but names "
        "only 2 approver(s), so it can never pass: lower required or add approvers",
    ]


def test_a_middle_phase_with_no_gates_and_no_soak(plan_text: str) -> None:
    text = edit(plan_text, "  - name: operating\n", "  - name: scaling\n  - name: operating\n")

    assert problems(text) == [
        "plan.yaml:27: phases[2]: phase scaling has no exit gates and no min_soak: add a gate or "
        "a min_soak, or remove the phase",
    ]


def test_a_soak_alone_is_a_way_out_and_the_first_phase_waits_for_its_wave(
    plan_text: str,
) -> None:
    # 'planned' has neither gates nor soak: a department leaves it when its wave starts.
    text = edit(plan_text, "    exit_gates: [champions-ready, weekly-active, go-ahead]\n", "")

    assert load_plan_text(text).plan.phases[1].exit_gates == []


# --------------------------------------------------------------------------- waves


def test_a_wave_that_can_never_start(plan_text: str) -> None:
    text = edit(plan_text, "  default_reaches: operating\n", "")

    assert problems(text) == [
        "plan.yaml:69: departments[1].wave: wave 1 can never start: no rule under rollout.waves "
        "says when, and rollout.default_reaches is not set; add a rule such as {wave: 1, "
        "after_wave: 0, reaches: PHASE} or set rollout.default_reaches",
    ]


def test_the_lowest_wave_starts_whatever_its_number(plan_text: str) -> None:
    text = edit(plan_text, "  default_reaches: operating\n", "")
    text = edit(text, "wave: 0", "wave: 1")

    assert load_plan_text(text).plan.departments[0].wave == 1


def test_a_gap_between_waves(plan_text: str) -> None:
    text = edit(plan_text, "wave: 1", "wave: 3")

    assert problems(text) == [
        "plan.yaml:70: departments[1].wave: wave 3 can never start: it waits for wave 2, which "
        "has no departments; renumber the waves or add a rule for wave 3 whose after_wave is a "
        "wave in use (0, 3)",
    ]


def test_a_rule_can_bridge_a_gap(plan_text: str) -> None:
    text = edit(plan_text, "wave: 1", "wave: 3")
    text = edit(
        text,
        "  max_active: 1\n",
        "  max_active: 1\n  waves: [{wave: 3, after_wave: 0, reaches: piloting}]\n",
    )

    assert load_plan_text(text).plan.rollout.waves[0].after_wave == 0


def test_wave_rules_that_cannot_work(plan_text: str) -> None:
    text = edit(
        plan_text,
        "  default_reaches: operating\n",
        "  waves:\n"
        "    - {wave: 1, after_wave: 1, reaches: operating}\n"
        "    - {wave: 1, after_wave: 0, reaches: operating}\n"
        "    - {wave: 2, after_wave: 0, reaches: operating}\n"
        "    - {wave: 3, after_wave: 2, reaches: operating}\n",
    )
    text = edit(text, "    wave: 1\n", "    wave: 3\n")

    assert problems(text) == [
        "plan.yaml:49: rollout.waves[0].after_wave: wave 1 cannot wait for wave 1: after_wave "
        "must be lower than wave, or the wave never starts",
        "plan.yaml:49: rollout.waves[0].wave: no department is in wave 1, so this rule has no "
        "effect: fix the wave number or remove the rule (waves in use: 0, 3)",
        "plan.yaml:50: rollout.waves[1].wave: a second rule for wave 1 (the first is "
        "rollout.waves[0]): keep one rule per wave",
        "plan.yaml:51: rollout.waves[2].wave: no department is in wave 2, so this rule has no "
        "effect: fix the wave number or remove the rule (waves in use: 0, 3)",
        "plan.yaml:52: rollout.waves[3].after_wave: wave 3 waits for wave 2, which has no "
        "departments, so it can never start: point after_wave at a wave in use (0, 3)",
    ]


def test_a_webhook_url_written_as_a_channel_name_is_not_echoed(plan_text: str) -> None:
    url = "https://hooks.example.com/services/T1/B2/pRiVaTe"
    text = edit(
        plan_text, "email\n  chat_channel: rollout-chat\n", f"email\n  chat_channel: {url}\n"
    )
    text = edit(text, "{kpi: tickets_avoided,", "{kpi: 'user:pw@db.example.com',")

    found = problems(text)

    assert found == [
        "plan.yaml:15: program.chat_channel: this names a channel, but holds what looks like its "
        "URL, which is a secret and must not be written in the plan: define a chat channel under "
        "channels with url 'env:NAME' or 'secret:BLOCK-NAME', and write the channel's name here",
        "plan.yaml:60: departments[0].use_cases[0].kpis[0].kpi: KPI (a value that looks like a "
        "URL, not shown: URLs may hold secrets) is neither a program KPI nor a metric: add it "
        "under program.kpis or metrics, or fix the name (known: tickets_avoided, "
        "weekly_active_rate)",
    ]
    assert "pRiVaTe" not in "\n".join(found)
    assert "pw@db" not in "\n".join(found)


# --------------------------------------------------------------------------- guarded operation

_TREND = """\
  - name: usage-trend
    kind: trend
    title: Weekly use is not declining
    owner: support.adoption
    metric: {metric}
    direction: not declining
"""


def _with_trend(plan_text: str, metric: str = "weekly_active_rate") -> str:
    text = edit(plan_text, "gates:\n", "gates:\n" + _TREND.format(metric=metric))
    return edit(
        text, "  - name: operating\n", "  - name: operating\n    exit_gates: [usage-trend]\n"
    )


def test_a_trend_gate_on_a_declared_metric_passes(plan_text: str) -> None:
    plan = load_plan_text(_with_trend(plan_text)).plan
    assert crosscheck(plan) == []
    assert plan.gate("usage-trend").direction == "not_declining"


def test_a_trend_gate_on_an_undeclared_metric(plan_text: str) -> None:
    found = problems(_with_trend(plan_text, "weekly_actve_rate"))
    assert len(found) == 1
    assert "gates[0].metric: metric 'weekly_actve_rate' is not declared under metrics" in found[0]
    assert "(did you mean 'weekly_active_rate'?)" in found[0]


def test_on_regression_rolls_back_to_an_earlier_phase(plan_text: str) -> None:
    text = edit(
        plan_text,
        "  - name: operating\n",
        "  - name: operating\n    on_regression: {rollback_to: piloting}\n",
    )
    plan = load_plan_text(text).plan
    assert crosscheck(plan) == []
    assert plan.phases[-1].on_regression is not None


def test_on_regression_is_for_the_last_phase_to_an_earlier_one(plan_text: str) -> None:
    text = edit(
        plan_text,
        "  - name: operating\n",
        "  - name: operating\n    on_regression: {rollback_to: operating}\n",
    )
    text = edit(
        text,
        "    min_soak: 2w\n",
        "    min_soak: 2w\n    on_regression: {rollback_to: planned}\n",
    )

    found = problems(text)
    assert len(found) == 2, found
    assert "phases[1].on_regression: on_regression applies to the last phase only" in found[0]
    assert (
        "phases[2].on_regression.rollback_to: rollback_to 'operating' is not a phase before "
        "'operating': name one of planned, piloting"
    ) in found[1]


# --------------------------------------------------------------------------- gate overrides


def test_a_department_overrides_what_a_gate_has_and_nothing_else(plan_text: str) -> None:
    overrides = (
        "    wave: 0\n"
        "    gate_overrides:\n"
        "      weekly-active: {threshold: 0.7, window: 2w, min_samples: 5}\n"
        "      go-ahead: {threshold: 2}\n"
        "      weekly-activ: {threshold: 0.4}\n"
    )
    text = edit(plan_text, "    wave: 0\n", overrides)

    assert problems(text) == [
        "plan.yaml:56: departments[0].gate_overrides.go-ahead.threshold: gate 'go-ahead' is an "
        "approval gate and has no threshold to override: threshold applies to metric, training, "
        "champion_coverage gates",
        "plan.yaml:57: departments[0].gate_overrides.weekly-activ: gate 'weekly-activ' is not "
        "defined under gates, so there is nothing to override: fix the name (did you mean "
        "'weekly-active'?)",
    ]
