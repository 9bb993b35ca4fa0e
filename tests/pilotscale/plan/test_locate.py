"""pydantic locs to YAML paths: union tags dropped, keys kept."""

from __future__ import annotations

from pilotscale.plan.locate import locate
from pilotscale.plan.schema import ApprovalGate, Budget, HttpSource, MetricGate


def test_a_gate_tag_is_dropped() -> None:
    located = locate(("gates", 0, "metric", "threshold"))

    assert located.path == ("gates", 0, "threshold")
    assert located.owner is MetricGate


def test_a_field_named_like_the_tag_is_kept() -> None:
    assert locate(("gates", 3, "metric", "metric")).path == ("gates", 3, "metric")


def test_a_list_inside_a_gate() -> None:
    located = locate(("gates", 1, "approval", "approvers", 2))

    assert located.path == ("gates", 1, "approvers", 2)
    assert located.owner is None  # the last element is a list index, not a field


def test_the_union_itself_knows_its_tags() -> None:
    located = locate(("gates", 1))

    assert located.path == ("gates", 1)
    assert located.tags[:3] == ("metric", "attestation", "approval")


def test_a_metric_source_tag_is_dropped() -> None:
    located = locate(("metrics", 0, "source", "http", "headers_ref"))

    assert located.path == ("metrics", 0, "source", "headers_ref")
    assert located.owner is HttpSource


def test_plain_model_fields_pass_through() -> None:
    located = locate(("program", "budget", "pilot_budget"))

    assert located.path == ("program", "budget", "pilot_budget")
    assert located.owner is Budget


def test_validator_names_past_the_known_types_are_dropped() -> None:
    located = locate(("gates", 0, "approval", "nonsense", "function-after[check(), str]", 1))

    assert located.path == ("gates", 0, "nonsense", 1)


def test_an_unknown_key_is_kept_with_its_model() -> None:
    located = locate(("gates", 0, "approval", "threshold"))

    assert located.path == ("gates", 0, "threshold")
    assert located.owner is ApprovalGate
