"""Splitting a list between Tier 1 and Tier 2 (app/optimizer/tier_split.py): the least score moved
to Tier 2 whose cost lands in the window, against exhaustive search and against HiGHS."""

from __future__ import annotations

import itertools
import random

import highspy
import numpy as np
import pytest

from app.optimizer.integer_program import _highs
from app.optimizer.synthetic import program
from app.optimizer.tier_split import split


def exhaustive(cost: np.ndarray, units: np.ndarray, low: int, high: int) -> int | None:
    best = None
    for bits in itertools.product((False, True), repeat=len(cost)):
        moved = np.array(bits, dtype=bool)
        if low <= int(cost[moved].sum()) <= high:
            value = int(units[moved].sum())
            best = value if best is None else min(best, value)
    return best


def random_case(rng: random.Random) -> tuple[np.ndarray, np.ndarray, int, int]:
    m = rng.randint(1, 10)
    cost = np.array([rng.choice([0, rng.randint(1, 50), rng.randint(1, 5_000) * 100]) for _ in range(m)],
                    dtype=np.int64)
    units = np.array([rng.choice([rng.randint(0, 100_000), rng.randint(-5_000, 100_000), 0]) for _ in range(m)],
                     dtype=np.int64)
    total = int(cost.sum())
    low = rng.randint(-100, total + 100)
    return cost, units, low, low + rng.choice([0, 1, 10, 1_000, 100_000, total])


@pytest.mark.parametrize("block", range(4))
def test_the_split_matches_exhaustive_search(block):
    rng = random.Random(block)
    for _ in range(250):
        cost, units, low, high = random_case(rng)
        expected = exhaustive(cost, units, low, high)
        found = split(cost, units, low, high)
        if found is None:  # the search may hand over to the integer program, never answer wrongly
            continue
        if expected is None:
            assert found.moved is None
        else:
            assert found.moved is not None
            assert low <= int(cost[found.moved].sum()) <= high
            assert int(units[found.moved].sum()) == expected


def highs_split(cost: np.ndarray, units: np.ndarray, low: int, high: int) -> int:
    m = len(cost)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m, 1
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = units.astype(float), np.zeros(m), np.ones(m)
    lp.row_lower_, lp.row_upper_ = np.array([float(low)]), np.array([float(high)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array([0, m], dtype=np.int32)
    lp.a_matrix_.index_ = np.arange(m, dtype=np.int32)
    lp.a_matrix_.value_ = cost.astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m
    h = _highs(60)
    h.passModel(lp)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return int(round(h.getInfo().objective_function_value))


def test_a_city_sized_list_splits_like_the_integer_program_says():
    # 1,000 proposals of a synthetic program; Tier 2 must take what Tier 1 cannot, within a
    # window of $150 — a near subset-sum that the knapsack search proves in milliseconds
    candidates, _ = program(3_000, seed=4)
    listed = candidates[:1_000]
    cost = np.array([c.cost_cents for c in listed], dtype=np.int64)
    units = np.array([round(c.score * 1000) for c in listed], dtype=np.int64)
    low = int(cost.sum()) * 85 // 100
    high = low + 150_00
    found = split(cost, units, low, high)
    assert found is not None and found.moved is not None
    assert low <= int(cost[found.moved].sum()) <= high
    assert int(units[found.moved].sum()) == highs_split(cost, units, low, high)


def test_no_split_when_nothing_lands_in_the_window():
    cost = np.array([300, 500, 700], dtype=np.int64)
    units = np.array([1, 1, 1], dtype=np.int64)
    assert split(cost, units, 1_600, 1_999).moved is None  # sums: 0, 300, 500, 700, 800, 1000, 1200, 1500
    assert split(cost, units, 1_500, 1_500).moved.tolist() == [True, True, True]
