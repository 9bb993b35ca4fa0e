"""Loading a plan: schema errors at their YAML lines, fingerprints, files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotscale.plan.loader import LoadedPlan, load_plan, load_plan_text
from pilotscale.plan.problems import PlanError
from tests.pilotscale.plan.helpers import edit, problems


def test_the_valid_plan_loads(plan_text: str) -> None:
    loaded = load_plan_text(plan_text, "plan.yaml")

    assert isinstance(loaded, LoadedPlan)
    assert loaded.plan.program.name == "helpdesk-bot"
    assert [d.name for d in loaded.plan.departments] == ["finance", "legal"]
    assert loaded.text == plan_text
    assert len(loaded.sha256) == 64


def test_formatting_only_edits_keep_the_fingerprint(plan_text: str) -> None:
    reformatted = "# a comment the fingerprint must ignore\n" + edit(
        plan_text,
        "  - {name: weekly_active_rate, unit: fraction}\n",
        "  - unit: fraction   # keys reordered, block style\n    name: 'weekly_active_rate'\n",
    )

    assert load_plan_text(reformatted).sha256 == load_plan_text(plan_text).sha256


def test_a_content_edit_changes_the_fingerprint(plan_text: str) -> None:
    changed = edit(plan_text, "headcount: 40", "headcount: 41")

    assert load_plan_text(changed).sha256 != load_plan_text(plan_text).sha256


def test_wrong_types_are_reported_at_their_lines(plan_text: str) -> None:
    text = edit(plan_text, "headcount: 40", "headcount: forty")
    text = edit(text, "max_active: 1", "max_active: [1]")

    assert problems(text) == [
        "plan.yaml:47: rollout.max_active: Input should be a valid integer",
        "plan.yaml:52: departments[0].headcount: Input should be a valid integer, "
        "unable to parse string as an integer",
    ]


def test_a_missing_required_field_is_reported_at_its_parent_mapping(plan_text: str) -> None:
    text = edit(plan_text, "    title: Legal\n", "")

    assert problems(text) == [
        "plan.yaml:67: departments[1].title: required field 'title' is missing: add it",
    ]


def test_a_missing_top_level_section_is_reported_at_the_top(plan_text: str) -> None:
    start = plan_text.index("people:\n")
    text = "# comment\n" + plan_text[:start]

    assert problems(text) == ["plan.yaml:2: people: required field 'people' is missing: add it"]


def test_a_typo_in_a_key_suggests_the_right_key(plan_text: str) -> None:
    text = edit(plan_text, "    cost_per_user_month: 5\n", "    cost_per_usr_month: 5\n")

    assert problems(text) == [
        "plan.yaml:8: program.budget.cost_per_user_month: "
        "required field 'cost_per_user_month' is missing: add it",
        "plan.yaml:11: program.budget.cost_per_usr_month: unknown key 'cost_per_usr_month': "
        "remove it or fix the spelling (did you mean 'cost_per_user_month'?)",
    ]


def test_a_typo_in_a_person_names_the_person_and_the_key(plan_text: str) -> None:
    # People are dataclasses, not models (memory): their errors must read the same.
    text = edit(
        plan_text,
        "name: Ines Sponsor, email: ines@example.com,",
        "name: Ines Sponsor, emial: ines@example.com,",
    )

    found = problems(text)
    assert len(found) == 2
    assert found[0].endswith("people[0].email: required field 'email' is missing: add it")
    assert found[1].endswith(
        "people[0].emial: unknown key 'emial': remove it or fix the spelling "
        "(did you mean 'email'?)"
    )
    assert found[0].split(":")[1] == found[1].split(":")[1]  # the same line number


def test_an_unknown_key_without_a_close_match_lists_the_allowed_keys(plan_text: str) -> None:
    text = edit(
        plan_text,
        "    support: {technical: it.desk,",
        "    support: {legal: x, technical: it.desk,",
    )

    assert problems(text) == [
        "plan.yaml:66: departments[0].support.legal: unknown key 'legal': remove it or fix the "
        "spelling (allowed: technical, adoption, content, governance)",
    ]


def test_a_gate_error_drops_the_kind_tag_and_points_at_the_field(plan_text: str) -> None:
    # pydantic reports loc ('gates', 1, 'metric', 'threshold'): 'metric' is the union tag.
    text = edit(plan_text, "threshold: 0.5", "threshold: half")

    assert problems(text) == [
        "plan.yaml:38: gates[1].threshold: Input should be a valid number, "
        "unable to parse string as a number",
    ]


def test_the_metric_field_of_a_metric_gate_is_not_mistaken_for_the_tag(plan_text: str) -> None:
    # loc ('gates', 1, 'metric', 'metric'): the tag, then the field of the same name.
    text = edit(plan_text, "metric: weekly_active_rate", "metric: Weekly Active")

    assert problems(text) == [
        "plan.yaml:37: gates[1].metric: must be a lower-case name of letters, digits, '-', '_' "
        "and '.', starting with a letter or digit, at most 63 characters",
    ]


def test_a_field_of_another_gate_kind_is_an_unknown_key(plan_text: str) -> None:
    text = edit(plan_text, "    required: 1\n", "    required: 1\n    threshold: 3\n")

    assert problems(text) == [
        "plan.yaml:46: gates[2].threshold: unknown key 'threshold': remove it or fix the spelling "
        "(allowed: name, title, owner, source, how_to_fix, pending_limit, advisory, kind, "
        "approvers, required, escalate_after)",
    ]


def test_an_unknown_gate_kind_points_at_the_kind_line(plan_text: str) -> None:
    text = edit(plan_text, "kind: approval", "kind: aproval")

    assert problems(text) == [
        "plan.yaml:41: gates[2].kind: unknown kind 'aproval': use one of metric, attestation, "
        "approval, soak, training, champion_coverage, support_coverage, trend "
        "(did you mean 'approval'?)",
    ]


def test_a_gate_without_kind_is_reported_at_the_gate(plan_text: str) -> None:
    text = edit(plan_text, "    kind: champion_coverage\n", "")

    assert problems(text) == [
        "plan.yaml:29: gates[0]: 'kind' is missing: set it to one of metric, attestation, "
        "approval, soak, training, champion_coverage, support_coverage, trend",
    ]


def test_an_error_inside_a_metric_source_drops_the_source_tag(plan_text: str) -> None:
    text = edit(
        plan_text,
        "  - {name: weekly_active_rate, unit: fraction}\n",
        "  - name: weekly_active_rate\n"
        "    source: {kind: sql, connection: 'env:DB_URL', query: 'select 1', timeout: soon}\n",
    )

    assert problems(text) == [
        "plan.yaml:21: metrics[0].source.timeout: a duration is a whole number and a unit, "
        "e.g. '30m', '12h', '14d' or '2w'",
    ]


def test_a_plain_secret_url_is_refused_and_never_echoed(plan_text: str) -> None:
    secret = "https://hooks.example.com/services/T000/B000/sEcReTtOkEn"
    text = edit(plan_text, '"secret:rollout-chat-webhook"', f'"{secret}"')

    with pytest.raises(PlanError) as info:
        load_plan_text(text, "plan.yaml")

    assert [str(p) for p in info.value.problems] == [
        "plan.yaml:18: channels[1].url: a channel or connection URL is a secret and must not be "
        "written in the plan: put it in an environment variable and write 'env:NAME', or in a "
        "Prefect Secret block and write 'secret:BLOCK-NAME'",
    ]
    assert "sEcReTtOkEn" not in str(info.value)
    assert "hooks.example.com" not in repr(info.value.problems)


def test_every_schema_problem_is_reported_at_once_in_line_order(plan_text: str) -> None:
    text = edit(plan_text, "wave: 1", "wave: -1")
    text = edit(text, "timezone: Europe/Madrid", "timezone: Mars/Olympus")
    text = edit(text, "min_soak: 2w", "min_soak: two weeks")

    assert problems(text) == [
        "plan.yaml:7: program.timezone: unknown time zone; use an IANA name such as "
        "'Europe/Madrid'",
        "plan.yaml:26: phases[1].min_soak: a duration is a whole number and a unit, "
        "e.g. '30m', '12h', '14d' or '2w'",
        "plan.yaml:70: departments[1].wave: Input should be greater than or equal to 0",
    ]


def test_schema_and_cross_check_problems_come_in_one_run(plan_text: str) -> None:
    # The unknown sponsor is a cross-check problem; it no longer waits for the schema's.
    text = edit(plan_text, "  sponsor: ines.sponsor\n  lead", "  sponsor: nobody\n  lead")
    text = edit(text, "headcount: 12", "headcount: 0")

    assert problems(text) == [
        "plan.yaml:5: program.sponsor: program sponsor 'nobody' is not a person under people: "
        "add the person or fix the id (known: fran.champion, ines.sponsor, it.desk, leo.lead, "
        "lola.champion)",
        "plan.yaml:69: departments[1].headcount: Input should be greater than or equal to 1",
    ]


def test_five_faults_are_five_problems_in_one_run(plan_text: str) -> None:
    text = edit(plan_text, "headcount: 40", "headcount: forty")  # schema
    text = edit(text, "timezone: Europe/Madrid", "timezone: Mars/Olympus")  # schema
    text = edit(  # cross
        text,
        "    sponsor: ines.sponsor\n    champions: [lola",
        "    sponsor: ines.sponsr\n    champions: [lola",
    )
    text = edit(text, "owner: support.adoption", "owner: support.nobody")  # schema
    text = edit(text, "  lead: leo.lead", "  lead: zed")  # cross

    found = problems(text)

    assert [line.split(": ")[1] for line in found] == [
        "program.lead",
        "program.timezone",
        "gates[1].owner",
        "departments[0].headcount",
        "departments[1].sponsor",
    ], found


def test_a_cross_check_after_a_refused_list_item_points_at_its_own_item(plan_text: str) -> None:
    # finance (departments[0]) is refused by the schema and cut away for the cross-checks;
    # legal's problem must still be reported as departments[1], at legal's line.
    text = edit(plan_text, "headcount: 40", "headcount: -5")
    text = edit(
        text,
        "    sponsor: ines.sponsor\n    champions: [lola",
        "    sponsor: nobody.here\n    champions: [lola",
    )

    assert problems(text) == [
        "plan.yaml:52: departments[0].headcount: Input should be greater than or equal to 1",
        "plan.yaml:71: departments[1].sponsor: sponsor 'nobody.here' is not a person "
        "under people: add the person or fix the id (known: fran.champion, ines.sponsor, "
        "it.desk, leo.lead, lola.champion)",
    ]


def test_what_the_schema_refused_is_not_reported_again_by_the_cross_checks(
    plan_text: str,
) -> None:
    # Fran's entry is refused (bad email); the references to fran.champion are echoes of
    # that one problem, not new ones.
    text = edit(plan_text, "email: fran@example.com", "email: not-an-email")

    found = problems(text)

    assert len(found) == 1, found
    assert found[0].startswith("plan.yaml:78: people[3].email: ")


def test_a_plan_refused_as_a_whole_gets_its_schema_problems_only(plan_text: str) -> None:
    text = edit(plan_text, "  sponsor: ines.sponsor\n  lead", "  sponsor: nobody\n  lead")
    text = edit(text, "  name: helpdesk-bot\n", "")

    assert problems(text) == [
        "plan.yaml:2: program.name: required field 'name' is missing: add it",
    ]


def test_yaml_problems_come_before_and_instead_of_schema_problems(plan_text: str) -> None:
    text = edit(plan_text, "headcount: 12\n", "headcount: 12\n    headcount: 0\n")
    text = edit(text, "threshold: 0.5", "threshold: half")

    assert problems(text) == [
        "plan.yaml:70: departments[1].headcount: the key 'headcount' appears twice in this "
        "mapping (first at line 69); YAML would silently keep only the last one: remove or "
        "rename one of them",
    ]


def test_load_plan_reads_a_file(tmp_path: Path, plan_text: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(plan_text, encoding="utf-8")

    loaded = load_plan(path)

    assert loaded.path == path
    assert loaded.sha256 == load_plan_text(plan_text).sha256


def test_problems_name_the_file_as_given(tmp_path: Path, plan_text: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(edit(plan_text, "wave: 0", "wave: first"), encoding="utf-8")

    with pytest.raises(PlanError) as info:
        load_plan(path)

    assert [str(p) for p in info.value.problems] == [
        f"{path}:53: departments[0].wave: Input should be a valid integer, "
        "unable to parse string as an integer",
    ]


def test_a_missing_file_is_one_problem_at_line_1(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    with pytest.raises(PlanError) as info:
        load_plan(path)

    assert [str(p) for p in info.value.problems] == [
        f"{path}:1: (plan): cannot read the plan: No such file or directory; check the path",
    ]


def test_a_directory_is_one_problem_at_line_1(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        load_plan(tmp_path)

    assert [str(p) for p in info.value.problems] == [
        f"{tmp_path}:1: (plan): cannot read the plan: Is a directory; check the path",
    ]


def test_an_unknown_gate_kind_that_looks_like_a_url_is_not_echoed(plan_text: str) -> None:
    text = edit(plan_text, "kind: approval", "kind: 'https://u:p@example.com'")

    assert problems(text) == [
        "plan.yaml:41: gates[2].kind: unknown kind (a value that looks like a URL, not shown: "
        "URLs may hold secrets): use one of metric, attestation, approval, soak, training, "
        "champion_coverage, support_coverage, trend",
    ]


def test_an_endless_file_is_read_only_up_to_the_cap() -> None:
    with pytest.raises(PlanError) as info:
        load_plan(Path("/dev/zero"))

    assert [str(p) for p in info.value.problems] == [
        "/dev/zero:1: (plan): the file is larger than 5,242,880 bytes, the most a plan may be: "
        "check that this is the right file",
    ]


def test_lines_are_counted_as_an_editor_shows_them() -> None:
    # YAML breaks lines at NEL (U+0085) too; editors and `wc -l` do not. Found by the
    # hostile-input property test: 'program' was reported on line 8 of a 6-line file.
    data = b"people:\n- ? '\xc2\x85    '\n  : null\n- ? '\xc2\x85    '\n  : null\nprogram: null\n"

    with pytest.raises(PlanError) as raised:
        load_plan_text(data, "plan.yaml")

    lines = {p.path: p.line for p in raised.value.problems}
    assert lines["program"] == 6
    assert lines["people[1].id"] == 4


def test_preferences_are_checked_where_they_are_written(plan_text: str) -> None:
    text = edit(
        plan_text, "  timezone: Europe/Madrid\n", "  timezone: Europe/Madrid\n  quiet_hours: 8-20\n"
    )
    text = edit(
        text,
        "email: it@example.com, roles: [support_owner]}",
        "email: it@example.com, roles: [support_owner], timezone: Mars/Olympus,\n"
        "     quiet_hours: '22:00-22:00', digest_day: someday, notify: sms}",
    )

    assert problems(text) == [
        "plan.yaml:8: program.quiet_hours: '8-20' is not a time window: quiet hours are a "
        "local time window such as '20:00-08:00' (it may cross midnight)",
        "plan.yaml:78: people[2].timezone: unknown time zone; use an IANA name such as "
        "'Europe/Madrid'",
        "plan.yaml:79: people[2].digest_day: 'someday' is not a day: use mon, tue, wed, thu, "
        "fri, sat, sun",
        "plan.yaml:79: people[2].notify: Input should be 'email', 'chat', 'both' or 'digest'",
        "plan.yaml:79: people[2].quiet_hours: '22:00-22:00' starts and ends at the same time: "
        "quiet hours are a local time window such as '20:00-08:00' (it may cross midnight)",
    ]


def test_preferences_are_kept_normalised(plan_text: str) -> None:
    text = edit(
        plan_text,
        "email: it@example.com, roles: [support_owner]}",
        "email: it@example.com, roles: [support_owner], timezone: Asia/Tokyo,\n"
        "     quiet_hours: '22:00 - 7:30', digest_day: Friday}",
    )

    person = load_plan_text(text, "plan.yaml").plan.person("it.desk")

    assert (person.timezone, person.quiet_hours, person.digest_day) == (
        "Asia/Tokyo",
        "22:00-07:30",
        "fri",
    )
