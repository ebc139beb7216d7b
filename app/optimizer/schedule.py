"""The years of a chosen list under the cash-flow rule: an exact integer program.

For the m listed proposals whose year is free, z[s, j] ∈ {0, 1}: proposal s is spent in year j.

    Σ_j z[s, j] = 1                                                    every proposal in one year
    fixed to date (year j) + Σ_s Σ_{j' ≤ j} cost_s · z[s, j'] ≤ revenue to date (j) + borrowing limit

Minimize Σ_s w_s · j · z[s, j], with w_s = the proposal's score units + 1: the best proposals are
spent as early as the money allows, and none waits without need. The objective is whole, so an
absolute gap below one proves the optimum. HiGHS starts from the greedy schedule (best score first,
each in the earliest year the money allows — always complete when the list keeps the projection
rows of step 1, as the last year can take whatever is left) and gets ``SCHEDULE_SECONDS``: small
lists are proven optimal (the tests check them against every year assignment); on lists of hundreds
of proposals the proof can take far longer, and the best schedule found in that time is kept
(``schedule`` says whether it was proven). Money is re-checked in integer cents; if the
floating-point answer broke a year by rounding, that year is tightened and the program solved again
(and, failing that, the greedy schedule is kept: it is checked in cents as it is built).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence

import numpy as np

from app.optimizer import cash_flow
from app.optimizer.integer_program import INF, OPTIMAL, _highs, _Program, _Row, _run
from app.optimizer.model import Candidate, CashFlow, score_units
from app.optimizer.rulebook import RuleKind, RuleRef

SCHEDULE_SECONDS = 2.0


def schedule(candidates: Sequence[Candidate], cash: CashFlow, *, in_force: Collection[RuleRef],
             time_limit: float = 10.0) -> tuple[dict[str, int], bool]:
    """Each listed candidate's year, and whether the schedule is proven the earliest (score-weighted)."""
    years = cash.years
    fixed = {c.id: c.year for c in candidates if c.year is not None}
    free = [c for c in candidates if c.year is None]
    if not free:
        return fixed, True
    fixed_by_year: dict[int, int] = {}
    for c in candidates:
        if c.year is not None:
            fixed_by_year[c.year] = fixed_by_year.get(c.year, 0) + c.cost_cents
    fixed_to_date = cash_flow.to_date(cash, fixed_by_year)
    allowed = cash.allowed_to_date()
    checked = [y for y in years if RuleRef(RuleKind.CASH_FLOW, str(y)) in in_force]
    m, k = len(free), len(years)
    cost = np.array([c.cost_cents for c in free], dtype=float)
    weight = np.array([max(score_units(c.score), 0) + 1 for c in free], dtype=float)
    objective = np.concatenate([weight * j for j in range(k)])  # column j·m + s: proposal s in year j
    greedy = _greedy(free, weight, cash, fixed_by_year)
    start = np.zeros(m * k)
    for s, c in enumerate(free):
        start[years.index(greedy[c.id]) * m + s] = 1.0
    deadline = time.perf_counter() + min(time_limit, SCHEDULE_SECONDS)
    margins: dict[int, int] = {}
    for _attempt in range(4):
        rows = [_Row(None, 1.0, 1.0, s + m * np.arange(k), np.ones(k)) for s in range(m)]
        for j, year in enumerate(years):
            if year in checked:
                upto = np.arange(m * (j + 1))
                rows.append(_Row(None, -INF, allowed[year] - fixed_to_date[year] - margins.get(year, 0), upto,
                                 np.tile(cost, j + 1)))
        program = _Program(objective, np.tile(cost, k), np.zeros(m * k), np.ones(m * k), rows)
        status, values = _run(_highs(deadline - time.perf_counter()), program.lp(objective, maximize=False), start)
        if values is None:
            return {**fixed, **greedy}, False
        on = values.reshape(k, m) > 0.5
        chosen = {c.id: years[int(np.argmax(on[:, s]))] for s, c in enumerate(free)}
        by_year = dict(fixed_by_year)
        for c in free:
            by_year[chosen[c.id]] = by_year.get(chosen[c.id], 0) + c.cost_cents
        broken = {y: over for y, over in cash_flow.overspent(cash, by_year).items() if y in checked}
        if not broken:
            return {**fixed, **chosen}, status == OPTIMAL
        for year, over in broken.items():
            margins[year] = margins.get(year, 0) + over
    return {**fixed, **greedy}, False


def _greedy(free: list[Candidate], weight: np.ndarray, cash: CashFlow, fixed_by_year: dict[int, int]) -> dict[str, int]:
    """Best score first, each proposal in the earliest year the money allows (the last year when none
    earlier does: it always can, since the list keeps the last year's row)."""
    spent = dict(fixed_by_year)
    out = {}
    for s in sorted(range(len(free)), key=lambda s: (-weight[s], free[s].id)):
        candidate = free[s]
        year = cash_flow.earliest_year(cash, spent, candidate) or cash.years[-1]
        out[candidate.id] = year
        spent[year] = spent.get(year, 0) + candidate.cost_cents
    return out
