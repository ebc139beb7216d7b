"""Synthetic programs shaped like Athens-Clarke's TSPLOST (for benchmarks and tests): five buckets
with caps and floors, ten districts with minimum shares, cheaper alternates of some projects."""

from __future__ import annotations

import random

from app.optimizer.model import Candidate, CategoryRule, DistrictMinimum, Rules, Tier

CATEGORIES = (("pavement", "Pavement & bridges", 0.45), ("sidewalks", "Sidewalks & trails", 0.2),
              ("streetlights", "Streetlights", 0.1), ("corridors", "Corridors", 0.15), ("transit", "Transit", 0.1))
DISTRICTS = tuple(f"D{n}" for n in range(1, 11))


def program(n: int, *, seed: int = 0, revenue_cents: int = 14_450_000_000, oversubscription: float = 5.0
            ) -> tuple[list[Candidate], Rules]:
    """n candidates asking for about `oversubscription` × the revenue, and rules that bind."""
    rng = random.Random(seed)  # noqa: S311 — reproducible sample data, not secrets
    mean_cost = revenue_cents * oversubscription / max(n, 1)
    candidates: list[Candidate] = []
    weights = [w for _, _, w in CATEGORIES]
    for i in range(n):
        category = rng.choices(CATEGORIES, weights)[0][0]
        district = None if rng.random() < 0.1 else rng.choice(DISTRICTS)
        cost = max(1_000_00, int(rng.lognormvariate(0, 0.8) * mean_cost / 1.377) // 100 * 100)
        score = round(rng.uniform(20, 100), 1)
        group = None
        if rng.random() < 0.15 and i + 1 < n:
            group = f"G{i}"
        candidates.append(Candidate(f"P{i:05d}", cost, score, category, district, alternate_group=group,
                                    equity=round(rng.uniform(0.05, 0.45), 3)))
        if group is not None:  # a cheaper, lower-scoring alternate of the same project
            candidates.append(Candidate(f"P{i:05d}a", cost * 6 // 10, round(score * 0.75, 1), category, district,
                                        alternate_group=group))
    candidates = candidates[:n]
    budget = revenue_cents * 97 // 100
    rules = Rules(
        revenue_cents=revenue_cents, program_management_bps=300, target_share_bps=10_000,
        tiers=(Tier(1, 8_500), Tier(2, 1_500)),
        categories=tuple(CategoryRule(key, label, floor_cents=budget * int(w * 100) // 400,
                                      cap_cents=budget * int(w * 100) * 3 // 200)
                         for key, label, w in CATEGORIES),
        district_minimums=tuple(DistrictMinimum(d, 500, f"District {d[1:]}") for d in DISTRICTS),
    )
    return candidates, rules
