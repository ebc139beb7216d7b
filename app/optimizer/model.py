"""What the optimizer is given: candidate proposals and the program's rules.

Money is integer cents and shares are basis points (1 bp = 0.01 %), so every budget, cap, floor
and district share is computed exactly. Scores may be fractional; the integer program works in
whole *score units* (thousandths of a point) so its optimum is proven exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

BPS = 10_000  # basis points in 100 %
SCORE_UNITS_PER_POINT = 1_000  # score resolution: 0.001 points


class OptimizerInputError(ValueError):
    """Input the optimizer cannot work with (not a rule conflict); the message says which."""


class Lock(StrEnum):
    MUST_INCLUDE = "must_include"
    MUST_EXCLUDE = "must_exclude"


@dataclass(frozen=True)
class Candidate:
    """One feasible or shortlisted proposal the optimizer may choose.

    A proposal in one district names it (``district``); one spanning districts gives each
    district's share of it in basis points (``shares``, e.g. ``(("6", 7000), ("5", 3000))``), and its
    cost counts to each district by that share. Shares may add up to less than 100 %: the rest lies
    outside every district and counts in the total only, like a citywide proposal."""

    id: str
    cost_cents: int
    score: float
    category: str
    district: str | None = None  # the district holding the largest share (for display when shares are given)
    alternate_group: str | None = None  # at most one candidate per group is chosen
    lock: Lock | None = None
    equity: float | None = None  # e.g. poverty rate of the tracts under the project
    title: str = ""
    shares: tuple[tuple[str, int], ...] = ()  # (district, share_bps); empty: all of it in `district`
    year: int | None = None  # the year staff scheduled it in (cash flow); None: the optimizer chooses

    @property
    def name(self) -> str:
        return f"{self.id} ({self.title})" if self.title else self.id

    @cached_property
    def cost_by_district(self) -> dict[str, int]:
        """The cost counted to each district, in whole cents. Split by cumulative rounding, so the
        parts add up exactly to the cost × the sum of the shares, rounded down."""
        if not self.shares:
            return {self.district: self.cost_cents} if self.district is not None else {}
        parts: dict[str, int] = {}
        reached = counted = 0
        for district, share_bps in self.shares:
            reached += share_bps
            upto = self.cost_cents * reached // BPS
            parts[district] = parts.get(district, 0) + upto - counted
            counted = upto
        return parts


@dataclass(frozen=True)
class Tier:
    """A funding tier. Its budget is the project budget × share_bps. Tier 1 is funded from the
    expected revenue, later tiers only if revenue exceeds the forecast, so the optimizer places the
    highest-scoring proposals it can in Tier 1."""

    number: int
    share_bps: int

    @property
    def label(self) -> str:
        return f"Tier {self.number}"


@dataclass(frozen=True)
class CategoryRule:
    """A cap and/or a floor on the spending of one category over the whole list (all tiers)."""

    category: str
    label: str = ""
    floor_cents: int | None = None
    cap_cents: int | None = None

    @property
    def name(self) -> str:
        return self.label or self.category


@dataclass(frozen=True)
class DistrictMinimum:
    """A district must receive at least min_share_bps of the list's total spending."""

    district: str
    min_share_bps: int
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.district


@dataclass(frozen=True)
class CashFlow:
    """Respect annual cash flow: at the end of every year, the spending scheduled to date must not
    exceed the revenue collected to date plus the borrowing limit. Every listed proposal is spent in
    one year: its ``Candidate.year`` when staff fixed one, else a year the optimizer chooses."""

    revenue_by_year: tuple[tuple[int, int], ...]  # (year, cents), in year order
    borrowing_limit_cents: int = 0

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(year for year, _cents in self.revenue_by_year)

    def allowed_to_date(self) -> dict[int, int]:
        """Year -> the most that may be spent by the end of it: revenue to date + the borrowing limit."""
        allowed, to_date = {}, 0
        for year, cents in self.revenue_by_year:
            to_date += cents
            allowed[year] = to_date + self.borrowing_limit_cents
        return allowed


DEFAULT_TIERS = (Tier(1, BPS),)


@dataclass(frozen=True)
class Rules:
    revenue_cents: int
    program_management_bps: int = 0
    target_share_bps: int = BPS  # 15000 plans a list at 150 % of revenue
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    categories: tuple[CategoryRule, ...] = ()
    district_minimums: tuple[DistrictMinimum, ...] = ()
    cash_flow: CashFlow | None = None

    @property
    def ordered_tiers(self) -> tuple[Tier, ...]:
        """The tiers by number: Tier 1 first."""
        return tuple(sorted(self.tiers, key=lambda t: t.number))

    @property
    def project_budget_cents(self) -> int:
        """revenue × (1 − program management) × target share, rounded down to the cent."""
        return self.revenue_cents * (BPS - self.program_management_bps) * self.target_share_bps // (BPS * BPS)

    def tier_budget_cents(self, tier: Tier) -> int:
        """Project budget × the tier's share, computed in one step and rounded down to the cent."""
        numerator = self.revenue_cents * (BPS - self.program_management_bps) * self.target_share_bps * tier.share_bps
        return numerator // (BPS * BPS * BPS)

    def tier(self, number: int) -> Tier:
        for tier in self.tiers:
            if tier.number == number:
                return tier
        raise OptimizerInputError(f"There is no Tier {number}.")


def score_units(score: float) -> int:
    """A candidate's score as the integer objective coefficient of the integer programs."""
    return round(score * SCORE_UNITS_PER_POINT)


def validate(candidates: tuple[Candidate, ...] | list[Candidate], rules: Rules) -> tuple[Candidate, ...]:
    """Check the input and return the candidates in canonical order (by id), so results never
    depend on the order they were given in."""
    problems: list[str] = []
    seen: set[str] = set()
    for c in candidates:
        if c.id in seen:
            problems.append(f"Proposal {c.id} is listed twice.")
        seen.add(c.id)
        if not isinstance(c.cost_cents, int) or isinstance(c.cost_cents, bool) or c.cost_cents < 0:
            problems.append(f"Proposal {c.id} has an invalid cost {c.cost_cents!r} (whole cents, not negative).")
        if c.score != c.score or abs(c.score) == float("inf"):
            problems.append(f"Proposal {c.id} has no usable score.")
        if c.lock is not None and not isinstance(c.lock, Lock):
            problems.append(f"Proposal {c.id} has an unknown lock {c.lock!r}.")
        named = [district for district, _share in c.shares]
        if len(set(named)) != len(named) or any(not isinstance(b, int) or b <= 0 for _d, b in c.shares) \
                or sum(b for _d, b in c.shares) > BPS:
            problems.append(f"Proposal {c.id} has invalid district shares (each district once, positive basis "
                            "points adding up to at most 100 %).")
    if not isinstance(rules.revenue_cents, int) or rules.revenue_cents < 0:
        problems.append("The revenue must be whole cents, not negative.")
    if not 0 <= rules.program_management_bps < BPS:
        problems.append("The program-management share must be between 0 % and 100 %.")
    if rules.target_share_bps <= 0:
        problems.append("The target share of revenue must be positive.")
    if not rules.tiers:
        problems.append("At least one tier is needed.")
    numbers = [t.number for t in rules.tiers]
    if len(set(numbers)) != len(numbers):
        problems.append("Tier numbers must be distinct.")
    if any(t.share_bps < 0 for t in rules.tiers) or sum(t.share_bps for t in rules.tiers) > BPS:
        problems.append("Tier shares must be non-negative and add up to at most 100 %.")
    categories = [r.category for r in rules.categories]
    if len(set(categories)) != len(categories):
        problems.append("Each category may have only one cap/floor rule.")
    for r in rules.categories:
        for amount in (r.floor_cents, r.cap_cents):
            if amount is not None and (not isinstance(amount, int) or amount < 0):
                problems.append(f"The cap and floor of {r.name} must be whole cents, not negative.")
    districts = [d.district for d in rules.district_minimums]
    if len(set(districts)) != len(districts):
        problems.append("Each district may have only one minimum share.")
    if any(not 0 <= d.min_share_bps <= BPS for d in rules.district_minimums):
        problems.append("District minimum shares must be between 0 % and 100 %.")
    problems += _cash_flow_problems(candidates, rules.cash_flow)
    if problems:
        raise OptimizerInputError(" ".join(problems))
    return tuple(sorted(candidates, key=lambda c: c.id))


def _cash_flow_problems(candidates: tuple[Candidate, ...] | list[Candidate], cash: CashFlow | None) -> list[str]:
    if cash is None:
        return []
    problems = []
    years = cash.years
    if not years or list(years) != sorted(set(years)):
        problems.append("The cash flow needs its years once each, in order.")
    if any(not isinstance(c, int) or isinstance(c, bool) or c < 0 for _y, c in cash.revenue_by_year):
        problems.append("Each year's revenue must be whole cents, not negative.")
    limit = cash.borrowing_limit_cents
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        problems.append("The borrowing limit must be whole cents, not negative.")
    for c in candidates:
        if c.year is not None and c.year not in years:
            problems.append(f"Proposal {c.id} is scheduled in {c.year}, outside the cash flow's years "
                            f"({years[0] if years else '?'}–{years[-1] if years else '?'}).")
    return problems
