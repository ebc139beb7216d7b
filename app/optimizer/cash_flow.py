"""Annual cash flow (``Rules.cash_flow``): spending to date never above revenue to date plus the
borrowing limit, at the end of every year.

Each listed proposal is spent in one year: the year staff fixed (``Candidate.year``) or one the
optimizer chooses. Whether a *list* can be scheduled needs no year variables: a proposal whose year
is free can always go in the last year, where it adds only to the last year's spending to date, so a
list can be scheduled exactly when

    fixed spending to date (year y) ≤ allowed (y)                      for every year before the last
    fixed spending to date (last) + every free proposal ≤ allowed (last)

(the *projection* of the year-assignment constraints onto the list). Step 1 of the integer program
uses these rows; ``schedule`` then assigns the years (an exact integer program of its own). Pure:
no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.i18n import gettext as _
from app.i18n import money
from app.optimizer.model import Candidate, CashFlow


def to_date(cash: CashFlow, spending_by_year: Mapping[int, int]) -> dict[int, int]:
    """Year -> spending to the end of it."""
    out, total = {}, 0
    for year in cash.years:
        total += spending_by_year.get(year, 0)
        out[year] = total
    return out


def projected(cash: CashFlow, chosen: Iterable[Candidate]) -> dict[int, int]:
    """Spending by year with every free proposal in the last year (the projection above)."""
    by_year: dict[int, int] = {}
    last = cash.years[-1]
    for c in chosen:
        year = c.year if c.year is not None else last
        by_year[year] = by_year.get(year, 0) + c.cost_cents
    return by_year


def overspent(cash: CashFlow, spending_by_year: Mapping[int, int]) -> dict[int, int]:
    """Year -> cents by which spending to date exceeds what is allowed by then (only years over)."""
    allowed = cash.allowed_to_date()
    return {year: spent - allowed[year] for year, spent in to_date(cash, spending_by_year).items()
            if spent > allowed[year]}


def members(cash: CashFlow, candidates: tuple[Candidate, ...], year: int) -> list[int]:
    """The candidates whose cost counts in ``year``'s row of the projection."""
    last = year == cash.years[-1]
    return [i for i, c in enumerate(candidates) if (c.year is None and last) or (c.year is not None and c.year <= year)]


def earliest_year(cash: CashFlow, spent_by_year: Mapping[int, int], candidate: Candidate) -> int | None:
    """The earliest year the candidate can be added in without breaking the cash flow (its own year,
    when fixed), or None (the greedy list's rule)."""
    allowed = cash.allowed_to_date()
    spent = to_date(cash, spent_by_year)
    years = (candidate.year,) if candidate.year is not None else cash.years
    for year in years:
        if all(spent[y] + candidate.cost_cents <= allowed[y] for y in cash.years if y >= year):
            return year
    return None


def violation_text(cash: CashFlow, year: int, spent_to_date: int, over: int, later: int) -> str:
    values = {"year": year, "spent": money(spent_to_date), "over": money(over),
              "allowed": money(cash.allowed_to_date()[year])}
    if cash.borrowing_limit_cents:
        text = _("By the end of {year}, {spent} is spent, {over} more than {allowed} (revenue to date plus the "
                 "borrowing limit).").format(**values)
    else:
        text = _("By the end of {year}, {spent} is spent, {over} more than {allowed} (revenue to date).").format(
            **values)
    if later:
        text += " " + _("Spending also runs ahead of revenue in {count} later years.").format(count=later)
    return text
