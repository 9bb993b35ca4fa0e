"""Which stored observations count: those whose value lies in their metric's range.

Imports and pulls refuse a value outside its range, but a store may hold rows from before
ranges were checked (a 1e308 made every sum overflow on PostgreSQL, and became `inf` on
SQLite), or a plan may narrow a range later. Every aggregate over observations filters
with `within`, so such rows are left out rather than breaking or deciding anything, and
every sum is a sum of bounded values, which cannot overflow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, false, or_

from pilotscale.models import MetricObservation
from pilotscale.plan.domains import Domain
from pilotscale.store.tables import columns_of


def within(domains: Mapping[str, Domain]) -> Any:
    """A condition on `metric_observation`: the row's metric is one of `domains` and its
    value lies in that metric's range. One clause per distinct range, not per metric."""
    m = columns_of(MetricObservation)
    by_range: dict[tuple[float, float], list[str]] = defaultdict(list)
    for name, domain in domains.items():
        by_range[(domain.low, domain.high)].append(name)
    if not by_range:
        return false()
    return or_(
        *(
            and_(m.metric.in_(sorted(names)), m.value.between(low, high))
            for (low, high), names in sorted(by_range.items())
        )
    )
