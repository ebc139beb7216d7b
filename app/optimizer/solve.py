"""The optimizer's commands: the best list, and what it would take to add one proposal."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from app.i18n import gettext as _
from app.i18n import money
from app.optimizer.binding import bindings
from app.optimizer.conflicts import conflict
from app.optimizer.integer_program import INFEASIBLE, solve
from app.optimizer.model import SCORE_UNITS_PER_POINT, Candidate, Lock, OptimizerInputError, Rules, validate
from app.optimizer.results import Conflict, Outcome, summarize
from app.optimizer.rulebook import RuleKind, RuleRef, rules_of
from app.optimizer.schedule import schedule

DEFAULT_TIME_LIMIT = 30.0


def optimize(candidates: Iterable[Candidate], rules: Rules, *, time_limit: float = DEFAULT_TIME_LIMIT,
             measure_gains: bool = False) -> Outcome:
    """The list with the highest total score that keeps every rule (the cheapest such list on a
    tie), placed in tiers with the most score it can in Tier 1, with what binds it; or, when no list
    is possible, which rules conflict. measure_gains re-solves without each tight rule to say how
    much score it costs."""
    ordered = validate(tuple(candidates), rules)
    refs = rules_of(ordered, rules)
    return _optimize(ordered, rules, refs, time_limit=time_limit, measure_gains=measure_gains)


def _optimize(candidates: tuple[Candidate, ...], rules: Rules, refs: tuple[RuleRef, ...], *, time_limit: float,
              measure_gains: bool) -> Outcome:
    solution = solve(candidates, rules, in_force=refs, time_limit=time_limit)
    selection = {candidates[i].id: tier for i, tier in solution.placements.items()}
    outcome = summarize(candidates, rules, selection, status=solution.status, seconds=solution.seconds)
    if solution.bound_units is not None:
        outcome = dataclasses.replace(outcome, best_possible_score=solution.bound_units / SCORE_UNITS_PER_POINT)
    if solution.status == INFEASIBLE:
        return dataclasses.replace(outcome, conflict=conflict(candidates, rules, refs, time_limit=time_limit))
    if solution.objective_units is None:  # cut short before any list was found
        return outcome
    if rules.cash_flow is not None:
        chosen = [c for c in candidates if c.id in selection]
        years, _proven = schedule(chosen, rules.cash_flow, in_force=refs, time_limit=time_limit)
        outcome = dataclasses.replace(outcome, years=years)
    found = bindings(candidates, rules, selection, refs)
    if measure_gains and solution.objective_units is not None:
        measured = []
        for binding in found:
            if binding.tight or binding.rule.kind is RuleKind.LOCK:
                without = solve(candidates, rules, in_force=[r for r in refs if r != binding.rule],
                                time_limit=time_limit)
                if without.objective_units is not None:
                    gain = (without.objective_units - solution.objective_units) / SCORE_UNITS_PER_POINT
                    binding = dataclasses.replace(binding, score_gain=gain, tight=gain > 0)
            measured.append(binding)
        found = tuple(measured)
    return dataclasses.replace(outcome, bindings=found)


@dataclass(frozen=True)
class Addition:
    """What it would take to put one proposal on the list."""

    proposal_id: str
    possible: bool
    tier: int | None  # where it would go
    score_lost: float  # score given up against the current optimum (0 when already on it)
    dropped: tuple[str, ...]  # proposals that would leave the list
    added: tuple[str, ...]  # other proposals that would join it
    outcome: Outcome  # the best list with the proposal in it (or, if impossible, the conflict)
    conflict: Conflict | None
    sentence: str


def what_it_takes(candidates: Iterable[Candidate], rules: Rules, proposal_id: str, *,
                  current: Outcome | None = None, time_limit: float = DEFAULT_TIME_LIMIT) -> Addition:
    """Re-solve with the proposal forced in (lifting its own must-exclude lock, if any): the score
    lost, who drops out, or which rules make it impossible. current: the optimum already computed."""
    ordered = validate(tuple(candidates), rules)
    target = next((c for c in ordered if c.id == proposal_id), None)
    if target is None:
        raise OptimizerInputError(f"Not a candidate proposal: {proposal_id}.")
    if current is None:
        current = optimize(ordered, rules, time_limit=time_limit)
    if proposal_id in current.ids:
        return Addition(proposal_id, True, current.selection[proposal_id], 0.0, (), (), current, None,
                        _("{proposal} is already on the list.").format(proposal=target.name))
    lifted = target.lock is Lock.MUST_EXCLUDE
    trial = tuple(dataclasses.replace(c, lock=None) if c.id == proposal_id else c for c in ordered)
    refs = rules_of(trial, rules) + (RuleRef(RuleKind.FORCED, proposal_id),)
    outcome = _optimize(trial, rules, refs, time_limit=time_limit, measure_gains=False)
    if outcome.conflict is not None:
        return Addition(proposal_id, False, None, 0.0, (), (), outcome, outcome.conflict,
                        _("{proposal} cannot be added: {why}").format(proposal=target.name,
                                                                       why=outcome.conflict.sentence))
    if proposal_id not in outcome.ids:  # cut short before any list with it was found
        return Addition(proposal_id, False, None, 0.0, (), (), outcome, None,
                        _("Whether {proposal} can be added could not be decided in the time allowed.").format(
                            proposal=target.name))
    tier = outcome.selection[proposal_id]
    dropped = tuple(sorted(current.ids - outcome.ids))
    added = tuple(sorted(outcome.ids - current.ids - {proposal_id}))
    lost = round(current.total_score - outcome.total_score, 3) if current.status != INFEASIBLE else 0.0
    sentence = _("Adding {proposal} ({cost}) in Tier {tier} costs {lost} points of score").format(
        proposal=target.name, cost=money(target.cost_cents), tier=tier, lost=f"{lost:g}")
    if dropped:
        sentence += _("; it drops {dropped}").format(dropped=", ".join(dropped))
    if added:
        sentence += _("; it brings in {added}").format(added=", ".join(added))
    sentence += "."
    if lifted:
        sentence += " " + _("Its must-exclude lock would have to be lifted.")
    return Addition(proposal_id, True, tier, lost, dropped, added, outcome, None, sentence)
