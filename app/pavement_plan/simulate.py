"""Budget scenarios over the collection years, and the yearly budget a target PCI needs.

Each plan year (1 … N), in this order:

1. **Choose.** Every rated segment whose treatment (the catalog's rule for its PCI band and class)
   costs something is a candidate, priced for work that year (``needs.Pricer``: a one-segment
   estimate with markups and escalation). The policy orders the candidates:

   - ``benefit_cost`` (default, like StreetSaver's benefit/cost ratio): benefit = PCI-years gained
     over the next ``HORIZON`` years by treating now rather than not (the area between the two
     projected curves) × the segment's length × its class weight (arterial 1.5, collector 1.25,
     local 1) — divided by the cost;
   - ``worst_first``: lowest PCI first (ties: longer segment first).

   Candidates are taken in that order while the year's budget lasts; one that does not fit is
   skipped and the next tried. Money left over does not carry to the next year.
2. **Treat.** A treated segment's PCI becomes the treatment's effect (reset to a PCI, or points
   added, capped at 100; ``curves.Effect``).
3. **Deteriorate.** Every segment ages one year along its class's curve (``project_pci``).

The year's row reports the network PCI at the end of the year (length-weighted over rated
segments), the money spent, the segments and miles treated, the backlog left (every segment's
treatment at its end-of-year PCI, priced for work that year) and the deferred maintenance (the cost
of that year's candidates the budget did not fund, StreetSaver's "deferred"). Year 0 is today.

Target PCI: the smallest yearly budget whose network PCI at the end of the last year is at least the
target, searched between 0 and the budget that treats every candidate every year, each step a full
simulation, by the Illinois method (the budget interpolated from the bracket's two network PCIs; an
end kept twice has its weight halved, so both ends close in). The answer is within ``tolerance_cents``
of the largest budget tried that does not reach the target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.costing.arithmetic import BPS
from app.i18n import gettext as _
from app.impact.deterioration import Curve, project_pci
from app.pavement_plan.curves import Effect, effect_of
from app.pavement_plan.needs import METRES_PER_MILE, Pricer, Segment, check_year, class_token, quantity_hundredths

POLICIES = ("benefit_cost", "worst_first")
HORIZON = 10
CLASS_WEIGHTS = {"arterial": 1.5, "collector": 1.25, "local": 1.0}
MAX_YEARS = 30
DEFAULT_TOLERANCE_CENTS = 1_000_000  # $10,000
MAX_BUDGET_CENTS = 10**13  # $100 billion a year


class ScenarioError(ValueError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class YearRow:
    year: int
    network_pci: float | None
    spent_cents: int
    treated_segments: int
    treated_miles: float
    backlog_cents: int
    deferred_cents: int = 0  # the year's work that needed doing and was not funded (priced that year)


@dataclass(frozen=True)
class Outcome:
    policy: str
    yearly_budget_cents: int | None  # None: unlimited (every candidate treated every year)
    rows: list[YearRow]  # year 0 (today), then each plan year

    @property
    def final_pci(self) -> float | None:
        return self.rows[-1].network_pci

    @property
    def spent_cents(self) -> int:
        return sum(r.spent_cents for r in self.rows)


def _average(pci: np.ndarray, lengths: np.ndarray) -> float | None:
    total = float(lengths.sum())
    return float((pci * lengths).sum() / total) if total > 0 else None


class Network:
    """The rated segments as arrays, with the curves, effects and prices the simulation uses."""

    def __init__(self, segments: Sequence[Segment], pricer: Pricer, curves: Mapping[str, Curve],
                 effects: Mapping[str, Effect]) -> None:
        self.segments = [s for s in segments if s.asset.pci is not None]
        self.pricer = pricer
        self.curves = curves
        self.effects = effects
        self.pci0 = np.array([float(s.asset.pci or 0) for s in self.segments])
        self.lengths = np.array([s.asset.length_m for s in self.segments])
        self.classes = [s.functional_class for s in self.segments]
        self.by_class = {c: np.array([i for i, k in enumerate(self.classes) if k == c], dtype=int)
                         for c in sorted(set(self.classes))}
        self.weights = np.array([CLASS_WEIGHTS.get(c, 1.0) for c in self.classes])
        self.tokens = [class_token(s.asset.functional_class) for s in self.segments]
        self.effects_by_rule = [effect_of(rule.key, effects) for rule in pricer.rules]
        self._before: np.ndarray | None = None
        self._costs: dict[int, np.ndarray] = {}

    def age_one_year(self, pci: np.ndarray, years: float = 1.0) -> np.ndarray:
        out = pci.copy()
        for functional_class, index in self.by_class.items():
            if len(index):
                out[index] = project_pci(pci[index], years, functional_class, curves=self.curves)
        return out

    def pci_years(self, pci: np.ndarray) -> np.ndarray:
        """Σ over the next HORIZON years of the projected PCI, per segment."""
        total = np.zeros_like(pci)
        current = pci
        for _year in range(HORIZON):
            current = self.age_one_year(current)
            total += current
        return total

    def costs(self, year: int) -> np.ndarray:
        """Every segment's cost (cents) with each catalog rule for work in ``year``: rules × segments,
        -1 where a rule cannot apply to a segment's class. Exact (``Pricer``'s integer arithmetic; the
        escalation on Python integers), remembered by year."""
        if year not in self._costs:
            if self._before is None:
                self._before = self._before_escalation()
            grow, over = self.pricer.growth(year)
            if grow:
                wide = self._before.astype(object)
                costs = np.where(self._before >= 0, wide + _rounded(wide * grow, over), -1)
                self._costs[year] = costs.astype(np.int64)
            else:
                self._costs[year] = self._before
        return self._costs[year]

    def _before_escalation(self) -> np.ndarray:
        """``Pricer.before`` for every rule and segment, on arrays: each segment's quantity once per unit."""
        catalog = self.pricer.catalog
        tokens = np.array(self.tokens, dtype=object)
        quantities: dict[str, np.ndarray] = {}
        before = np.full((len(self.pricer.rules), len(self.segments)), -1, dtype=np.int64)
        for k, rule in enumerate(self.pricer.rules):
            own = class_token(rule.functional_class)
            applies = np.ones(len(self.segments), dtype=bool) if own is None else tokens == own
            if rule.unit_cost_cents == 0:
                before[k, applies] = 0
                continue
            if rule.unit not in quantities:
                quantities[rule.unit] = np.array([quantity_hundredths(s.asset, rule, catalog) for s in self.segments],
                                                 dtype=object)
            construction = _rounded(quantities[rule.unit][applies] * rule.unit_cost_cents, 100)
            before[k, applies] = (construction + _rounded(construction * catalog.design_engineering_bps, BPS)
                                  + _rounded(construction * catalog.contingency_bps, BPS)).astype(np.int64)
        return before

    def priced(self, pci: np.ndarray, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(segment positions, their rule indices, their costs) for the segments a rule applies to."""
        rules = self.pricer.rule_indices(self.tokens, pci)
        where = np.flatnonzero(rules >= 0)
        return where, rules[where], self.costs(year)[rules[where], where]

    def candidates(self, pci: np.ndarray, year: int) -> list[tuple[int, int, float]]:
        """(segment index, cost, PCI after treatment) for every segment whose treatment costs something."""
        where, rules, costs = self.priced(pci, year)
        keep = costs > 0
        return [(i, cost, self.effects_by_rule[k].apply(float(pci[i])))
                for i, k, cost in zip(where[keep].tolist(), rules[keep].tolist(), costs[keep].tolist(), strict=True)]

    def after(self, pci: np.ndarray, rules: np.ndarray) -> np.ndarray:
        """The PCI after each segment's treatment (``Effect.apply`` on arrays)."""
        out = pci.astype(float, copy=True)
        for k in np.unique(rules).tolist():
            effect, where = self.effects_by_rule[k], rules == k
            out[where] = effect.value if effect.kind == "reset" else np.minimum(100.0, pci[where] + effect.value)
        return out

    def backlog(self, pci: np.ndarray, year: int) -> int:
        return int(self.priced(pci, year)[2].sum())


def _rounded(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """``round_half_up(numerator / denominator)`` element by element, on Python integers (object arrays)."""
    magnitude = (2 * np.abs(numerator) + denominator) // (2 * denominator)
    return np.where(numerator >= 0, magnitude, -magnitude)


def _order(network: Network, pci: np.ndarray, found: list[tuple[int, int, float]], policy: str) -> list[int]:
    """Positions in ``found`` (``Network.candidates``), best first, as ``run`` ranks them."""
    if not found:
        return []
    index, cost, after = (np.array(column) for column in zip(*found, strict=True))
    return _ranking(network, pci, index.astype(np.int64), after.astype(float), cost.astype(np.int64),
                    policy).tolist()


def _ranking(network: Network, pci: np.ndarray, index: np.ndarray, after: np.ndarray, cost: np.ndarray,
             policy: str) -> np.ndarray:
    """The candidates' positions, best first (ties: the lower segment index)."""
    if policy == "worst_first":
        return np.lexsort((index, -network.lengths[index], pci[index]))
    treated = np.array(pci, copy=True)
    treated[index] = after
    gain = network.pci_years(treated)[index] - network.pci_years(pci)[index]
    ratio = gain * network.lengths[index] * network.weights[index] / cost.astype(float)
    return np.lexsort((index, -ratio))


def _fill(costs: np.ndarray, budget: int | None) -> np.ndarray:
    """Which candidates (in order) the budget funds: each is taken if it fits in what is left, else
    skipped and the next one tried. Runs of candidates that fit are taken at once (a cumulative sum)."""
    chosen = np.zeros(len(costs), dtype=bool)
    if budget is None:
        chosen[:] = True
        return chosen
    left, position = budget, 0
    while position < len(costs):
        fitting = np.flatnonzero(costs[position:] <= left)
        if not len(fitting):
            break
        position += int(fitting[0])
        running = np.cumsum(costs[position:])
        taken = int(np.searchsorted(running, left, side="right"))
        chosen[position:position + taken] = True
        left -= int(running[taken - 1])
        position += taken
    return chosen


def run(network: Network, *, first_year: int, years: int, yearly_budget_cents: int | None,
        policy: str = "benefit_cost") -> Outcome:
    """Simulate ``years`` plan years from ``first_year`` with the budget (None: unlimited)."""
    check(first_year=first_year, years=years, yearly_budget_cents=yearly_budget_cents, policy=policy,
          network=network)
    pci = network.pci0.copy()
    rows = [YearRow(first_year - 1, _average(pci, network.lengths), 0, 0, 0.0,
                    network.backlog(pci, first_year))]
    for step in range(years):
        year = first_year + step
        where, rules, costs = network.priced(pci, year)
        needed = costs > 0
        index, rules, costs = where[needed], rules[needed], costs[needed]
        after = network.after(pci[index], rules)
        order = _ranking(network, pci, index, after, costs, policy) if len(index) else np.array([], dtype=np.int64)
        chosen = np.zeros(len(index), dtype=bool)
        chosen[order] = _fill(costs[order], yearly_budget_cents)
        pci[index[chosen]] = after[chosen]
        spent = int(costs[chosen].sum())
        deferred = int(costs.sum()) - spent
        miles = float(network.lengths[index[chosen]].sum()) / METRES_PER_MILE
        pci = network.age_one_year(pci)
        rows.append(YearRow(year, _average(pci, network.lengths), spent, int(chosen.sum()), miles,
                            network.backlog(pci, year), deferred))
    return Outcome(policy, yearly_budget_cents, rows)


def check(*, first_year: int, years: int, yearly_budget_cents: int | None, policy: str, network: Network) -> None:
    if policy not in POLICIES:
        raise ScenarioError(_("Choose a policy: best benefit per dollar, or worst first."), field="policy")
    if not 1 <= years <= MAX_YEARS:
        raise ScenarioError(_("Plan between 1 and {most} years.").format(most=MAX_YEARS), field="years")
    if yearly_budget_cents is not None and not 0 <= yearly_budget_cents <= MAX_BUDGET_CENTS:
        raise ScenarioError(_("The yearly budget must be between $0 and $100 billion."), field="budget")
    check_year(network.pricer.catalog, first_year)
    check_year(network.pricer.catalog, first_year + years - 1)
    if not network.segments:
        raise ScenarioError(_("No pavement segment has a PCI yet; load the pavement layer first."))


@dataclass(frozen=True)
class TargetResult:
    target_pci: float
    reachable: bool
    yearly_budget_cents: int | None  # the smallest budget found that reaches the target
    below_cents: int | None  # the largest budget tried that does not (within the tolerance)
    outcome: Outcome  # the simulation at the budget found (or unlimited, when unreachable)
    tolerance_cents: int
    steps: int


def budget_for_target(network: Network, *, target_pci: float, first_year: int, years: int,
                      policy: str = "benefit_cost", tolerance_cents: int = DEFAULT_TOLERANCE_CENTS) -> TargetResult:
    """The smallest yearly budget (within the tolerance) whose final network PCI reaches the target."""
    if not 0 <= target_pci <= 100:
        raise ScenarioError(_("The target PCI must be between 0 and 100."), field="target_pci")
    if tolerance_cents < 1:
        raise ScenarioError(_("The tolerance must be at least one cent."), field="tolerance")

    def reaches(outcome: Outcome) -> bool:
        return outcome.final_pci is not None and outcome.final_pci >= target_pci

    nothing = run(network, first_year=first_year, years=years, yearly_budget_cents=0, policy=policy)
    if reaches(nothing):
        return TargetResult(target_pci, True, 0, None, nothing, tolerance_cents, 1)
    unlimited = run(network, first_year=first_year, years=years, yearly_budget_cents=None, policy=policy)
    if not reaches(unlimited):
        return TargetResult(target_pci, False, None, None, unlimited, tolerance_cents, 2)
    low, high = 0, max(r.spent_cents for r in unlimited.rows)  # the costliest year treats everything
    best = run(network, first_year=first_year, years=years, yearly_budget_cents=high, policy=policy)
    below, above = (nothing.final_pci or 0.0) - target_pci, (best.final_pci or 0.0) - target_pci
    steps, side = 3, 0
    while high - low > tolerance_cents:
        # Illinois (regula falsi that halves a bracket end's weight when it is kept twice), a quarter
        # tolerance inside the bracket so its both ends move; a bisection when the ends give no slope.
        guess = low + round(-below / (above - below) * (high - low)) if above > below else (low + high) // 2
        margin = max(1, tolerance_cents // 4)
        budget = min(max(guess, low + margin), high - margin) if high - low > 2 * margin else (low + high) // 2
        outcome = run(network, first_year=first_year, years=years, yearly_budget_cents=budget, policy=policy)
        steps += 1
        value = (outcome.final_pci or 0.0) - target_pci
        if value >= 0:
            high, best, above = budget, outcome, value
            below = below / 2 if side == 1 else below
            side = 1
        else:
            low, below = budget, value
            above = above / 2 if side == -1 else above
            side = -1
    return TargetResult(target_pci, True, high, low, best, tolerance_cents, steps)
