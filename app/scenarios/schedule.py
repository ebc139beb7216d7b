"""Cash flow in a scenario: the year each listed proposal is spent in, and the rule the optimizer
keeps when staff ask it to respect annual cash flow. Pure: the scenarios service gives it the list.

A listed proposal's year, in this order:

1. the year staff set for it on the scenario page (``set``);
2. with "respect annual cash flow" on, the year the optimizer last scheduled it in (``optimizer``);
3. the proposal's own scheduled year, when it falls in the collection years (``proposal``);
4. otherwise, by tier and then score (best first), the earliest year whose revenue to date plus the
   borrowing limit covers the spending to date with it; the last year when none does (``default``).

Revenue: the program's expected revenue in equal yearly shares over its collection years
(``app.pavement_plan.cashflow.revenue_by_year``). Money in integer cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.optimizer import CashFlow
from app.optimizer import cash_flow as rules
from app.optimizer.model import Candidate
from app.pavement_plan.cashflow import CashFlow as CashFlowTable
from app.pavement_plan.cashflow import cash_flow, revenue_by_year
from app.pavement_plan.years import PlanYears

SOURCES = ("set", "optimizer", "proposal", "default")


@dataclass(frozen=True)
class Listed:
    """One proposal on the list, with every year it could take."""

    id: str
    tier: int
    score: float
    cost_cents: int
    staff_year: int | None
    planned_year: int | None
    proposal_year: int | None


@dataclass(frozen=True)
class Scheduled:
    id: str
    year: int
    source: str  # one of SOURCES


def cash_rule(years: PlanYears, borrowing_limit_cents: int) -> CashFlow:
    revenue = revenue_by_year(years.revenue_cents, years.first_year, years.years)
    return CashFlow(tuple(sorted(revenue.items())), borrowing_limit_cents)


def schedule(listed: Sequence[Listed], years: PlanYears, *, borrowing_limit_cents: int,
             use_planned: bool) -> dict[str, Scheduled]:
    """Each listed proposal's year and where it comes from (see the module's note)."""
    span = set(years.span)
    out: dict[str, Scheduled] = {}
    spent: dict[int, int] = {}
    for item in listed:
        for year, source in ((item.staff_year, "set"), (item.planned_year if use_planned else None, "optimizer"),
                             (item.proposal_year, "proposal")):
            if year is not None and year in span:
                out[item.id] = Scheduled(item.id, year, source)
                spent[year] = spent.get(year, 0) + item.cost_cents
                break
    cash = cash_rule(years, borrowing_limit_cents)
    for item in sorted((i for i in listed if i.id not in out), key=lambda i: (i.tier, -i.score, i.id)):
        year = rules.earliest_year(cash, spent, Candidate(item.id, item.cost_cents, item.score, ""))
        year = year if year is not None else years.span[-1]
        out[item.id] = Scheduled(item.id, year, "default")
        spent[year] = spent.get(year, 0) + item.cost_cents
    return out


@dataclass(frozen=True)
class CashView:
    """What the cash-flow chart and table show (the same shape as the pavement plan's)."""

    title: str
    flow: CashFlowTable
    years: PlanYears


def cash_view(title: str, cost_by_id: dict[str, int], scheduled: dict[str, Scheduled], years: PlanYears,
              borrowing_limit_cents: int) -> CashView:
    spending: dict[int, int] = {}
    for proposal_id, cost in cost_by_id.items():
        year = scheduled[proposal_id].year
        spending[year] = spending.get(year, 0) + cost
    revenue = revenue_by_year(years.revenue_cents, years.first_year, years.years)
    return CashView(title, cash_flow(revenue, spending, borrowing_limit_cents=borrowing_limit_cents), years)
