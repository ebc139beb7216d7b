"""The integer programs, solved exactly by HiGHS (highspy).

The best list is found in two exact steps (docs/OPTIMIZER.md, "The integer programs"):

1. **The list.** Variables y[i] ∈ {0, 1}: proposal i is on the list. Maximize Σ u(i) · y[i], where
   u(i) = score_units(score_i) is a whole number, so the optimum is proven exactly (absolute gap
   below one unit); a second solve then finds the cheapest list with that score (the tie-break).
   Constraints (each belongs to one rule group, so any of them can be dropped):
     Σ_i cost_i · y[i] ≤ Σ_t budget_t                 all tier budgets together
     Σ_{i ∈ category} cost_i · y[i] ≤ cap             category cap   (≥ floor for a floor)
     Σ_i (cost_{i,d} − share_d · cost_i) · y[i] ≥ 0  district minimum share (the linear form of
                                                     spending_d ≥ share_d × total spending; cost_{i,d}
                                                     is the part of i's cost counted to district d,
                                                     all of it or its share when i spans districts)
     Σ_{i ∈ group} y[i] ≤ 1                           alternates
     y[i] = 1 (must include) or y[i] = 0 (must exclude)  locks
     Σ_{i counted by year y} cost_i · y[i] ≤ revenue to date + borrowing limit   cash flow (optional;
                                                     the projection of the year assignment, see
                                                     cash_flow.py; app/optimizer/schedule.py assigns
                                                     the years afterwards)
2. **The tiers.** The chosen proposals are placed in tiers so each tier fits its own budget and
   Tier 1 holds the highest score it can (then Tier 2, …): for every tier t after the first,
   x[s, t] ∈ {0, 1} — chosen proposal s is funded in tier t (otherwise it is in Tier 1):
     Σ_{t>1} x[s, t] ≤ 1;  Σ_s cost_s · (1 − Σ_{t>1} x[s, t]) ≤ budget_1;  Σ_s cost_s · x[s, t] ≤ budget_t
   minimizing the score placed after Tier 1 (then after Tier 2, …).

Step 1 relaxes the tier budgets to their sum, so its list scores at least as much as any list
that fits the tiers; when step 2 finds a placement — almost always, as proposals are many and
small against the budget — that list is the optimum. When none exists, the full model (y and x
together, every tier budget in its own row) is solved instead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import highspy
import numpy as np

from app.optimizer import cash_flow, tier_split
from app.optimizer.model import BPS, Candidate, Lock, Rules, score_units
from app.optimizer.rulebook import RuleKind, RuleRef, category_limit, district_balance

INF = highspy.kHighsInf
OPTIMAL, INFEASIBLE, TIME_LIMIT = "optimal", "infeasible", "time_limit"
_ALL_TIERS = RuleRef(RuleKind.TIER_BUDGET, "all")  # the margin key of the summed budget row


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


@dataclass
class _Program:
    """A 0/1 program: column bounds, rows, each column's score units and cents (for the tie-break)."""

    units: np.ndarray
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    rows: list[_Row]

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


def _budget_ref(tier) -> RuleRef:
    return RuleRef(RuleKind.TIER_BUDGET, str(tier.number))


def _list_program(candidates: tuple[Candidate, ...], rules: Rules, force: frozenset[RuleRef],
                  margins: dict[RuleRef, int], *, with_tiers: bool) -> _Program:
    """Step 1's program (y only, the tier budgets summed) or, with_tiers, the full model: y[0..n),
    then x[i, t] tier by tier after the first, each tier budget in its own row."""
    tiers = rules.ordered_tiers
    n = len(candidates)
    k = len(tiers) if with_tiers else 1
    cost = np.array([c.cost_cents for c in candidates], dtype=float)
    units = np.array([score_units(c.score) for c in candidates], dtype=float)
    lower, upper = np.zeros(n * k), np.ones(n * k)
    everyone = np.arange(n)
    rows: list[_Row] = []
    for i, c in enumerate(candidates):
        if RuleRef(RuleKind.FORCED, c.id) in force or (
                c.lock is Lock.MUST_INCLUDE and RuleRef(RuleKind.LOCK, c.id) in force):
            lower[i] = 1
        if c.lock is Lock.MUST_EXCLUDE and RuleRef(RuleKind.LOCK, c.id) in force:
            upper[i] = 0
    if with_tiers:
        for i in range(n) if k > 1 else ():
            later = i + n * np.arange(1, k)
            rows.append(_Row(None, -INF, 0.0, np.concatenate([later, [i]]), np.concatenate([np.ones(k - 1), [-1.0]])))
        for j, tier in enumerate(tiers):
            ref = _budget_ref(tier)
            if ref not in force:
                continue
            budget = rules.tier_budget_cents(tier) - margins.get(ref, 0)
            if j == 0:  # Tier 1 holds every chosen proposal not placed in a later tier
                later = np.concatenate([everyone + n * t for t in range(1, k)]) if k > 1 else np.zeros(0, dtype=int)
                rows.append(_Row(ref, -INF, budget, np.concatenate([everyone, later]),
                                 np.concatenate([cost, -np.tile(cost, k - 1)])))
            else:
                rows.append(_Row(ref, -INF, budget, everyone + n * j, cost))
    elif all(_budget_ref(t) in force for t in tiers):  # a tier without its budget rule takes anything
        total = sum(rules.tier_budget_cents(t) for t in tiers) - margins.get(_ALL_TIERS, 0)
        rows.append(_Row(_ALL_TIERS, -INF, total, everyone, cost))
    by_category: dict[str, list[int]] = {}
    by_group: dict[str, list[int]] = {}
    for i, c in enumerate(candidates):
        by_category.setdefault(c.category, []).append(i)
        if c.alternate_group is not None:
            by_group.setdefault(c.alternate_group, []).append(i)
    for rule in rules.categories:
        members = np.array(by_category.get(rule.category, []), dtype=int)
        cap = RuleRef(RuleKind.CATEGORY_CAP, rule.category)
        if cap in force and rule.cap_cents is not None:
            rows.append(_Row(cap, -INF, rule.cap_cents - margins.get(cap, 0), members, cost[members]))
        floor = RuleRef(RuleKind.CATEGORY_FLOOR, rule.category)
        if floor in force and rule.floor_cents is not None:
            rows.append(_Row(floor, rule.floor_cents + margins.get(floor, 0), INF, members, cost[members]))
    for minimum in rules.district_minimums:
        ref = RuleRef(RuleKind.DISTRICT_MINIMUM, minimum.district)
        if ref not in force:
            continue
        inside = np.array([c.cost_by_district.get(minimum.district, 0) for c in candidates], dtype=float)
        rows.append(_Row(ref, margins.get(ref, 0), INF, everyone, inside - cost * (minimum.min_share_bps / BPS)))
    if rules.cash_flow is not None:  # the projection of the year assignment (app/optimizer/cash_flow.py)
        allowed = rules.cash_flow.allowed_to_date()
        for year in rules.cash_flow.years:
            ref = RuleRef(RuleKind.CASH_FLOW, str(year))
            if ref in force:
                held = np.array(cash_flow.members(rules.cash_flow, candidates, year), dtype=int)
                rows.append(_Row(ref, -INF, allowed[year] - margins.get(ref, 0), held, cost[held]))
    for group, alternates in sorted(by_group.items()):
        ref = RuleRef(RuleKind.ALTERNATES, group)
        if ref in force and len(alternates) > 1:
            rows.append(_Row(ref, -INF, 1.0, np.array(alternates), np.ones(len(alternates))))
    pad = np.zeros(n * (k - 1))
    return _Program(np.concatenate([units, pad]), np.concatenate([cost, pad]), lower, upper, rows)


def _tier_program(cost: np.ndarray, units: np.ndarray, rules: Rules, force: frozenset[RuleRef],
                  margins: dict[RuleRef, int]) -> _Program:
    """Step 2's program for the m chosen proposals: x[s, t] for every tier t after the first."""
    tiers = rules.ordered_tiers
    m, k = len(cost), len(tiers)
    rows: list[_Row] = []
    if k > 2:
        for s in range(m):
            rows.append(_Row(None, -INF, 1.0, s + m * np.arange(k - 1), np.ones(k - 1)))
    later = np.arange(m * (k - 1))
    for j, tier in enumerate(tiers):
        ref = _budget_ref(tier)
        if ref not in force:
            continue
        budget = rules.tier_budget_cents(tier) - margins.get(ref, 0)
        if j == 0:  # what Tier 1 cannot hold must move to later tiers
            rows.append(_Row(ref, float(cost.sum()) - budget, INF, later, np.tile(cost, k - 1)))
        else:
            rows.append(_Row(ref, -INF, budget, np.arange(m) + m * (j - 1), cost))
    return _Program(np.tile(units, k - 1), np.tile(cost, k - 1), np.zeros(m * (k - 1)), np.ones(m * (k - 1)), rows)


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
    if start is not None and values is not None and abs(
            float(np.asarray(lp.col_cost_) @ values) - h.getInfo().objective_function_value) > 0.5:
        # HiGHS 1.16 can report the objective of a better solution it found in the presolved
        # space while handing back the start's values: solve again without the start.
        return _run(h, lp)
    if lp.num_col_ == 0:  # nothing to choose: the empty choice, if the rows allow it
        empty_ok = all(low <= 0 <= up for low, up in zip(lp.row_lower_, lp.row_upper_, strict=True))
        return (OPTIMAL, np.zeros(0)) if empty_ok else (INFEASIBLE, None)
    if status == highspy.HighsModelStatus.kOptimal:
        return OPTIMAL, values
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return INFEASIBLE, None
    return TIME_LIMIT, values


def _give(h: highspy.Highs, values: np.ndarray) -> None:
    """Hand HiGHS a known solution (it checks it keeps every row) as its first incumbent."""
    solution = highspy.HighsSolution()
    solution.col_value = list(values)
    solution.value_valid = True
    h.setSolution(solution)


@dataclass(frozen=True)
class _Result:
    status: str
    values: np.ndarray | None
    bound: int | None  # no solution scores more
    relaxed: _Relaxation | None


def _best(program: _Program, objective: np.ndarray, deadline: float, start: np.ndarray | None = None) -> _Result:
    """The proven maximum of objective · v (whole units) over the program, from the LP relaxation's
    near-optimal start with exact reduced-cost fixing; HiGHS on the whole program when that stalls."""
    relaxed = _relax(program, objective, deadline) if objective.any() else None
    if relaxed is not None and relaxed.start is not None:
        start = relaxed.start if start is None or objective @ relaxed.start > objective @ start else start
    status, values, h = TIME_LIMIT, None, None
    remaining = deadline - time.perf_counter()
    if relaxed is not None and start is not None:
        # Exact: every solution scoring at least the start survives the fixing, so the optimum does.
        # Usually far faster; when HiGHS stalls on it anyway, the whole program takes over.
        fixed = program.lp(objective, maximize=True)
        fixed.col_lower_, fixed.col_upper_ = relaxed.bounds(program, int(round(float(objective @ (start > 0.5)))))
        h = _highs(min(remaining, max(_FIXED_FIRST_SECONDS, remaining * _FIXED_FIRST_SHARE)))
        status, values = _run(h, fixed, start)
        status = TIME_LIMIT if status == INFEASIBLE else status  # only rounding could do that
        start = values if values is not None else start
    remaining = deadline - time.perf_counter()
    if status != OPTIMAL and (h is None or remaining > 0.05):
        h = _highs(remaining)
        status, values = _run(h, program.lp(objective, maximize=True), start)
    if values is None or h is None:  # a solution comes from a run, so h is set whenever values are
        return _Result(status, None, None, relaxed)
    best = int(round(float(objective @ (values > 0.5))))
    dual = h.getInfo().mip_dual_bound
    bound = best if status == OPTIMAL else (math.floor(dual + 1e-6) if math.isfinite(dual) else None)
    return _Result(status, values, bound, relaxed)


@dataclass
class _Relaxation:
    """The LP relaxation and a near-optimal solution found from it. Its reduced costs shrink the
    exact solves (score and tie-break) by reduced-cost fixing."""

    bound: float  # LP optimum: no solution scores more
    values: np.ndarray
    reduced: np.ndarray  # |reduced cost| of each column (0 for basic ones)
    nonbasic: np.ndarray
    start: np.ndarray | None

    def bounds(self, program: _Program, reaching: int) -> tuple[np.ndarray, np.ndarray]:
        """Column bounds with reduced-cost fixing: a nonbasic column whose reduced cost exceeds
        bound − reaching keeps its LP value in every solution scoring at least `reaching` (LP
        duality: moving it costs more than the gap), so fixing it loses no such solution. The
        margin covers the solver's floating-point tolerances."""
        gap = self.bound - reaching + _FIXING_MARGIN + 1e-6 * abs(self.bound)
        fixed = self.nonbasic & (self.reduced > gap)
        whole = np.clip(np.round(self.values), program.lower, program.upper)
        return np.where(fixed, whole, program.lower), np.where(fixed, whole, program.upper)


_FIXING_MARGIN = 1.0  # score units
_PLACE_SECONDS = 2.0  # per level of the integer program that places a list in tiers (when the search cannot)
_FIXED_FIRST_SECONDS, _FIXED_FIRST_SHARE = 2.0, 0.05  # the fixed program's time before the whole one takes over
_CORE_REDUCED_COST = 300.0  # score units (0.3 points): how far from the LP optimum the core reaches


def _relax(program: _Program, objective: np.ndarray, deadline: float) -> _Relaxation | None:
    """A near-optimal solution to start the exact solve from, so HiGHS mostly has to prove it: the
    LP relaxation, then a small integer program, the core, over the columns the LP leaves open
    (fractional ones and nonbasic ones whose reduced cost is small)."""
    lp = program.lp(objective, maximize=True)
    lp.integrality_ = []
    h = _highs((deadline - time.perf_counter()) / 4)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    values = np.asarray(h.getSolution().col_value)
    reduced = np.abs(np.asarray(h.getSolution().col_dual))
    basic = np.array([s == highspy.HighsBasisStatus.kBasic for s in h.getBasis().col_status], dtype=bool)
    whole = np.clip(np.round(values), program.lower, program.upper)
    free = (np.abs(values - whole) > 1e-6) | (~basic & (reduced <= _CORE_REDUCED_COST))
    core = program.lp(objective, maximize=True)
    core.col_lower_ = np.where(free, program.lower, whole)
    core.col_upper_ = np.where(free, program.upper, whole)
    status, found = _run(_highs((deadline - time.perf_counter()) / 4), core)
    bound = h.getInfo().objective_function_value
    return _Relaxation(bound, values, reduced, ~basic, found if status != INFEASIBLE else None)


def _cheapest_at(program: _Program, best_units: int, incumbent: np.ndarray, deadline: float,
                 relaxed: _Relaxation | None) -> np.ndarray:
    """Second solve: the cheapest list that still reaches the optimal score (deterministic tie-break).
    The score is already proven optimal; if this solve runs out of time the cheaper of the two is kept."""
    nonzero = np.flatnonzero(program.units)
    at_best = _Program(program.units, program.cost, program.lower, program.upper,
                       [*program.rows, _Row(None, best_units - 0.5, INF, nonzero, program.units[nonzero])])
    lp = at_best.lp(program.cost, maximize=False)
    if relaxed is not None:
        lp.col_lower_, lp.col_upper_ = relaxed.bounds(program, best_units)
    _, values = _run(_highs(deadline - time.perf_counter()), lp, incumbent)
    if values is None:
        return incumbent
    reaches = program.units @ (values > 0.5) >= best_units - 0.5
    cheaper = program.cost @ (values > 0.5) <= program.cost @ (incumbent > 0.5)
    return values if reaches and cheaper else incumbent


@dataclass(frozen=True)
class _Listed:
    status: str
    chosen: np.ndarray | None  # candidate indices on the list
    units: int | None
    bound: int | None
    placements: dict[int, int] | None = None  # the full model's own placement, when it was solved


def _choose(candidates: tuple[Candidate, ...], rules: Rules, force: frozenset[RuleRef], deadline: float, *,
            with_tiers: bool, feasibility_only: bool, cheapest_on_tie: bool) -> _Listed:
    """Step 1 (or, with_tiers, the full model): the best list, re-checked in integer cents; a rule
    the floating-point solution breaks by a few cents is tightened by that much and re-solved."""
    n = len(candidates)
    margins: dict[RuleRef, int] = {}
    for _attempt in range(4):
        program = _list_program(candidates, rules, force, margins, with_tiers=with_tiers)
        objective = np.zeros_like(program.units) if feasibility_only else program.units
        result = _best(program, objective, deadline)
        if result.values is None:
            return _Listed(result.status, None, None, None)
        values = result.values
        best_units = int(round(float(program.units @ (values > 0.5))))
        if result.status == OPTIMAL and not feasibility_only and cheapest_on_tie:
            values = _cheapest_at(program, best_units, values, deadline, result.relaxed)
        chosen = np.flatnonzero(values[:n] > 0.5)
        placements = _placements(rules.ordered_tiers, n, values) if with_tiers else None
        tiers = placements if placements is not None else {int(i): 0 for i in chosen}
        broken = _shortfalls(candidates, rules, tiers, force, summed=not with_tiers)
        if not broken:
            return _Listed(result.status, chosen, best_units, None if feasibility_only else result.bound, placements)
        _tighten(margins, broken)
    return _Listed(TIME_LIMIT, None, None, None)


def _placements(tiers: Sequence, n: int, values: np.ndarray) -> dict[int, int]:
    """Candidate index -> tier number of every chosen proposal in the full model's solution."""
    on = values > 0.5
    placements = {int(i): tiers[0].number for i in np.flatnonzero(on[:n])}
    for j in range(1, len(tiers)):
        for i in np.flatnonzero(on[j * n:(j + 1) * n]):
            placements[int(i)] = tiers[j].number
    return placements


def _place(candidates: tuple[Candidate, ...], chosen: np.ndarray, rules: Rules, force: frozenset[RuleRef],
           deadline: float, *, start: dict[int, int] | None = None, best_first: bool = True) -> dict[int, int] | None:
    """Step 2: the chosen proposals placed in tiers, each tier within its budget, the highest score
    in Tier 1 (then in Tier 2, …) when best_first; None when no placement fits, or none was found in
    the time given (start: a known placement, from the full model)."""
    tiers = rules.ordered_tiers
    units = np.array([score_units(candidates[i].score) for i in chosen], dtype=np.int64)
    placed, placements = _place_in_turn(candidates, chosen, units, tiers, rules, force)
    if placed:
        return placements
    m, k = len(chosen), len(tiers)
    cost = np.array([candidates[i].cost_cents for i in chosen], dtype=float)
    column = {tier.number: j for j, tier in enumerate(tiers)}
    given = None
    if start is not None:
        given = np.zeros(m * (k - 1))
        for s, i in enumerate(chosen):
            if column[start[int(i)]] > 0:
                given[s + m * (column[start[int(i)]] - 1)] = 1.0
    margins: dict[RuleRef, int] = {}
    for _attempt in range(4):
        program = _tier_program(cost, units.astype(float), rules, force, margins)
        values = given
        for level in range(1, k if best_first else 2):  # the score placed after tier `level`, made smallest
            after = np.concatenate([np.zeros(m * (level - 1)), np.tile(units, k - level)]) if best_first \
                else np.zeros(m * (k - 1))
            # the list is already proven best: a placement that keeps every budget matters more than
            # proving the tier order, so each level gets a few seconds before its best is taken
            result = _best(program, -after, min(deadline, time.perf_counter() + _PLACE_SECONDS), values)
            if result.values is None:
                return None
            values = result.values
            if best_first and level < k - 1:
                held = np.flatnonzero(after)
                program.rows.append(_Row(None, -INF, float(after @ (values > 0.5)) + 0.5, held, after[held]))
        if values is None:  # one tier and no start: nothing was solved
            return None
        placements = {int(i): tiers[0].number for i in chosen}
        on = values > 0.5
        for j in range(1, k):
            for index in np.flatnonzero(on[(j - 1) * m:j * m]):
                placements[int(chosen[index])] = tiers[j].number
        broken = {ref: over for ref, over in _shortfalls(candidates, rules, placements, force).items()
                  if ref.kind is RuleKind.TIER_BUDGET}
        if not broken:
            return placements
        _tighten(margins, broken)
        given = None
    return None


def _place_in_turn(candidates: tuple[Candidate, ...], chosen: np.ndarray, units: np.ndarray, tiers: Sequence,
                   rules: Rules, force: frozenset[RuleRef]) -> tuple[bool, dict[int, int] | None]:
    """Step 2 by the knapsack search of tier_split, tier by tier: Tier 1 keeps the most score it can
    while what it cannot hold fits the later tiers' budgets together; then Tier 2 of what is left,
    and so on. (True, placements) when placed; (True, None) when proven impossible (at Tier 1 the
    later budgets are summed, so nothing fits); (False, None) when the search gives up, or when
    (three tiers or more) what an earlier tier left does not fit the later tiers one by one."""
    cost = np.array([candidates[i].cost_cents for i in chosen], dtype=np.int64)
    left = np.arange(len(chosen))
    placements: dict[int, int] = {}
    for j, tier in enumerate(tiers):
        rest = tiers[j + 1:]
        total = int(cost[left].sum())
        unlimited = _budget_ref(tier) not in force
        fits = unlimited or total <= rules.tier_budget_cents(tier)
        if not rest or unlimited or (fits and (units[left] >= 0).all()):  # the rest all stay here
            if not fits:  # only the last tier can be too small here
                return False, None
            placements.update({int(chosen[s]): tier.number for s in left})
            return True, placements
        later = (sum(rules.tier_budget_cents(t) for t in rest) if all(_budget_ref(t) in force for t in rest)
                 else total)
        found = tier_split.split(cost[left], units[left], total - rules.tier_budget_cents(tier), later)
        if found is None or (found.moved is None and j > 0):
            return False, None
        if found.moved is None:
            return True, None
        placements.update({int(chosen[s]): tier.number for s in left[~found.moved]})
        left = left[found.moved]
    return False, None


def _shortfalls(candidates: tuple[Candidate, ...], rules: Rules, placements: dict[int, int],
                in_force: Collection[RuleRef], *, summed: bool = False) -> dict[RuleRef, int]:
    """Integer re-check of the money rows (the solver works in floating point): the cents by which a
    rule in force is broken, so it can be tightened by that much and re-solved. summed: the tier
    budgets are checked together (step 1), not tier by tier."""
    from app.optimizer.check import spending

    totals = spending((candidates[i], tier) for i, tier in placements.items())
    tiers = rules.ordered_tiers
    broken: dict[RuleRef, int] = {}
    if summed and all(_budget_ref(t) in in_force for t in tiers):
        over = totals.total - sum(rules.tier_budget_cents(t) for t in tiers)
        if over > 0:
            broken[_ALL_TIERS] = over
    for ref in in_force:
        over = 0
        if ref.kind is RuleKind.TIER_BUDGET and not summed:
            tier = rules.tier(int(ref.key))
            over = totals.by_tier.get(tier.number, 0) - rules.tier_budget_cents(tier)
        elif ref.kind is RuleKind.CATEGORY_CAP:
            _rule, cap = category_limit(ref, rules)
            over = totals.by_category.get(ref.key, 0) - cap
        elif ref.kind is RuleKind.CATEGORY_FLOOR:
            _rule, floor = category_limit(ref, rules)
            over = floor - totals.by_category.get(ref.key, 0)
        elif ref.kind is RuleKind.DISTRICT_MINIMUM:
            minimum = next(d for d in rules.district_minimums if d.district == ref.key)
            over = -district_balance(totals.by_district.get(ref.key, 0), totals.total, minimum.min_share_bps)
        elif ref.kind is RuleKind.CASH_FLOW and rules.cash_flow is not None:
            spent = cash_flow.projected(rules.cash_flow, (candidates[i] for i in placements))
            over = cash_flow.overspent(rules.cash_flow, spent).get(int(ref.key), 0)
        if over > 0:
            broken[ref] = over
    return broken


def _tighten(margins: dict[RuleRef, int], broken: dict[RuleRef, int]) -> None:
    for ref, over in broken.items():  # district shortfalls are in cents × basis points
        margins[ref] = margins.get(ref, 0) + (-(-over // BPS) if ref.kind is RuleKind.DISTRICT_MINIMUM else over)


def solve(candidates: tuple[Candidate, ...], rules: Rules, *, in_force: Collection[RuleRef],
          feasibility_only: bool = False, cheapest_on_tie: bool = True, time_limit: float = 30.0) -> Solution:
    """Best list under the rules in force, placed in tiers (or any list at all, when
    feasibility_only); without cheapest_on_tie, the first optimal list HiGHS finds."""
    started = time.perf_counter()
    deadline = started + time_limit
    force = frozenset(in_force)
    options = {"feasibility_only": feasibility_only, "cheapest_on_tie": cheapest_on_tie}
    listed = _choose(candidates, rules, force, deadline, with_tiers=False, **options)
    if listed.chosen is None:  # no list keeps the rules even with the budgets summed, or out of time
        return Solution(listed.status, {}, None, time.perf_counter() - started)
    placements = _place(candidates, listed.chosen, rules, force, deadline, best_first=not feasibility_only)
    if placements is None:  # the list does not split into the tiers (or it was not settled in the time
        # given to it): the full model decides, each tier budget in its own row
        listed = _choose(candidates, rules, force, deadline, with_tiers=True, **options)
        if listed.chosen is None:
            return Solution(listed.status, {}, None, time.perf_counter() - started)
        placements = _place(candidates, listed.chosen, rules, force, deadline, start=listed.placements,
                            best_first=not feasibility_only)
        placements = placements if placements is not None else listed.placements
    if placements is None:
        return Solution(TIME_LIMIT, {}, None, time.perf_counter() - started)
    return Solution(listed.status, placements, listed.units, time.perf_counter() - started, listed.bound)
