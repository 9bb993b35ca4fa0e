"""What is known about one department at one moment: the input of gate evaluation.

The store builds these in bulk (one query per kind for all departments), so gate
evaluation itself never reads anything. Counts are plain numbers here; where they
come from is the store's business.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


def metric_key(metric: str, window: timedelta) -> tuple[str, int]:
    """How `DepartmentFacts.metrics` is keyed: the metric name and the window in seconds."""
    return metric, int(window.total_seconds())


@dataclass(frozen=True)
class MetricAggregate:
    """Observations of one metric over one window ending now."""

    count: int
    total: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    last_value: float | None = None
    # Observations in the window outside the metric's range: in none of the figures above.
    outside: int = 0

    @property
    def avg(self) -> float | None:
        return self.total / self.count if self.count else None

    def value(self, aggregate: str) -> float | None:
        """The aggregate a gate asks for; None when there is nothing to aggregate."""
        if aggregate == "count":
            return float(self.count)
        if not self.count:
            return None
        return {
            "avg": self.avg,
            "sum": self.total,
            "min": self.minimum,
            "max": self.maximum,
            "last": self.last_value,
        }[aggregate]

    @classmethod
    def of(cls, samples: Iterable[tuple[datetime, float]]) -> MetricAggregate:
        """Aggregate raw (observed_at, value) samples; the store may do this in SQL instead."""
        ordered = sorted(samples, key=lambda s: s[0])
        if not ordered:
            return cls(count=0)
        values = [v for _, v in ordered]
        return cls(
            count=len(values),
            total=float(sum(values)),
            minimum=min(values),
            maximum=max(values),
            last_value=values[-1],
        )


@dataclass(frozen=True)
class Moments:
    """The sums a least-squares line needs, over one window's samples: `t` is each
    sample's age in days at the window's end, `v` its value. The store computes them in
    SQL (one row per department, not one per sample)."""

    count: int
    t: float = 0.0
    v: float = 0.0
    tt: float = 0.0
    tv: float = 0.0

    @classmethod
    def of(cls, samples: Iterable[tuple[datetime, float]], end: datetime) -> Moments:
        ages = [((end - at).total_seconds() / 86400, value) for at, value in samples]
        return cls(
            count=len(ages),
            t=math.fsum(t for t, _ in ages),
            v=math.fsum(v for _, v in ages),
            tt=math.fsum(t * t for t, _ in ages),
            tv=math.fsum(t * v for t, v in ages),
        )

    def slope_per_day(self) -> float | None:
        """Change of the value per day, forward in time; None without a line (fewer than
        two samples, or all at one moment)."""
        spread = self.count * self.tt - self.t * self.t
        # Ages at one moment leave only rounding noise here, relative to the terms.
        if self.count < 2 or spread <= 1e-9 * max(self.count * self.tt, 1e-12):
            return None
        # Ages count backwards in time: a value that falls with age rises over time.
        return -(self.count * self.tv - self.t * self.v) / spread


@dataclass(frozen=True)
class Series:
    """A metric's samples for trend gates. Either the samples themselves, (observed_at,
    value) oldest first, or, as the store gives them, their `moments` per trend window
    (window seconds -> sums over the window ending now); only values inside the metric's
    range count.

    `point` is what a change of one is called and weighs: a fraction moves in points of
    0.01 ("grew 2.1 points"), a percentage in points of 1, a count in its own unit."""

    samples: tuple[tuple[datetime, float], ...] = ()
    point: float = 1.0
    unit: str = ""
    moments: Mapping[int, Moments] = field(default_factory=dict)


@dataclass(frozen=True)
class AttestationFact:
    by: str
    evidence: str
    attested_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ApprovalFact:
    """One decision of an approver in the current visit: an approval or a rejection."""

    by: str  # person id
    at: datetime
    comment: str = ""
    decision: str = "approve"  # or 'reject'
    name: str = ""  # the approver's display name ('' when the plan read has no name)

    @property
    def rejects(self) -> bool:
        return self.decision == "reject"


def latest_decisions(given: Iterable[ApprovalFact]) -> dict[str, ApprovalFact]:
    """Approver id -> their latest decision, from decisions in the order they were given:
    a later approval supersedes a rejection, and the other way round."""
    latest: dict[str, ApprovalFact] = {}
    for fact in given:
        latest.pop(fact.by, None)  # re-inserted: the dict keeps the order decisions were made
        latest[fact.by] = fact
    return latest


@dataclass(frozen=True)
class TrainingFact:
    """A segment's training in a department, counted in people.

    `people` is the denominator: the department's active people of the segment, whether
    or not they were assigned anything yet (a newcomer counts as not trained). None
    where only assignments are known (then `assigned` is the denominator)."""

    assigned: int  # people with the segment's modules assigned
    completed: int  # people who completed every module assigned to them
    people: int | None = None

    @property
    def denominator(self) -> int:
        return self.assigned if self.people is None else self.people


@dataclass(frozen=True)
class ChampionFact:
    """Champion counts by stage; cumulative (an acknowledged champion is also onboarded
    and identified), so each number alone answers "how many reached at least this"."""

    identified: int = 0
    onboarded: int = 0
    acknowledged: int = 0


@dataclass(frozen=True)
class DepartmentFacts:
    """Everything gate evaluation needs for one department's current phase visit.

    Attestations and approvals are those of the current visit only: a department
    that was rolled back and re-entered a phase must attest and approve again.
    """

    department: str
    phase_entered_at: datetime
    metrics: Mapping[tuple[str, int], MetricAggregate] = field(default_factory=dict)
    # metric name -> why its source could not be read; its gates are pending meanwhile
    metric_errors: Mapping[str, str] = field(default_factory=dict)
    attestations: Mapping[str, AttestationFact] = field(default_factory=dict)  # by gate name
    # by gate name: every decision of the visit, oldest first (latest_decisions reads them)
    approvals: Mapping[str, tuple[ApprovalFact, ...]] = field(default_factory=dict)
    training: Mapping[str, TrainingFact] = field(default_factory=dict)  # 'power', 'casual'
    champions: ChampionFact = field(default_factory=ChampionFact)
    headcount: int = 0
    support: Mapping[str, str | None] = field(default_factory=dict)  # area -> owner id
    series: Mapping[str, Series] = field(default_factory=dict)  # metric name -> trend samples

    def metric(self, metric: str, window: timedelta) -> MetricAggregate:
        return self.metrics.get(metric_key(metric, window), MetricAggregate(count=0))

    def training_for(self, segment: str) -> TrainingFact:
        """A segment's training numbers; 'all' sums the segments unless given directly."""
        if segment in self.training:
            return self.training[segment]
        if segment == "all":
            parts = [fact for name, fact in self.training.items() if name != "all"]
            counted = [f.people for f in parts if f.people is not None]
            return TrainingFact(
                assigned=sum(f.assigned for f in parts),
                completed=sum(f.completed for f in parts),
                people=sum(counted) if len(counted) == len(parts) and parts else None,
            )
        return TrainingFact(assigned=0, completed=0)
