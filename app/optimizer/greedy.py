"""The greedy-by-score list, as CONSUL funds participatory-budget investments: highest score first,
each funded if it still fits the money left, skipped otherwise; nothing but the budget is respected.
With tiers, Tier 1 is filled that way first, then Tier 2 from the proposals left over. With a
cash-flow rule, a proposal is funded only if a year can take it too (its own fixed year, else the
earliest year that keeps spending to date within revenue to date plus the borrowing limit)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from app.optimizer import cash_flow
from app.optimizer.model import Candidate, Rules, validate
from app.optimizer.results import Outcome, summarize


def greedy(candidates: Iterable[Candidate], rules: Rules) -> Outcome:
    """The CONSUL-style list; its `violations` say which other rules it breaks."""
    started = time.perf_counter()
    ordered = sorted(validate(tuple(candidates), rules), key=lambda c: (-c.score, c.cost_cents, c.id))
    selection: dict[str, int] = {}
    years: dict[str, int] = {}
    spent_by_year: dict[int, int] = {}
    for tier in rules.ordered_tiers:
        left = rules.tier_budget_cents(tier)
        for candidate in ordered:
            if candidate.id in selection or candidate.cost_cents > left:
                continue
            if rules.cash_flow is not None:
                year = cash_flow.earliest_year(rules.cash_flow, spent_by_year, candidate)
                if year is None:
                    continue
                years[candidate.id] = year
                spent_by_year[year] = spent_by_year.get(year, 0) + candidate.cost_cents
            selection[candidate.id] = tier.number
            left -= candidate.cost_cents
    return summarize(tuple(ordered), rules, selection, status="greedy",
                     seconds=time.perf_counter() - started, with_violations=True, years=years)
