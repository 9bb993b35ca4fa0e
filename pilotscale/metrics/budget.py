"""What the program costs at full scale, from the plan's cost model, against its budget.

Moving from a pilot to the whole company typically multiplies the running cost by three to
five: licences for everyone, usage at volume, support and training. The projection
for one year of full rollout is

    licences  = cost_per_user_month * 12 * users
    usage     = usage_cost_month * 12            (the plan states it at full scale)
    support   = support_cost_month * 12
    training  = training_cost_per_user * users  (one-off, counted in the first year)

where `users` is the sum of every department's headcount. A department's share is
its own licences and training plus the shared usage and support costs split by
headcount. `ratio` (projection / approved scale budget) is what a metric gate reads
as `budget_projection_ratio` (see pilotscale.engine.pull).

Pure arithmetic: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pilotscale.plan.schema import Plan

RATIO_METRIC = "budget_projection_ratio"
TYPICAL_JUMP = (3.0, 5.0)  # pilot → whole-company cost multiple (docs/sources.md)


@dataclass(frozen=True)
class DepartmentCost:
    name: str
    users: int
    annual: float
    started: bool = False


@dataclass(frozen=True)
class BudgetProjection:
    currency: str
    users: int
    licences: float
    usage: float
    support: float
    training: float
    approved: float
    pilot: float
    departments: tuple[DepartmentCost, ...]

    @property
    def annual_total(self) -> float:
        return self.licences + self.usage + self.support + self.training

    @property
    def ratio(self) -> float | None:
        """Projection / approved scale budget; None when nothing was approved (0)."""
        return self.annual_total / self.approved if self.approved else None

    @property
    def pilot_multiple(self) -> float | None:
        return self.annual_total / self.pilot if self.pilot else None

    @property
    def over_budget(self) -> bool:
        return self.annual_total > self.approved

    @property
    def in_flight(self) -> float:
        """The annual cost of the departments already started."""
        return sum(d.annual for d in self.departments if d.started)

    def warning(self) -> str | None:
        """One sentence when the full rollout does not fit the approved budget."""
        if not self.over_budget:
            return None
        excess = self.annual_total - self.approved
        return (
            f"full rollout is projected at {money(self.annual_total, self.currency)} a year, "
            f"{money(excess, self.currency)} over the approved "
            f"{money(self.approved, self.currency)}"
            + (f" (ratio {self.ratio:.2f})" if self.ratio is not None else "")
            + ": cut the per-user price, phase the rollout, or get the budget re-approved"
        )

    def jump_note(self) -> str | None:
        """How the full-scale cost compares with the pilot's, against the typical 3-5 times."""
        multiple = self.pilot_multiple
        if multiple is None:
            return None
        low, high = TYPICAL_JUMP
        where = "within" if low <= multiple <= high else ("below" if multiple < low else "above")
        return (
            f"full rollout costs {multiple:.1f}× the pilot ({where} the {low:.0f}–{high:.0f}× "
            "that moving from a pilot to the whole company typically costs)"
        )


def project(plan: Plan, started: Iterable[str] = ()) -> BudgetProjection:
    budget = plan.program.budget
    heads = {d.name: d.headcount for d in plan.departments}
    users = sum(heads.values())
    shared = (budget.usage_cost_month + budget.support_cost_month) * 12
    per_user = budget.cost_per_user_month * 12 + budget.training_cost_per_user
    begun = set(started)
    departments = tuple(
        DepartmentCost(
            name=name,
            users=count,
            annual=count * per_user + (shared * count / users if users else 0.0),
            started=name in begun,
        )
        for name, count in heads.items()
    )
    return BudgetProjection(
        currency=budget.currency,
        users=users,
        licences=budget.cost_per_user_month * 12 * users,
        usage=budget.usage_cost_month * 12,
        support=budget.support_cost_month * 12,
        training=budget.training_cost_per_user * users,
        approved=budget.approved_scale_budget,
        pilot=budget.pilot_budget,
        departments=departments,
    )


def money(amount: float, currency: str) -> str:
    return f"{currency} {amount:,.0f}"
