"""Why no list is possible: a smallest set of rules that conflict, found by a deletion filter.

Every rule group (a tier budget, a cap, a floor, a district minimum, an alternates group, a lock,
a proposal forced in) is tried out of the set: if the rest is still infeasible, the rule is not
needed for the conflict and stays out; otherwise it is part of it. Groups are first tried in
blocks (a block that is not needed leaves in one solve), then one by one. Each step is a
feasibility solve with no objective. What remains is irreducible: dropping any one rule of it
makes a list possible.
"""

from __future__ import annotations

from app.i18n import gettext as _
from app.optimizer.integer_program import INFEASIBLE, solve
from app.optimizer.model import Candidate, Rules
from app.optimizer.results import Conflict
from app.optimizer.rulebook import RuleKind, RuleRef, describe

# Rules tried first leave the set whenever they can, so the ones staff most likely mean to keep or
# change (a proposal forced in, locks, budgets) are tried last and stay in the explanation.
_BLAME_ORDER = (RuleKind.DISTRICT_MINIMUM, RuleKind.ALTERNATES, RuleKind.CATEGORY_FLOOR, RuleKind.CATEGORY_CAP,
                RuleKind.CASH_FLOW, RuleKind.TIER_BUDGET, RuleKind.LOCK, RuleKind.FORCED)


def conflict(candidates: tuple[Candidate, ...], rules: Rules, refs: tuple[RuleRef, ...], *,
             time_limit: float = 10.0) -> Conflict:
    def infeasible(subset: list[RuleRef]) -> bool:
        # a solve that runs out of time counts as feasible: the rule is kept, never wrongly blamed
        outcome = solve(candidates, rules, in_force=subset, feasibility_only=True, time_limit=time_limit)
        return outcome.status == INFEASIBLE

    kept = sorted(refs, key=lambda r: _BLAME_ORDER.index(r.kind))
    block = max(1, int(len(kept) ** 0.5))
    pending = [kept[i:i + block] for i in range(0, len(kept), block)]
    while pending:
        group = pending.pop(0)
        trial = [r for r in kept if r not in group]
        if infeasible(trial):
            kept = trial
        elif len(group) > 1:
            half = len(group) // 2
            pending[:0] = [group[:half], group[half:]]
    descriptions = tuple(describe(r, candidates, rules) for r in kept)
    if len(kept) == 1:
        sentence = _("No list is possible: {rule} cannot be met with these proposals.").format(rule=descriptions[0])
    else:
        sentence = _("No list is possible: these rules cannot all hold at once — {rules}. "
                     "Relax or remove any one of them.").format(rules="; ".join(descriptions))
    return Conflict(tuple(kept), descriptions, sentence)
