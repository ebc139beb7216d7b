"""What the optimizer returns: a list placed in tiers, its totals, and what constrains it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.optimizer.check import Spending, Violation, check, spending
from app.optimizer.model import SCORE_UNITS_PER_POINT, Candidate, Rules, score_units
from app.optimizer.rulebook import RuleRef


@dataclass(frozen=True)
class Placement:
    id: str
    tier: int


@dataclass(frozen=True)
class TierOutcome:
    number: int
    label: str
    budget_cents: int
    cost_cents: int
    score: float  # plain sum of the scores of its proposals
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Binding:
    """A rule and how much room it leaves. tight: no proposal could be added (or, for a floor or a
    district minimum, removed) without breaking it. score_gain: how much the optimum would rise
    without the rule (measured by re-solving), when asked for."""

    rule: RuleRef
    description: str
    limit_cents: int | None
    used_cents: int | None
    slack_cents: int | None
    tight: bool
    sentence: str
    score_gain: float | None = None


@dataclass(frozen=True)
class Conflict:
    """A smallest set of rules that cannot all hold: dropping any one of them makes a list possible."""

    rules: tuple[RuleRef, ...]
    descriptions: tuple[str, ...]
    sentence: str


@dataclass(frozen=True)
class Outcome:
    status: str  # optimal | infeasible | time_limit (best list found, not proven) | greedy | manual
    placements: tuple[Placement, ...]  # by tier, then id
    tiers: tuple[TierOutcome, ...]
    total_cost_cents: int
    total_score: float  # the objective: the sum of the scores of the listed proposals
    by_category: dict[str, int]
    by_district: dict[str, int]  # proposals without a district count in the total only
    equity_weighted: float | None  # spending-weighted mean equity measure of the list, if known
    solve_seconds: float
    bindings: tuple[Binding, ...] = ()
    conflict: Conflict | None = None
    violations: tuple[Violation, ...] = ()  # rules the list breaks (greedy and hand-edited lists)
    best_possible_score: float | None = None  # proven upper bound; equals total_score when optimal
    years: dict[str, int] = field(default_factory=dict)  # with a cash-flow rule: the year each is spent in

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(p.id for p in self.placements)

    @property
    def selection(self) -> dict[str, int]:
        return {p.id: p.tier for p in self.placements}


def summarize(candidates: tuple[Candidate, ...], rules: Rules, selection: dict[str, int], *, status: str,
              seconds: float = 0.0, with_violations: bool = False, years: Mapping[str, int] | None = None) -> Outcome:
    by_id = {c.id: c for c in candidates}
    placed = sorted(selection.items(), key=lambda item: (item[1], item[0]))
    totals: Spending = spending((by_id[i], tier) for i, tier in placed)
    tiers = []
    for tier in rules.ordered_tiers:
        ids = tuple(i for i, t in placed if t == tier.number)
        tiers.append(TierOutcome(tier.number, tier.label, rules.tier_budget_cents(tier),
                                 totals.by_tier.get(tier.number, 0), sum(by_id[i].score for i in ids), ids))
    chosen = [by_id[i] for i, _ in placed]
    known = [(c.equity, c.cost_cents) for c in chosen if c.equity is not None]
    weight = sum(cost for _, cost in known)
    equity = sum(e * cost for e, cost in known) / weight if weight else None
    violations = tuple(check(selection, candidates, rules, years)) if with_violations else ()
    return Outcome(
        status=status, placements=tuple(Placement(i, t) for i, t in placed), tiers=tuple(tiers),
        total_cost_cents=totals.total,
        total_score=sum(score_units(by_id[i].score) for i, _ in placed) / SCORE_UNITS_PER_POINT,
        by_category=dict(sorted(totals.by_category.items())),
        by_district=dict(sorted(totals.by_district.items())), equity_weighted=equity, solve_seconds=seconds,
        violations=violations, years={i: years[i] for i in selection if i in years} if years else {})
