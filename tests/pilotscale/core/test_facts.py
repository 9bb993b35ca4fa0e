from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pilotscale.core.facts import DepartmentFacts, MetricAggregate, TrainingFact, metric_key

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_aggregate_of_samples_orders_by_time_for_last() -> None:
    agg = MetricAggregate.of([(T0 + timedelta(hours=2), 0.5), (T0, 0.9), (T0 + timedelta(1), 0.1)])
    assert (agg.count, agg.minimum, agg.maximum) == (3, 0.1, 0.9)
    assert agg.last_value == 0.1
    assert agg.total == pytest.approx(1.5)
    assert agg.avg == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("aggregate", "expected"),
    [("avg", 2.0), ("sum", 6.0), ("min", 1.0), ("max", 3.0), ("last", 2.0), ("count", 3.0)],
)
def test_aggregate_values(aggregate: str, expected: float) -> None:
    agg = MetricAggregate.of([(T0, 1.0), (T0 + timedelta(1), 3.0), (T0 + timedelta(2), 2.0)])
    assert agg.value(aggregate) == expected


@pytest.mark.parametrize("aggregate", ["avg", "sum", "min", "max", "last"])
def test_no_samples_has_no_value_except_a_count_of_zero(aggregate: str) -> None:
    empty = MetricAggregate.of([])
    assert empty.value(aggregate) is None
    assert empty.value("count") == 0.0


def test_metric_key_is_name_and_window_seconds() -> None:
    assert metric_key("weekly_active_rate", timedelta(weeks=2)) == ("weekly_active_rate", 1209600)


def test_missing_metric_reads_as_no_samples() -> None:
    facts = DepartmentFacts(department="hr", phase_entered_at=T0)
    assert facts.metric("weekly_active_rate", timedelta(days=7)).count == 0


@pytest.mark.parametrize(
    ("training", "segment", "expected"),
    [
        (
            {"power": TrainingFact(10, 4), "casual": TrainingFact(30, 6)},
            "all",
            TrainingFact(40, 10),
        ),
        ({"power": TrainingFact(10, 4), "all": TrainingFact(99, 9)}, "all", TrainingFact(99, 9)),
        ({"power": TrainingFact(10, 4)}, "power", TrainingFact(10, 4)),
        ({"power": TrainingFact(10, 4)}, "casual", TrainingFact(0, 0)),
        ({}, "all", TrainingFact(0, 0)),
    ],
)
def test_training_for_segment(
    training: dict[str, TrainingFact], segment: str, expected: TrainingFact
) -> None:
    facts = DepartmentFacts(department="hr", phase_entered_at=T0, training=training)
    assert facts.training_for(segment) == expected
