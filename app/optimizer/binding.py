"""Which rules bind the optimum, with their slack, in plain words for staff."""

from __future__ import annotations

from app.i18n import gettext as _
from app.i18n import money
from app.optimizer import cash_flow
from app.optimizer.check import spending
from app.optimizer.model import BPS, Candidate, Lock, Rules
from app.optimizer.results import Binding
from app.optimizer.rulebook import RuleKind, RuleRef, category_limit, describe, district_balance


def bindings(candidates: tuple[Candidate, ...], rules: Rules, selection: dict[str, int],
             refs: tuple[RuleRef, ...]) -> tuple[Binding, ...]:
    """One Binding per budget, cap, floor and district minimum, and one per alternates group or lock
    that shapes the list; tight ones say why nothing more could be added or removed."""
    by_id = {c.id: c for c in candidates}
    totals = spending((by_id[i], t) for i, t in selection.items())
    addable = [c for c in candidates if c.id not in selection and c.lock is not Lock.MUST_EXCLUDE]
    removable = [by_id[i] for i in selection if by_id[i].lock is not Lock.MUST_INCLUDE]
    out: list[Binding] = []
    for ref in refs:
        text = describe(ref, candidates, rules)
        if ref.kind is RuleKind.TIER_BUDGET:
            tier = rules.tier(int(ref.key))
            limit, used = rules.tier_budget_cents(tier), totals.by_tier.get(tier.number, 0)
            out.append(_ceiling(ref, text, limit, used, addable))
        elif ref.kind is RuleKind.CATEGORY_CAP:
            _rule, cap = category_limit(ref, rules)
            used = totals.by_category.get(ref.key, 0)
            out.append(_ceiling(ref, text, cap, used, [c for c in addable if c.category == ref.key]))
        elif ref.kind is RuleKind.CATEGORY_FLOOR:
            _rule, floor = category_limit(ref, rules)
            used = totals.by_category.get(ref.key, 0)
            slack = used - floor
            held = [c for c in removable if c.category == ref.key]
            cheapest = min(held, key=lambda c: (c.cost_cents, c.id), default=None)
            tight = cheapest is None or slack < cheapest.cost_cents
            sentence = (_("{rule} binds: {used} is spent, {slack} above it, so no proposal in it can be dropped.")
                        if tight else _("{rule} is met with {slack} to spare ({used} spent)."))
            out.append(Binding(ref, text, floor, used, slack, tight,
                               _capital(sentence.format(rule=text, used=money(used), slack=money(slack)))))
        elif ref.kind is RuleKind.DISTRICT_MINIMUM:
            out.append(_district(ref, text, rules, totals, addable, removable))
        elif ref.kind is RuleKind.ALTERNATES:
            members = sorted((c for c in candidates if c.alternate_group == ref.key), key=lambda c: (-c.score, c.id))
            chosen = [c for c in members if c.id in selection]
            better = [c for c in members if c.id not in selection and chosen and c.score > chosen[0].score]
            if better:
                sentence = _("{chosen} was chosen over its alternate {better}, which scores higher but fits the "
                             "other rules less well.").format(chosen=chosen[0].name, better=better[0].name)
                out.append(Binding(ref, text, None, None, None, True, sentence))
        elif ref.kind is RuleKind.CASH_FLOW and rules.cash_flow is not None:
            year = int(ref.key)
            listed = [by_id[i] for i in selection]
            spent = cash_flow.to_date(rules.cash_flow, cash_flow.projected(rules.cash_flow, listed))
            counted = [c for c in addable if (c.year is None and year == rules.cash_flow.years[-1])
                       or (c.year is not None and c.year <= year)]
            out.append(_ceiling(ref, text, rules.cash_flow.allowed_to_date()[year], spent[year], counted))
        elif ref.kind is RuleKind.LOCK:
            candidate = by_id[ref.key]
            verb = _("keeps it on the list") if candidate.lock is Lock.MUST_INCLUDE else _("keeps it off the list")
            out.append(Binding(ref, text, None, None, None, False, _capital(f"{text} {verb}.")))
    return tuple(out)


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _ceiling(ref: RuleRef, text: str, limit: int, used: int, addable: list[Candidate]) -> Binding:
    slack = limit - used
    cheapest = min(addable, key=lambda c: (c.cost_cents, c.id), default=None)
    tight = cheapest is not None and cheapest.cost_cents > slack
    if cheapest is not None and tight:
        sentence = _("{rule} binds: {used} is spent and {slack} is left, less than the cheapest proposal not "
                     "chosen ({proposal}, {cost}).").format(rule=text, used=money(used), slack=money(slack),
                                                            proposal=cheapest.name, cost=money(cheapest.cost_cents))
    else:
        sentence = _("{rule} does not bind: {used} is spent and {slack} is left.").format(
            rule=text, used=money(used), slack=money(slack))
    return Binding(ref, text, limit, used, slack, tight, _capital(sentence))


def _district(ref: RuleRef, text: str, rules: Rules, totals, addable: list[Candidate],
              removable: list[Candidate]) -> Binding:
    minimum = next(d for d in rules.district_minimums if d.district == ref.key)
    share = minimum.min_share_bps
    used = totals.by_district.get(ref.key, 0)
    balance = district_balance(used, totals.total, share)
    slack = balance // BPS  # district spending above the minimum, in cents
    limit = -(-share * totals.total // BPS)

    def gain(c: Candidate) -> int:  # what the candidate adds to the balance (its share of it counts)
        return BPS * c.cost_by_district.get(ref.key, 0) - share * c.cost_cents

    drop = [gain(c) for c in removable if gain(c) > 0]
    add = [-gain(c) for c in addable if gain(c) < 0]
    tight = balance < min(drop, default=0) or balance < min(add, default=0)
    if tight:
        sentence = _("{rule} binds: {district} gets {used}, {slack} above its minimum, so dropping its cheapest "
                     "proposal or adding the cheapest one elsewhere would break it.")
    else:
        sentence = _("{rule} is met: {district} gets {used}, {slack} above its minimum.")
    return Binding(ref, text, limit, used, slack, tight, _capital(sentence.format(
        rule=text, district=minimum.name, used=money(used), slack=money(slack))))
