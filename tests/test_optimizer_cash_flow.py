"""The optimizer's annual cash-flow option: spending to date never above revenue to date plus the
borrowing limit. The optimum is checked against exhaustive search over every subset × tier × year
assignment on small seeded programs; the schedule against every year assignment of the chosen list."""

from __future__ import annotations

import itertools
import random

import pytest

from app.optimizer import (
    BPS,
    Candidate,
    CashFlow,
    CategoryRule,
    Lock,
    OptimizerInputError,
    RuleKind,
    Rules,
    Tier,
    check,
    greedy,
    optimize,
    score_units,
)

M = 100_000_000  # $1M in cents


def small_case(seed: int) -> tuple[list[Candidate], Rules]:
    rng = random.Random(seed)
    n = rng.randint(4, 7)
    years = tuple(range(2027, 2027 + rng.randint(2, 4)))
    candidates = []
    for i in range(n):
        candidates.append(Candidate(
            f"P{i}", rng.randint(1, 40) * M // 4, round(rng.uniform(0, 100), 1), rng.choice(("pavement", "sidewalks")),
            year=rng.choice([None, None, rng.choice(years)]),
            lock=rng.choices([None, Lock.MUST_INCLUDE, Lock.MUST_EXCLUDE], [0.86, 0.07, 0.07])[0]))
    total = sum(c.cost_cents for c in candidates)
    revenue = int(total * rng.uniform(0.3, 0.9))
    share, rest = divmod(revenue, len(years))
    cash = CashFlow(tuple((y, share + (rest if k == 0 else 0)) for k, y in enumerate(years)),
                    borrowing_limit_cents=rng.choice([0, 0, total // 10, total // 4]))
    tiers = rng.choice([(Tier(1, BPS),), (Tier(1, 7_000), Tier(2, 3_000))])
    categories = (CategoryRule("pavement", "Pavement", cap_cents=total // 3),) if rng.random() < 0.3 else ()
    return candidates, Rules(revenue_cents=revenue, target_share_bps=rng.choice([10_000, 15_000]), tiers=tiers,
                             categories=categories, cash_flow=cash)


def years_fit(chosen: list[Candidate], cash: CashFlow, years: dict[str, int]) -> bool:
    allowed = cash.allowed_to_date()
    spent = 0
    for year in cash.years:
        spent += sum(c.cost_cents for c in chosen if years[c.id] == year)
        if spent > allowed[year]:
            return False
    return True


def year_assignments(chosen: list[Candidate], cash: CashFlow):
    options = [(c.year,) if c.year is not None else cash.years for c in chosen]
    for picked in itertools.product(*options):
        yield {c.id: y for c, y in zip(chosen, picked, strict=True)}


def tiers_fit(chosen: list[Candidate], rules: Rules) -> bool:
    tiers = rules.ordered_tiers
    for placed in itertools.product(tiers, repeat=len(chosen)):
        if all(sum(c.cost_cents for c, t in zip(chosen, placed, strict=True) if t == tier)
               <= rules.tier_budget_cents(tier) for tier in tiers):
            return True
    return False


def exhaustive(candidates: list[Candidate], rules: Rules) -> int | None:
    """The best score units of any list that fits the tiers, the caps, the locks and some year assignment."""
    assert rules.cash_flow is not None
    best = None
    for mask in itertools.product((False, True), repeat=len(candidates)):
        chosen = [c for c, on in zip(candidates, mask, strict=True) if on]
        if any(c.lock is Lock.MUST_INCLUDE and c not in chosen for c in candidates) or any(
                c.lock is Lock.MUST_EXCLUDE for c in chosen):
            continue
        if any(sum(c.cost_cents for c in chosen if c.category == r.category) > (r.cap_cents or 0)
               for r in rules.categories):
            continue
        units = sum(score_units(c.score) for c in chosen)
        if best is not None and units <= best:
            continue
        if tiers_fit(chosen, rules) and any(years_fit(chosen, rules.cash_flow, y)
                                            for y in year_assignments(chosen, rules.cash_flow)):
            best = units
    return best


def delay(chosen: list[Candidate], cash: CashFlow, years: dict[str, int]) -> int:
    """The schedule's objective: score units + 1, times the years after the first, summed."""
    return sum((max(score_units(c.score), 0) + 1) * cash.years.index(years[c.id]) for c in chosen)


@pytest.mark.parametrize("seed", range(40))
def test_the_cash_flow_optimum_matches_exhaustive_search(seed):
    candidates, rules = small_case(seed)
    assert rules.cash_flow is not None
    expected = exhaustive(candidates, rules)
    outcome = optimize(candidates, rules)
    if expected is None:
        assert outcome.status == "infeasible" and outcome.conflict is not None
        return
    assert outcome.status == "optimal"
    chosen = [c for c in candidates if c.id in outcome.ids]
    assert sum(score_units(c.score) for c in chosen) == expected
    # every listed proposal has a year, its own when fixed, and the years keep the cash flow
    assert set(outcome.years) == outcome.ids
    assert all(outcome.years[c.id] == c.year for c in chosen if c.year is not None)
    assert years_fit(chosen, rules.cash_flow, outcome.years)
    assert not check(outcome.selection, candidates, rules, outcome.years)
    # the schedule is the earliest (score-weighted) of every year assignment of that list
    best_delay = min(delay(chosen, rules.cash_flow, y) for y in year_assignments(chosen, rules.cash_flow)
                     if years_fit(chosen, rules.cash_flow, y))
    assert delay(chosen, rules.cash_flow, outcome.years) == best_delay
    # the greedy list respects the cash flow too
    cheap = greedy(candidates, rules)
    assert years_fit([c for c in candidates if c.id in cheap.ids], rules.cash_flow, cheap.years)
    assert not [v for v in cheap.violations if v.rule.kind is RuleKind.CASH_FLOW]


def test_cash_flow_moves_spending_later_and_borrowing_buys_more():
    candidates = [Candidate("A", 60 * M, 50.0, "pavement"), Candidate("B", 50 * M, 25.0, "pavement"),
                  Candidate("C", 30 * M, 30.0, "pavement", year=2027)]
    revenue = ((2027, 40 * M), (2028, 40 * M), (2029, 40 * M))
    rules = Rules(revenue_cents=120 * M, target_share_bps=15_000, cash_flow=CashFlow(revenue))
    outcome = optimize(candidates, rules)
    # $140M of projects against $120M of revenue: B drops out; C is fixed in 2027 ($30M of $40M), so A ($60M)
    # waits until $90M has come in: the end of 2029 ($80M by the end of 2028 is not enough)
    assert outcome.ids == {"A", "C"}
    assert outcome.years == {"C": 2027, "A": 2029}
    borrowed = optimize(candidates, Rules(revenue_cents=120 * M, target_share_bps=15_000,
                                          cash_flow=CashFlow(revenue, borrowing_limit_cents=20 * M)))
    # borrowing $20M: all three ($140M = $120M + $20M); the best-scoring A as early as the money allows
    assert borrowed.ids == {"A", "B", "C"}
    assert borrowed.years == {"C": 2027, "A": 2028, "B": 2029}


def test_a_project_fixed_too_early_for_the_money_is_named():
    candidates = [Candidate("A", 60 * M, 50.0, "pavement", year=2027, lock=Lock.MUST_INCLUDE)]
    rules = Rules(revenue_cents=120 * M, cash_flow=CashFlow(((2027, 40 * M), (2028, 80 * M))))
    outcome = optimize(candidates, rules)
    assert outcome.status == "infeasible"
    assert {r.kind for r in outcome.conflict.rules} == {RuleKind.CASH_FLOW, RuleKind.LOCK}
    assert "2027" in outcome.conflict.sentence and "$40,000,000" in outcome.conflict.sentence


def test_a_hand_scheduled_list_names_the_first_year_short():
    candidates = [Candidate("A", 60 * M, 50.0, "pavement"), Candidate("B", 30 * M, 40.0, "pavement")]
    rules = Rules(revenue_cents=120 * M, cash_flow=CashFlow(((2027, 40 * M), (2028, 40 * M), (2029, 40 * M)),
                                                            borrowing_limit_cents=10 * M))
    found = check({"A": 1, "B": 1}, candidates, rules, {"A": 2027, "B": 2028})
    assert [v.rule.kind for v in found] == [RuleKind.CASH_FLOW]
    assert found[0].amount_cents == 10 * M  # $60M spent by the end of 2027 against $40M + $10M
    assert "By the end of 2027" in found[0].message and "later" not in found[0].message  # 2028: $90M of $90M


def test_a_year_outside_the_cash_flow_is_refused():
    rules = Rules(revenue_cents=10 * M, cash_flow=CashFlow(((2027, 5 * M), (2028, 5 * M))))
    with pytest.raises(OptimizerInputError, match="2031"):
        optimize([Candidate("A", M, 1.0, "pavement", year=2031)], rules)
