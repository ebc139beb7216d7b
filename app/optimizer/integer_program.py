"""The integer program, solved exactly by HiGHS (highspy).

Variables: y[i] ∈ {0, 1} — proposal i is on the list; for every tier t after the first,
x[i, t] ∈ {0, 1} — it is funded in tier t (otherwise a chosen proposal is in Tier 1).
Objective: maximize Σ u(i, 1) · y[i] + Σ_{t>1} (u(i, t) − u(i, 1)) · x[i, t], where u(i, t) =
score_units(score_i, weight_t) is a whole number, so the optimum is proven exactly (absolute gap
below one unit); a second solve then finds the cheapest list with that score (the tie-break).
Constraints (each belongs to one rule group, so any of them can be dropped):
  Σ_{t>1} x[i, t] ≤ y[i]                          a proposal is in one tier
  Σ_i cost_i · (y[i] − Σ_{t>1} x[i, t]) ≤ budget_1  Tier 1 budget; Σ_i cost_i · x[i, t] ≤ budget_t
  Σ_{i ∈ category} cost_i · y[i] ≤ cap             category cap   (≥ floor for a floor)
  Σ_i cost_i · (1[i ∈ d] − share_d) · y[i] ≥ 0     district minimum share (the linear form of
                                                  spending_d ≥ share_d × total spending)
  Σ_{i ∈ group} y[i] ≤ 1                           alternates
  y[i] = 1 (must include) or y[i] = 0 (must exclude)  locks
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection
from dataclasses import dataclass

import highspy
import numpy as np

from app.optimizer.model import BPS, Candidate, Lock, Rules, score_units
from app.optimizer.rulebook import RuleKind, RuleRef, district_balance

INF = highspy.kHighsInf
OPTIMAL, INFEASIBLE, TIME_LIMIT = "optimal", "infeasible", "time_limit"


@dataclass(frozen=True)
class Solution:
    status: str  # optimal | infeasible | time_limit
    placements: dict[int, int]  # candidate index -> tier number
    objective_units: int | None
    seconds: float
    bound_units: int | None = None  # no list can score more (equals objective_units when optimal)


@dataclass
class _Row:
    ref: RuleRef | None
    lower: float
    upper: float
    index: np.ndarray
    value: np.ndarray


class _Model:
    """Columns and rows for one set of rules in force. Columns: y[0..n), then x[i, t] tier by tier."""

    def __init__(self, candidates: tuple[Candidate, ...], rules: Rules, in_force: Collection[RuleRef],
                 margins: dict[RuleRef, int]):
        self.candidates = candidates
        self.tiers = tuple(sorted(rules.tiers, key=lambda t: t.number))
        n, k = len(candidates), len(self.tiers)
        self.n = n
        force = set(in_force)
        cost = np.array([c.cost_cents for c in candidates], dtype=float)
        units = np.array([[score_units(c.score, t.weight) for t in self.tiers] for c in candidates],
                         dtype=float).reshape(n, k)
        self.units_by_tier = units
        self.cost = np.concatenate([cost, np.zeros(n * (k - 1))])
        self.units = np.concatenate([units[:, 0]] + [units[:, j] - units[:, 0] for j in range(1, k)])
        self.lower = np.zeros(n * k)
        self.upper = np.ones(n * k)
        everyone = np.arange(n)
        rows: list[_Row] = []
        for i, c in enumerate(candidates):
            if RuleRef(RuleKind.FORCED, c.id) in force or (
                    c.lock is Lock.MUST_INCLUDE and RuleRef(RuleKind.LOCK, c.id) in force):
                self.lower[i] = 1
            if c.lock is Lock.MUST_EXCLUDE and RuleRef(RuleKind.LOCK, c.id) in force:
                self.upper[i] = 0
        if k > 1:
            for i in range(n):
                later = i + n * np.arange(1, k)
                rows.append(_Row(None, -INF, 0.0, np.concatenate([later, [i]]),
                                 np.concatenate([np.ones(k - 1), [-1.0]])))
        for j, tier in enumerate(self.tiers):
            ref = RuleRef(RuleKind.TIER_BUDGET, str(tier.number))
            if ref not in force:
                continue
            budget = rules.tier_budget_cents(tier) - margins.get(ref, 0)
            if j == 0:  # Tier 1 holds every chosen proposal not placed in a later tier
                later = np.concatenate([everyone + n * t for t in range(1, k)]) if k > 1 else np.zeros(0, dtype=int)
                rows.append(_Row(ref, -INF, budget, np.concatenate([everyone, later]),
                                 np.concatenate([cost, -np.tile(cost, k - 1)])))
            else:
                rows.append(_Row(ref, -INF, budget, everyone + n * j, cost))
        by_category: dict[str, list[int]] = {}
        by_district: dict[str, list[int]] = {}
        by_group: dict[str, list[int]] = {}
        for i, c in enumerate(candidates):
            by_category.setdefault(c.category, []).append(i)
            if c.district is not None:
                by_district.setdefault(c.district, []).append(i)
            if c.alternate_group is not None:
                by_group.setdefault(c.alternate_group, []).append(i)
        for rule in rules.categories:
            members = np.array(by_category.get(rule.category, []), dtype=int)
            cap = RuleRef(RuleKind.CATEGORY_CAP, rule.category)
            if cap in force:
                rows.append(_Row(cap, -INF, rule.cap_cents - margins.get(cap, 0), members, cost[members]))
            floor = RuleRef(RuleKind.CATEGORY_FLOOR, rule.category)
            if floor in force:
                rows.append(_Row(floor, rule.floor_cents + margins.get(floor, 0), INF, members, cost[members]))
        for minimum in rules.district_minimums:
            ref = RuleRef(RuleKind.DISTRICT_MINIMUM, minimum.district)
            if ref not in force:
                continue
            inside = np.zeros(n)
            inside[by_district.get(minimum.district, [])] = 1.0
            rows.append(_Row(ref, margins.get(ref, 0), INF, everyone, cost * (inside - minimum.min_share_bps / BPS)))
        for group, members in sorted(by_group.items()):
            ref = RuleRef(RuleKind.ALTERNATES, group)
            if ref in force and len(members) > 1:
                rows.append(_Row(ref, -INF, 1.0, np.array(members), np.ones(len(members))))
        self.rows = rows

    def lp(self, objective: np.ndarray, maximize: bool) -> highspy.HighsLp:
        lp = highspy.HighsLp()
        lp.num_col_ = len(objective)
        lp.num_row_ = len(self.rows)
        lp.col_cost_ = objective
        lp.col_lower_ = self.lower
        lp.col_upper_ = self.upper
        lp.row_lower_ = np.array([r.lower for r in self.rows], dtype=float)
        lp.row_upper_ = np.array([r.upper for r in self.rows], dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lengths = [len(r.index) for r in self.rows]
        lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int32)
        lp.a_matrix_.index_ = (np.concatenate([r.index for r in self.rows]).astype(np.int32)
                               if self.rows else np.zeros(0, dtype=np.int32))
        lp.a_matrix_.value_ = (np.concatenate([r.value for r in self.rows]).astype(float)
                               if self.rows else np.zeros(0))
        lp.integrality_ = [highspy.HighsVarType.kInteger] * len(objective)
        lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        return lp


def _highs(time_limit: float) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.99)  # objectives are whole units: a gap below one proves the optimum
    h.setOptionValue("time_limit", max(time_limit, 0.01))
    return h


def _run(h: highspy.Highs, lp: highspy.HighsLp, start: np.ndarray | None = None) -> tuple[str, np.ndarray | None]:
    h.passModel(lp)
    if start is not None:
        _give(h, start)
    h.run()
    status = h.getModelStatus()
    has_solution = h.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value) if has_solution and lp.num_col_ else None
    if lp.num_col_ == 0:  # no candidates: the empty list, if the rules allow spending nothing
        empty_ok = all(low <= 0 <= up for low, up in zip(lp.row_lower_, lp.row_upper_, strict=True))
        return (OPTIMAL, np.zeros(0)) if empty_ok else (INFEASIBLE, None)
    if status == highspy.HighsModelStatus.kOptimal:
        return OPTIMAL, values
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return INFEASIBLE, None
    return TIME_LIMIT, values


def _exact_shortfalls(model: _Model, rules: Rules, chosen: np.ndarray, in_force: Collection[RuleRef]
                      ) -> dict[RuleRef, int]:
    """Integer re-check of the money rows (the solver works in floating point): the cents by which a
    rule in force is broken, so it can be tightened by that much and re-solved."""
    from app.optimizer.check import spending

    placements = _placements(model, chosen)
    totals = spending((model.candidates[i], tier) for i, tier in placements.items())
    broken: dict[RuleRef, int] = {}
    for ref in in_force:
        over = 0
        if ref.kind is RuleKind.TIER_BUDGET:
            tier = rules.tier(int(ref.key))
            over = totals.by_tier.get(tier.number, 0) - rules.tier_budget_cents(tier)
        elif ref.kind is RuleKind.CATEGORY_CAP:
            rule = next(r for r in rules.categories if r.category == ref.key)
            over = totals.by_category.get(ref.key, 0) - rule.cap_cents
        elif ref.kind is RuleKind.CATEGORY_FLOOR:
            rule = next(r for r in rules.categories if r.category == ref.key)
            over = rule.floor_cents - totals.by_category.get(ref.key, 0)
        elif ref.kind is RuleKind.DISTRICT_MINIMUM:
            minimum = next(d for d in rules.district_minimums if d.district == ref.key)
            over = -district_balance(totals.by_district.get(ref.key, 0), totals.total, minimum.min_share_bps)
        if over > 0:
            broken[ref] = over
    return broken


def _placements(model: _Model, values: np.ndarray) -> dict[int, int]:
    """Candidate index -> tier number of every chosen proposal."""
    on = values > 0.5
    placements = {int(i): model.tiers[0].number for i in np.flatnonzero(on[:model.n])}
    for j in range(1, len(model.tiers)):
        for i in np.flatnonzero(on[j * model.n:(j + 1) * model.n]):
            placements[int(i)] = model.tiers[j].number
    return placements


def solve(candidates: tuple[Candidate, ...], rules: Rules, *, in_force: Collection[RuleRef],
          feasibility_only: bool = False, cheapest_on_tie: bool = True, time_limit: float = 30.0) -> Solution:
    """Best list under the rules in force (or any list at all, when feasibility_only); without
    cheapest_on_tie, the first optimal list HiGHS finds (one solve instead of two)."""
    started = time.perf_counter()
    in_force = frozenset(in_force)
    margins: dict[RuleRef, int] = {}
    for _attempt in range(4):
        model = _Model(candidates, rules, in_force, margins)
        remaining = time_limit - (time.perf_counter() - started)
        objective = np.zeros_like(model.units) if feasibility_only else model.units
        relaxed = None if feasibility_only else _relax(model, remaining)
        start = None if relaxed is None else relaxed.start
        status, values, h = TIME_LIMIT, None, None
        if relaxed is not None and start is not None:
            # Exact: every list scoring at least the start survives the reduced-cost fixing, so the
            # optimum does. Usually far faster; when HiGHS stalls on it anyway, the full model
            # takes over from the best list found.
            fixed = model.lp(objective, maximize=True)
            fixed.col_lower_, fixed.col_upper_ = relaxed.bounds(model, int(round(float(model.units @ (start > 0.5)))))
            h = _highs(min(remaining, max(_FIXED_FIRST_SECONDS, remaining * _FIXED_FIRST_SHARE)))
            status, values = _run(h, fixed, start)
            status = TIME_LIMIT if status == INFEASIBLE else status  # only rounding could do that
            start = values if values is not None else start
        remaining = time_limit - (time.perf_counter() - started)
        if status != OPTIMAL and (h is None or remaining > 0.05):
            h = _highs(remaining)
            status, values = _run(h, model.lp(objective, maximize=True), start)
        if values is None:
            return Solution(status, {}, None, time.perf_counter() - started)
        best_units = int(round(float(model.units @ (values > 0.5))))
        dual = h.getInfo().mip_dual_bound
        bound = best_units if status == OPTIMAL else (math.floor(dual + 1e-6) if math.isfinite(dual) else None)
        if status == OPTIMAL and not feasibility_only and cheapest_on_tie:
            values = _cheapest_at(model, best_units, values, time_limit - (time.perf_counter() - started),
                                  relaxed)
        broken = _exact_shortfalls(model, rules, values, in_force)
        if not broken:
            return Solution(status, _placements(model, values), best_units, time.perf_counter() - started,
                            None if feasibility_only else bound)
        for ref, over in broken.items():  # district shortfalls are in cents × basis points
            margins[ref] = margins.get(ref, 0) + (-(-over // BPS) if ref.kind is RuleKind.DISTRICT_MINIMUM else over)
    return Solution(TIME_LIMIT, {}, None, time.perf_counter() - started)


def _give(h: highspy.Highs, values: np.ndarray) -> None:
    """Hand HiGHS a known list (it checks it keeps every rule) as its first incumbent."""
    solution = highspy.HighsSolution()
    solution.col_value = list(values)
    solution.value_valid = True
    h.setSolution(solution)


@dataclass
class _Relaxation:
    """The LP relaxation of the score model and a near-optimal list found from it. Its reduced
    costs shrink both exact solves (score and tie-break) by reduced-cost fixing."""

    bound: float  # LP optimum: no list scores more
    values: np.ndarray
    reduced: np.ndarray  # |reduced cost| of each column (0 for basic ones)
    nonbasic: np.ndarray
    start: np.ndarray | None

    def bounds(self, model: _Model, reaching: int) -> tuple[np.ndarray, np.ndarray]:
        """Column bounds with reduced-cost fixing: a nonbasic column whose reduced cost exceeds
        bound − reaching keeps its LP value in every list scoring at least `reaching` (LP duality:
        moving it costs more than the gap), so fixing it loses no such list. The margin covers
        the solver's floating-point tolerances."""
        gap = self.bound - reaching + _FIXING_MARGIN + 1e-6 * abs(self.bound)
        fixed = self.nonbasic & (self.reduced > gap)
        whole = np.clip(np.round(self.values), model.lower, model.upper)
        return np.where(fixed, whole, model.lower), np.where(fixed, whole, model.upper)


_FIXING_MARGIN = 1.0  # score units
_FIXED_FIRST_SECONDS, _FIXED_FIRST_SHARE = 2.0, 0.05 # the fixed model's time before the full one takes over


def _relax(model: _Model, remaining: float) -> _Relaxation | None:
    """A near-optimal list to start the exact solve from, so HiGHS mostly has to prove it.

    It solves the LP relaxation and then a small integer program, the core, over the columns the
    LP leaves open: fractional ones, nonbasic ones whose reduced cost is small, and — with tiers —
    the tier columns of chosen proposals whose tier is a close call (moving one to a later tier
    loses about as much score as the Tier 1 room it frees is worth at the LP's budget prices;
    these columns are degenerate in the LP, so their reduced costs say nothing). Only a starting
    point: the exact solve still proves the optimum."""
    lp = model.lp(model.units, maximize=True)
    lp.integrality_ = []
    h = _highs(remaining / 4)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    values = np.asarray(h.getSolution().col_value)
    reduced = np.abs(np.asarray(h.getSolution().col_dual))
    basic = np.array([s == highspy.HighsBasisStatus.kBasic for s in h.getBasis().col_status], dtype=bool)
    whole = np.round(values)
    fractional = np.abs(values - whole) > 1e-6
    free = fractional | (~basic & (reduced <= _CORE_REDUCED_COST))
    if len(model.tiers) > 1:
        price = _tier_prices(model, np.asarray(h.getSolution().row_dual))
        chosen = whole[:model.n] > 0.5
        cost = model.cost[:model.n]
        for j in range(1, len(model.tiers)):
            lost = model.units_by_tier[:, 0] - model.units_by_tier[:, j]
            close = chosen & (np.abs(lost - abs(price[0] - price[j]) * cost) <= _CORE_TIER_CALL)
            free[j * model.n:(j + 1) * model.n] |= close
    core = model.lp(model.units, maximize=True)
    core.col_lower_ = np.where(free, model.lower, np.clip(whole, model.lower, model.upper))
    core.col_upper_ = np.where(free, model.upper, np.clip(whole, model.lower, model.upper))
    status, found = _run(_highs(remaining / 4), core)
    bound = h.getInfo().objective_function_value
    return _Relaxation(bound, values, reduced, ~basic, found if status != INFEASIBLE else None)


def _tier_prices(model: _Model, row_dual: np.ndarray) -> list[float]:
    """The LP's price of one cent of each tier's budget (0 for a tier whose budget is not in force)."""
    price = [0.0] * len(model.tiers)
    for k, row in enumerate(model.rows):
        if row.ref is not None and row.ref.kind is RuleKind.TIER_BUDGET:
            price[next(j for j, t in enumerate(model.tiers) if str(t.number) == row.ref.key)] = float(row_dual[k])
    return price


_CORE_REDUCED_COST = 300.0  # score units (0.3 weighted points): how far from the LP optimum the core reaches
_CORE_TIER_CALL = 2000.0  # score units: how close a tier choice must be for the core to reopen it


def _cheapest_at(model: _Model, best_units: int, incumbent: np.ndarray, remaining: float,
                 relaxed: _Relaxation | None = None) -> np.ndarray:
    """Second solve: the cheapest list that still reaches the optimal score (deterministic tie-break).
    The score is already proven optimal; if this solve runs out of time the cheaper of the two is kept."""
    h = _highs(remaining)
    lp = model.lp(model.cost, maximize=False)
    if relaxed is not None:
        lp.col_lower_, lp.col_upper_ = relaxed.bounds(model, best_units)
    h.passModel(lp)
    nonzero = np.flatnonzero(model.units)
    h.addRow(best_units - 0.5, INF, len(nonzero), nonzero.astype(np.int32), model.units[nonzero])
    _give(h, incumbent)
    h.run()
    if h.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible:
        values = np.asarray(h.getSolution().col_value)
        reaches = model.units @ (values > 0.5) >= best_units - 0.5
        if reaches and model.cost @ (values > 0.5) <= model.cost @ (incumbent > 0.5):
            return values
    return incumbent
