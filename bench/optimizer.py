"""Whittling optimizer benchmark: time to the proven optimum for 100, 1,000 and 5,000 candidate
proposals, beside the CONSUL-style greedy list and CBC (through PuLP) on the same data.

    .venv/bin/python bench/optimizer.py [--sizes 100 1000 5000] [--seed 1] [--cbc-limit 120]

Data: app.optimizer.synthetic — five Athens-style buckets with caps and floors, ten districts
with 5 % minimum shares, ~15 % of projects with a cheaper alternate, proposals asking for about
5× the revenue. Each size runs twice: one tier, and Tier 1 (85 %) + Tier 2 (15 %). Wall and CPU
time are both printed (the machine may be shared)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

from app.optimizer import Rules, Tier, check, greedy, optimize, score_units
from app.optimizer.integer_program import solve
from app.optimizer.model import validate
from app.optimizer.rulebook import rules_of
from app.optimizer.synthetic import program


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (CBC runs as a child process)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(function):
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = function()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def cbc(candidates, rules: Rules, limit: float):
    """The same integer program in PuLP, solved by its bundled CBC (one thread, gap 0)."""
    import pulp

    tiers = sorted(rules.tiers, key=lambda t: t.number)
    problem = pulp.LpProblem("whittling", pulp.LpMaximize)
    x = {(c.id, t.number): pulp.LpVariable(f"x_{c.id}_{t.number}", cat="Binary") for c in candidates for t in tiers}
    problem += pulp.lpSum(score_units(c.score) * x[c.id, t.number] for c in candidates for t in tiers)
    for c in candidates:
        chosen = pulp.lpSum(x[c.id, t.number] for t in tiers)
        problem += chosen <= 1
    for t in tiers:
        problem += pulp.lpSum(c.cost_cents * x[c.id, t.number] for c in candidates) <= rules.tier_budget_cents(t)

    def spend(members):
        return pulp.lpSum(c.cost_cents * x[c.id, t.number] for c in members for t in tiers)

    for rule in rules.categories:
        members = [c for c in candidates if c.category == rule.category]
        if rule.cap_cents is not None:
            problem += spend(members) <= rule.cap_cents
        if rule.floor_cents:
            problem += spend(members) >= rule.floor_cents
    for minimum in rules.district_minimums:
        inside = [c for c in candidates if c.district == minimum.district]
        problem += 10_000 * spend(inside) >= minimum.min_share_bps * spend(candidates)
    groups: dict[str, list] = {}
    for c in candidates:
        if c.alternate_group is not None:
            groups.setdefault(c.alternate_group, []).append(c)
    for members in groups.values():
        if len(members) > 1:
            problem += pulp.lpSum(x[c.id, t.number] for c in members for t in tiers) <= 1
    problem.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, gapRel=0, gapAbs=0.99, threads=1))
    selection = {c.id: t.number for c in candidates for t in tiers if (x[c.id, t.number].value() or 0) > 0.5}
    return pulp.LpStatus[problem.status], selection


def units(selection, candidates, rules) -> int:
    by_id = {c.id: c for c in candidates}
    return sum(score_units(by_id[i].score) for i in selection)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=float, default=300.0, help="HiGHS wall-clock limit per solve, seconds")
    parser.add_argument("--cbc-limit", type=float, default=120.0)
    parser.add_argument("--no-cbc", action="store_true")
    args = parser.parse_args()
    print("| n | tiers | HiGHS status | HiGHS wall s | HiGHS CPU s | HiGHS one-solve CPU s | greedy s | "
          "greedy score / optimum | greedy rules broken | CBC status | CBC wall s | CBC CPU s | "
          "CBC / HiGHS one-solve CPU | CBC score / optimum |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for two_tiers in (False, True):
            candidates, rules = program(n, seed=args.seed)
            if not two_tiers:
                rules = dataclasses.replace(rules, tiers=(Tier(1, 10_000),))
            candidates = list(validate(candidates, rules))
            best, wall, cpu = timed(lambda c=candidates, r=rules: optimize(c, r, time_limit=args.limit))
            assert check(best.selection, candidates, rules) == []
            ordered = tuple(candidates)
            _, _, one_cpu = timed(lambda c=ordered, r=rules: solve(c, r, in_force=rules_of(c, r), cheapest_on_tie=False,
                                                                   time_limit=args.limit))
            greedy_list, greedy_wall, _ = timed(lambda c=candidates, r=rules: greedy(c, r))
            optimum = units(best.selection, candidates, rules)
            row = [n, "1 + 2" if two_tiers else "1", best.status, f"{wall:.2f}", f"{cpu:.2f}", f"{one_cpu:.2f}",
                   f"{greedy_wall:.3f}",
                   f"{units(greedy_list.selection, candidates, rules) / optimum:.3f}", len(greedy_list.violations)]
            if args.no_cbc:
                row += ["—"] * 5
            else:
                (status, selection), cbc_wall, cbc_cpu = timed(lambda c=candidates, r=rules: cbc(c, r, args.cbc_limit))
                row += [status if cbc_wall < args.cbc_limit else f"{status} (time limit)", f"{cbc_wall:.2f}",
                        f"{cbc_cpu:.2f}", f"{cbc_cpu / one_cpu:.1f}×",
                        f"{units(selection, candidates, rules) / optimum:.5f}"]
            print("| " + " | ".join(str(v) for v in row) + " |", flush=True)


if __name__ == "__main__":
    main()
