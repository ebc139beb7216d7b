"""Splitting a chosen list between Tier 1 and Tier 2, exactly and fast.

Which proposals move to Tier 2 so that Tier 1 fits its budget, Tier 2 fits its own, and the
score moved out of Tier 1 is the least possible? Choose X ⊆ list with

    low ≤ cost(X) ≤ high      (low = list cost − Tier 1 budget, high = Tier 2 budget)

minimizing score(X). The window high − low is the money the list leaves unspent — often a few
hundred dollars on a $100M list — so this is nearly a subset-sum problem, on which LP-based
branch and bound proves next to nothing (HiGHS takes seconds on 30 items). It is solved
instead the way knapsack codes do it:

- Sort by score per cent; the LP optimum moves the cheapest-to-move prefix B and part of the
  break item, at price λ (its score per cent). Every list X then scores
  score(X) = λ·cost(X) + R_B + Σ_{j ∈ X △ B} d_j, with d_j = |score_j − λ·cost_j| ≥ 0, so a
  solution scoring z only changes B by items whose d adds up to at most z − (λ·low + R_B).
- Enumerate every change to B whose d adds up to less than a gap g, by meet in the middle: the
  items with d_j < g in two halves, each half's subsets with Σd < g, then for every subset of
  one half the best subset of the other whose cost lands the total in the window (sorted costs,
  binary search, sparse-table range minimum), in numpy.
- If the best change found scores z with z − (λ·low + R_B) < g, nothing better exists: proven
  optimal. Otherwise g grows and the search repeats. When every item is within g and nothing
  fits, no split exists. When the search grows past its limits, it gives up (None) and the
  caller uses the integer program instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_MAX_STATES = 1 << 18  # subsets kept per half
_MAX_ITEMS = 2 * 62  # items in play (each half's subsets are bit masks in an int64)


@dataclass(frozen=True)
class Split:
    """A proven answer: the optimal moves, or (moved is None) proof that no split exists."""

    moved: np.ndarray | None  # boolean mask over the list: the proposals placed in Tier 2


def split(cost: np.ndarray, units: np.ndarray, low: int, high: int) -> Split | None:
    """The least-score set of items whose cost lies in [low, high]; None when the search gave up.
    cost and units are whole numbers (cents, score units)."""
    cost = np.asarray(cost, dtype=np.int64)
    units = np.asarray(units, dtype=np.int64)
    none_moved = (cost == 0) & (units < 0)  # a free item moves only if it scores below zero
    if low > high or high < 0:
        return Split(None)
    items = np.flatnonzero(cost > 0)
    c, u = cost[items], units[items]
    if len(items) == 0 or int(c.sum()) < low:
        return Split(none_moved if low <= 0 else None)  # even moving everything may not do
    order = np.lexsort((items, u / c))  # cheapest score per cent first; ties by position
    prefix = np.cumsum(c[order])
    b = int(np.searchsorted(prefix, low, side="left"))
    brk = order[b]
    price = u[brk] / c[brk]
    in_base = np.zeros(len(items), dtype=bool)
    in_base[order[:b]] = True
    reduced = u - price * c
    d = np.abs(reduced)
    base_cost, base_units = int(c[in_base].sum()), int(u[in_base].sum())
    floor = min(price * low, price * high) + float(reduced[in_base].sum())
    step_cost = np.where(in_base, -c, c)  # changing item j's side of B
    step_units = np.where(in_base, -u, u)
    window = (low - base_cost, high - base_cost)
    by_d = np.argsort(d, kind="stable")
    tolerance = 1e-9 * (abs(floor) + 1.0)  # floating-point slack on sums of d
    gap = float(d[by_d[min(len(by_d) - 1, 12)]]) + 1.0
    while True:
        play = by_d[d[by_d] < gap]
        if len(play) > _MAX_ITEMS:
            return None
        halves = [_subsets(play[h::2], step_cost, step_units, d, gap + tolerance) for h in (0, 1)]
        if halves[0] is None or halves[1] is None:
            return None
        best = _best_pair(halves[0], halves[1], window)
        if best is not None:
            total, mask = best
            z = base_units + total
            if z - floor < gap - tolerance:
                moved_items = in_base.copy()
                for h, half_mask in ((0, mask[0]), (1, mask[1])):
                    for t, j in enumerate(play[h::2]):
                        if (int(half_mask) >> t) & 1:
                            moved_items[j] = not moved_items[j]
                moved = none_moved.copy()
                moved[items[moved_items]] = True
                return Split(moved)
            gap = z - floor + 1.0
            continue
        if len(play) == len(items) and gap > d.sum() + tolerance:
            return Split(None)  # every subset was tried
        gap *= 2.0


@dataclass(frozen=True)
class _Half:
    cost: np.ndarray  # int64 change in moved cost
    units: np.ndarray  # int64 change in moved score
    mask: np.ndarray  # int64 bit t: the half's item t changes side


def _subsets(members: np.ndarray, step_cost: np.ndarray, step_units: np.ndarray, d: np.ndarray,
             gap: float) -> _Half | None:
    """Every subset of members whose d adds up to less than gap."""
    cost = np.zeros(1, dtype=np.int64)
    units = np.zeros(1, dtype=np.int64)
    spent = np.zeros(1)
    mask = np.zeros(1, dtype=np.int64)
    for t, j in enumerate(members):
        keep = spent + d[j] < gap
        if keep.any():
            cost = np.concatenate([cost, cost[keep] + step_cost[j]])
            units = np.concatenate([units, units[keep] + step_units[j]])
            spent = np.concatenate([spent, spent[keep] + d[j]])
            mask = np.concatenate([mask, mask[keep] | np.int64(1 << t)])
            if len(cost) > _MAX_STATES:
                return None
    return _Half(cost, units, mask)


def _best_pair(a: _Half, b: _Half, window: tuple[int, int]) -> tuple[int, tuple[int, int]] | None:
    """The pair of subsets (one from each half) with the least total score change whose total cost
    change lies in the window: for each subset of a, the range of b's sorted costs that fits,
    and the least score in that range from a sparse table."""
    order = np.argsort(b.cost, kind="stable")
    costs, units = b.cost[order], b.units[order]
    lo = np.searchsorted(costs, window[0] - a.cost, side="left")
    hi = np.searchsorted(costs, window[1] - a.cost, side="right")
    fits = hi > lo
    if not fits.any():
        return None
    table = [np.arange(len(costs))]  # table[k][i]: position of the least score in [i, i + 2^k)
    width = 1
    while 2 * width <= len(costs):
        left, right = table[-1][:-width], table[-1][width:]
        table.append(np.where(units[left] <= units[right], left, right))
        width *= 2
    lo, hi, rows = lo[fits], hi[fits], np.flatnonzero(fits)
    level = np.floor(np.log2(hi - lo)).astype(int)
    pick = np.empty(len(lo), dtype=np.int64)
    for k in np.unique(level):
        at = level == k
        first, second = table[k][lo[at]], table[k][hi[at] - (1 << k)]
        pick[at] = np.where(units[first] <= units[second], first, second)
    totals = a.units[rows] + units[pick]
    best = int(np.argmin(totals))
    return int(totals[best]), (int(a.mask[rows[best]]), int(b.mask[order[pick[best]]]))
