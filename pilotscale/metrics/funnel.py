"""The adoption funnel per department and segment: licensed → activated → weekly active →
habitual.

Each stage is a head count that the licensing or usage system reports as a metric,
per department and optionally per segment (power / casual):

| stage         | metric                | who counts                                           |
| ------------- | --------------------- | ---------------------------------------------------- |
| licensed      | `licensed_users`      | people holding a seat                                |
| activated     | `activated_users`     | licensed people who used it at least once            |
| weekly active | `weekly_active_users` | people who used it in the last 7 days                |
| habitual      | `habitual_users`      | people who used it in at least 3 of the last 4 weeks |

A stage's count is the latest observation as of the report. A department's 'all'
row is its own unsegmented observation when there is one, otherwise the sum of its
segments (only when every segment that reported anything reported that stage, so a
missing segment never looks like a drop). The program's rows add up what the
departments reported. Pure arithmetic; the store supplies the latest values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

STAGES: tuple[tuple[str, str], ...] = (
    ("licensed_users", "Licensed"),
    ("activated_users", "Activated"),
    ("weekly_active_users", "Weekly active"),
    ("habitual_users", "Habitual"),
)
STAGE_METRICS = tuple(m for m, _ in STAGES)
ALL = ""  # the segment of a whole-department row
PROGRAM = ""  # the department of a whole-program row

Latest = Mapping[tuple[str, str, str], float]  # (department, segment, metric) -> count


@dataclass(frozen=True)
class FunnelRow:
    department: str  # '' for the whole program
    segment: str  # '' for everyone
    counts: tuple[float | None, ...]  # one per stage, in STAGES order

    @property
    def step_rates(self) -> tuple[float | None, ...]:
        """Each stage over the stage before it (the first stage has none)."""
        return tuple(
            _ratio(self.counts[i], self.counts[i - 1]) if i else None
            for i in range(len(self.counts))
        )

    @property
    def of_licensed(self) -> tuple[float | None, ...]:
        return tuple(_ratio(c, self.counts[0]) for c in self.counts)

    @property
    def empty(self) -> bool:
        return all(c is None for c in self.counts)


def funnel(latest: Latest, departments: Sequence[str]) -> list[FunnelRow]:
    """Rows per department (all, then each segment), then the program's rows."""
    rows: list[FunnelRow] = []
    for department in departments:
        segments = sorted({s for d, s, m in latest if d == department and s and m in STAGE_METRICS})
        by_segment = [
            FunnelRow(department, s, tuple(latest.get((department, s, m)) for m in STAGE_METRICS))
            for s in segments
        ]
        whole = FunnelRow(department, ALL, _whole(latest, department, by_segment))
        rows += [r for r in (whole, *by_segment) if not r.empty]
    rows += _program(rows)
    return rows


def _whole(
    latest: Latest, department: str, segments: Sequence[FunnelRow]
) -> tuple[float | None, ...]:
    counts: list[float | None] = []
    for i, metric in enumerate(STAGE_METRICS):
        own = latest.get((department, ALL, metric))
        if own is not None:
            counts.append(own)
            continue
        parts = [r.counts[i] for r in segments]
        counts.append(None if not parts or any(p is None for p in parts) else _sum(parts))
    return tuple(counts)


def _program(rows: Iterable[FunnelRow]) -> list[FunnelRow]:
    grouped: dict[str, list[FunnelRow]] = {}
    for row in rows:
        grouped.setdefault(row.segment, []).append(row)
    out = []
    for segment in sorted(grouped):
        members = grouped[segment]
        counts = tuple(
            _sum([r.counts[i] for r in members if r.counts[i] is not None])
            for i in range(len(STAGES))
        )
        out.append(FunnelRow(PROGRAM, segment, counts))
    return out


def _sum(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(sum(present)) if present else None


def _ratio(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole
