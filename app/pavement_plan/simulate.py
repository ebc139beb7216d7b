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
segments), the money spent, the segments and miles treated, and the backlog left (every segment's
treatment at its end-of-year PCI, priced for work that year). Year 0 is today.

Target PCI: the smallest yearly budget whose network PCI at the end of the last year is at least the
target, found by bisection between 0 and the budget that treats every candidate every year, each step
a full simulation; the answer is within ``tolerance_cents`` of the smallest such budget (rounded up).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.i18n import gettext as _
from app.impact.deterioration import Curve, project_pci
from app.pavement_plan.curves import Effect, effect_of
from app.pavement_plan.needs import METRES_PER_MILE, Pricer, Segment, check_year

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

    def candidates(self, pci: np.ndarray, year: int) -> list[tuple[int, int, float]]:
        """(segment index, cost, PCI after treatment) for every segment whose treatment costs something."""
        found = []
        for i, segment in enumerate(self.segments):
            rule = self.pricer.treatment(segment, float(pci[i]))
            if rule is None:
                continue
            cost = self.pricer.cost(segment, rule, year)
            if cost > 0:
                found.append((i, cost, effect_of(rule.key, self.effects).apply(float(pci[i]))))
        return found

    def backlog(self, pci: np.ndarray, year: int) -> int:
        total = 0
        for i, segment in enumerate(self.segments):
            rule = self.pricer.treatment(segment, float(pci[i]))
            if rule is not None:
                total += self.pricer.cost(segment, rule, year)
        return total


def _order(network: Network, pci: np.ndarray, found: list[tuple[int, int, float]], policy: str) -> list[int]:
    if policy == "worst_first":
        return sorted(range(len(found)), key=lambda k: (pci[found[k][0]], -network.lengths[found[k][0]],
                                                         found[k][0]))
    index = np.array([f[0] for f in found], dtype=int)
    after = np.array([f[2] for f in found])
    treated = np.array(pci, copy=True)
    treated[index] = after
    gain = network.pci_years(treated)[index] - network.pci_years(pci)[index]
    benefit = gain * network.lengths[index] * network.weights[index]
    ratio = benefit / np.array([f[1] for f in found], dtype=float)
    return sorted(range(len(found)), key=lambda k: (-ratio[k], found[k][0]))


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
        found = network.candidates(pci, year)
        left = yearly_budget_cents
        spent = treated = 0
        miles = 0.0
        for k in _order(network, pci, found, policy) if found else []:
            i, cost, after = found[k]
            if left is not None and cost > left:
                continue
            pci[i] = after
            spent += cost
            treated += 1
            miles += float(network.lengths[i]) / METRES_PER_MILE
            if left is not None:
                left -= cost
        pci = network.age_one_year(pci)
        rows.append(YearRow(year, _average(pci, network.lengths), spent, treated, miles, network.backlog(pci, year)))
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
    steps = 3
    while high - low > tolerance_cents:
        middle = (low + high) // 2
        outcome = run(network, first_year=first_year, years=years, yearly_budget_cents=middle, policy=policy)
        steps += 1
        if reaches(outcome):
            high, best = middle, outcome
        else:
            low = middle
    return TargetResult(target_pci, True, high, low, best, tolerance_cents, steps)
