"""Checking any list against the rules — a hand-edited scenario, the greedy list, or the optimizer's
own answer — with the amount by which each rule is broken."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.i18n import gettext as _
from app.i18n import money, percent
from app.optimizer import cash_flow
from app.optimizer.model import BPS, Candidate, CashFlow, Lock, OptimizerInputError, Rules
from app.optimizer.rulebook import RuleKind, RuleRef, district_balance, share


@dataclass(frozen=True)
class Spending:
    total: int = 0
    by_tier: dict[int, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_district: dict[str, int] = field(default_factory=dict)  # citywide proposals (no district) count in total only


def spending(placed: Iterable[tuple[Candidate, int]]) -> Spending:
    totals = Spending()
    total = 0
    for candidate, tier in placed:
        cost = candidate.cost_cents
        total += cost
        totals.by_tier[tier] = totals.by_tier.get(tier, 0) + cost
        totals.by_category[candidate.category] = totals.by_category.get(candidate.category, 0) + cost
        for district, cents in candidate.cost_by_district.items():  # a proposal spanning districts: by share
            totals.by_district[district] = totals.by_district.get(district, 0) + cents
    return Spending(total, totals.by_tier, totals.by_category, totals.by_district)


@dataclass(frozen=True)
class Violation:
    rule: RuleRef
    message: str
    amount_cents: int | None  # how far the rule is broken (money), when it is a matter of money


def district_shortfall_cents(district_cents: int, total_cents: int, min_share_bps: int) -> int:
    """Smallest extra spending in the district that meets its minimum share (0 when met)."""
    balance = district_balance(district_cents, total_cents, min_share_bps)
    if balance >= 0:
        return 0
    if min_share_bps >= BPS:
        return total_cents - district_cents  # only removing spending elsewhere can help
    return -(balance // (BPS - min_share_bps))  # ceil(−balance / (BPS − share))


def check(selection: Mapping[str, int], candidates: Iterable[Candidate], rules: Rules,
          years: Mapping[str, int] | None = None) -> list[Violation]:
    """Every rule the list breaks. selection maps a proposal id to the tier number it is placed in;
    years, a proposal id to the year it is spent in (with a cash-flow rule; a proposal without one
    is spent in its own fixed year, else the last year)."""
    by_id = {c.id: c for c in candidates}
    unknown = sorted(set(selection) - set(by_id))
    if unknown:
        raise OptimizerInputError(f"Not a candidate proposal: {', '.join(unknown)}.")
    tiers = {t.number: t for t in rules.tiers}
    bad_tiers = sorted({tier for tier in selection.values() if tier not in tiers})
    if bad_tiers:
        raise OptimizerInputError(f"There is no tier {', '.join(map(str, bad_tiers))}.")
    totals = spending((by_id[i], tier) for i, tier in selection.items())
    problems: list[Violation] = []
    for number in sorted(tiers):
        tier = tiers[number]
        budget, used = rules.tier_budget_cents(tier), totals.by_tier.get(number, 0)
        if used > budget:
            problems.append(Violation(RuleRef(RuleKind.TIER_BUDGET, str(number)),
                                      _("{tier} spends {used}, over its budget of {budget} by {over}.").format(
                                          tier=tier.label, used=money(used), budget=money(budget),
                                          over=money(used - budget)), used - budget))
    for rule in rules.categories:
        used = totals.by_category.get(rule.category, 0)
        if rule.cap_cents is not None and used > rule.cap_cents:
            problems.append(Violation(RuleRef(RuleKind.CATEGORY_CAP, rule.category),
                                      _("{category} spends {used}, over its cap of {cap} by {over}.").format(
                                          category=rule.name, used=money(used), cap=money(rule.cap_cents),
                                          over=money(used - rule.cap_cents)), used - rule.cap_cents))
        if rule.floor_cents and used < rule.floor_cents:
            problems.append(Violation(RuleRef(RuleKind.CATEGORY_FLOOR, rule.category),
                                      _("{category} spends {used}, under its floor of {floor} by {short}.").format(
                                          category=rule.name, used=money(used), floor=money(rule.floor_cents),
                                          short=money(rule.floor_cents - used)), rule.floor_cents - used))
    for minimum in rules.district_minimums:
        used = totals.by_district.get(minimum.district, 0)
        short = district_shortfall_cents(used, totals.total, minimum.min_share_bps)
        if short:
            actual = used / totals.total if totals.total else 0.0
            problems.append(Violation(RuleRef(RuleKind.DISTRICT_MINIMUM, minimum.district),
                                      _("{district} gets {actual} of the spending ({used}), under its minimum of "
                                        "{minimum}: it needs {short} more in its projects.").format(
                                          district=minimum.name, actual=percent(actual, 1), used=money(used),
                                          minimum=share(minimum.min_share_bps), short=money(short)), short))
    groups: dict[str, list[str]] = {}
    for proposal_id in sorted(selection):
        group = by_id[proposal_id].alternate_group
        if group is not None:
            groups.setdefault(group, []).append(proposal_id)
    for group, members in sorted(groups.items()):
        if len(members) > 1:
            problems.append(Violation(RuleRef(RuleKind.ALTERNATES, group),
                                      _("{members} are alternates of one another ({group}): at most one may be on "
                                        "the list.").format(members=", ".join(members), group=group), None))
    for candidate in sorted(by_id.values(), key=lambda c: c.id):
        if candidate.lock is Lock.MUST_INCLUDE and candidate.id not in selection:
            problems.append(Violation(RuleRef(RuleKind.LOCK, candidate.id),
                                      _("{proposal} is locked in but is not on the list.").format(
                                          proposal=candidate.name), candidate.cost_cents))
        if candidate.lock is Lock.MUST_EXCLUDE and candidate.id in selection:
            problems.append(Violation(RuleRef(RuleKind.LOCK, candidate.id),
                                      _("{proposal} is locked out but is on the list.").format(
                                          proposal=candidate.name), candidate.cost_cents))
    if rules.cash_flow is not None:
        problems += _cash_flow(selection, by_id, rules.cash_flow, years or {})
    return problems


def _cash_flow(selection: Mapping[str, int], by_id: Mapping[str, Candidate], cash: CashFlow,
               years: Mapping[str, int]) -> list[Violation]:
    last = cash.years[-1]
    by_year: dict[int, int] = {}
    for proposal_id in selection:
        candidate = by_id[proposal_id]
        year = years.get(proposal_id, candidate.year if candidate.year is not None else last)
        if year not in cash.allowed_to_date():
            raise OptimizerInputError(f"Proposal {proposal_id} is scheduled in {year}, outside the cash flow's years.")
        by_year[year] = by_year.get(year, 0) + candidate.cost_cents
    over = cash_flow.overspent(cash, by_year)
    if not over:
        return []
    first = min(over)
    spent = cash_flow.to_date(cash, by_year)[first]
    return [Violation(RuleRef(RuleKind.CASH_FLOW, str(first)),
                      cash_flow.violation_text(cash, first, spent, over[first], len(over) - 1), over[first])]
