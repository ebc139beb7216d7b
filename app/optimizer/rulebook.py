"""Rule groups: each budget, cap, floor, district minimum, alternates group and lock is one rule
that can be named to staff, checked, dropped (to see what it costs) or blamed for a conflict."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.i18n import gettext as _
from app.i18n import money
from app.optimizer.model import BPS, Candidate, CategoryRule, Lock, Rules


class RuleKind(StrEnum):
    TIER_BUDGET = "tier_budget"
    CATEGORY_CAP = "category_cap"
    CATEGORY_FLOOR = "category_floor"
    DISTRICT_MINIMUM = "district_minimum"
    ALTERNATES = "alternates"
    LOCK = "lock"
    FORCED = "forced"  # "what would it take to add X": X forced into the list
    CASH_FLOW = "cash_flow"  # spending to date by the end of one year (key: the year)


@dataclass(frozen=True, order=True)
class RuleRef:
    kind: RuleKind
    key: str  # tier number, category, district, alternates group, proposal id or year


def share(bps: int) -> str:
    return f"{bps / 100:g} %"


def rules_of(candidates: tuple[Candidate, ...], rules: Rules) -> tuple[RuleRef, ...]:
    """Every rule group in force, in a fixed order (budgets, caps, floors, districts, alternates, locks)."""
    refs = [RuleRef(RuleKind.TIER_BUDGET, str(t.number)) for t in rules.ordered_tiers]
    refs += [RuleRef(RuleKind.CATEGORY_CAP, r.category) for r in rules.categories if r.cap_cents is not None]
    refs += [RuleRef(RuleKind.CATEGORY_FLOOR, r.category) for r in rules.categories if r.floor_cents]
    refs += [RuleRef(RuleKind.DISTRICT_MINIMUM, d.district) for d in rules.district_minimums if d.min_share_bps]
    groups: dict[str, int] = {}
    for c in candidates:
        if c.alternate_group is not None:
            groups[c.alternate_group] = groups.get(c.alternate_group, 0) + 1
    refs += [RuleRef(RuleKind.ALTERNATES, g) for g in sorted(groups) if groups[g] > 1]
    refs += [RuleRef(RuleKind.LOCK, c.id) for c in candidates if c.lock is not None]
    if rules.cash_flow is not None:
        refs += [RuleRef(RuleKind.CASH_FLOW, str(year)) for year in rules.cash_flow.years]
    return tuple(refs)


def category_limit(ref: RuleRef, rules: Rules) -> tuple[CategoryRule, int]:
    """The category rule a cap or floor names, and that cap or floor in cents (``rules_of`` names
    only the limits that are set)."""
    rule = next(r for r in rules.categories if r.category == ref.key)
    cents = rule.cap_cents if ref.kind is RuleKind.CATEGORY_CAP else rule.floor_cents
    if cents is None:
        raise ValueError(f"{rule.name} has no {ref.kind.value}")
    return rule, cents


def describe(ref: RuleRef, candidates: tuple[Candidate, ...], rules: Rules) -> str:
    """The rule in plain words, e.g. "the $30,000,000 cap on Streetlights"."""
    if ref.kind is RuleKind.TIER_BUDGET:
        tier = rules.tier(int(ref.key))
        return _("the {tier} budget of {amount}").format(tier=tier.label, amount=money(rules.tier_budget_cents(tier)))
    if ref.kind in (RuleKind.CATEGORY_CAP, RuleKind.CATEGORY_FLOOR):
        rule = next(r for r in rules.categories if r.category == ref.key)
        if ref.kind is RuleKind.CATEGORY_CAP:
            return _("the {amount} cap on {category}").format(amount=money(rule.cap_cents), category=rule.name)
        return _("the {amount} floor for {category}").format(amount=money(rule.floor_cents), category=rule.name)
    if ref.kind is RuleKind.DISTRICT_MINIMUM:
        minimum = next(d for d in rules.district_minimums if d.district == ref.key)
        return _("the minimum share of {share} for {district}").format(
            share=share(minimum.min_share_bps), district=minimum.name)
    if ref.kind is RuleKind.ALTERNATES:
        members = ", ".join(c.id for c in candidates if c.alternate_group == ref.key)
        return _("alternates {group} (at most one of {members})").format(group=ref.key, members=members)
    if ref.kind is RuleKind.CASH_FLOW and rules.cash_flow is not None:
        allowed = rules.cash_flow.allowed_to_date()[int(ref.key)]
        if rules.cash_flow.borrowing_limit_cents:
            return _("the cash flow to the end of {year} (revenue to date plus the borrowing limit of {limit}: "
                     "{amount})").format(year=ref.key, limit=money(rules.cash_flow.borrowing_limit_cents),
                                         amount=money(allowed))
        return _("the cash flow to the end of {year} (revenue to date: {amount})").format(
            year=ref.key, amount=money(allowed))
    candidate = next(c for c in candidates if c.id == ref.key)
    if ref.kind is RuleKind.FORCED:
        return _("adding {proposal} ({amount})").format(proposal=candidate.name, amount=money(candidate.cost_cents))
    if candidate.lock is Lock.MUST_INCLUDE:
        return _("the must-include lock on {proposal} ({amount})").format(
            proposal=candidate.name, amount=money(candidate.cost_cents))
    return _("the must-exclude lock on {proposal}").format(proposal=candidate.name)


def district_balance(district_cents: int, total_cents: int, min_share_bps: int) -> int:
    """BPS × district spending − share × total spending: ≥ 0 exactly when the minimum share is met."""
    return BPS * district_cents - min_share_bps * total_cents
