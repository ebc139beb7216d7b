"""Cash flow: spending by year against the revenue collected.

Revenue: the program's expected revenue collected in equal shares over its collection years (whole
cents; the cents left over by the division go to the first years, so the shares add up exactly).
Spending: by the year the work is scheduled (a plan scenario's spending per year, or the published
list's projects by their scheduled year). The check: at the end of every year, spending to date must
not exceed revenue to date plus the borrowing limit (0 unless stated); a year where it does is flagged
with the shortfall.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CashYear:
    year: int
    revenue_cents: int
    spending_cents: int
    revenue_to_date_cents: int
    spending_to_date_cents: int
    borrowing_limit_cents: int = 0

    @property
    def balance_cents(self) -> int:
        return self.revenue_to_date_cents - self.spending_to_date_cents

    @property
    def short(self) -> bool:
        return self.balance_cents + self.borrowing_limit_cents < 0

    @property
    def shortfall_cents(self) -> int:
        """How much spending to date exceeds revenue to date plus the borrowing limit (0 when it does not)."""
        return max(0, -(self.balance_cents + self.borrowing_limit_cents))


@dataclass(frozen=True)
class CashFlow:
    rows: list[CashYear]
    unscheduled_cents: int  # spending without a year
    borrowing_limit_cents: int = 0

    @property
    def ok(self) -> bool:
        return not any(r.short for r in self.rows)

    @property
    def first_short(self) -> CashYear | None:
        return next((r for r in self.rows if r.short), None)

    @property
    def short_years(self) -> list[int]:
        return [r.year for r in self.rows if r.short]

    @property
    def revenue_cents(self) -> int:
        return sum(r.revenue_cents for r in self.rows)

    @property
    def spending_cents(self) -> int:
        return sum(r.spending_cents for r in self.rows)


def revenue_by_year(total_cents: int, first_year: int, years: int) -> dict[int, int]:
    """Equal yearly shares of the revenue; the remainder's cents go to the first years."""
    share, remainder = divmod(total_cents, years)
    return {first_year + k: share + (1 if k < remainder else 0) for k in range(years)}


def cash_flow(revenue: Mapping[int, int], spending: Mapping[int, int], unscheduled_cents: int = 0,
              borrowing_limit_cents: int = 0) -> CashFlow:
    """Year by year, over every year with revenue or spending."""
    rows = []
    revenue_to_date = spending_to_date = 0
    for year in sorted(set(revenue) | set(spending)):
        revenue_to_date += revenue.get(year, 0)
        spending_to_date += spending.get(year, 0)
        rows.append(CashYear(year, revenue.get(year, 0), spending.get(year, 0), revenue_to_date, spending_to_date,
                             borrowing_limit_cents))
    return CashFlow(rows, unscheduled_cents, borrowing_limit_cents)
