"""A ballot list (or a scenario's list) against the pavement plan with the same money.

Three runs over the collection years, from today's PCI, each year treating and then ageing every
rated segment one year along its class's curve (as ``simulate.run`` does):

- **do nothing**: no segment is treated;
- **the list**: in the year a listed proposal is scheduled, every pavement segment it covers gets
  the treatment the cost catalog's decision rules call for at its PCI then, with that treatment's
  effect (reset to a PCI, or points added) — a segment in good condition that needs nothing is left
  as it is, like the estimate that priced it;
- **the pavement plan with the same money**: each year's budget is the list's spending scheduled
  that year (all of it, every category: the question is what the same dollars would do for
  pavement), spent by the plan's cost-effectiveness order (``simulate``'s ``benefit_cost`` policy);
  money a year cannot use carries to the next, so the plan has the list's total to spend.

Each row is the network PCI at the end of the year (length-weighted). Pure: the scenarios service
gives it the network, the list's spending by year and the segments it treats.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from app.pavement_plan.curves import effect_of
from app.pavement_plan.simulate import Network, _average, _order


@dataclass(frozen=True)
class SameMoneyRow:
    year: int
    nothing_pci: float | None
    list_pci: float | None
    plan_pci: float | None
    list_cents: int  # the list's spending scheduled this year (0 for year 0, today)
    plan_cents: int  # what the plan spent this year


@dataclass(frozen=True)
class SameMoney:
    rows: list[SameMoneyRow]  # year 0 (today), then each plan year
    list_segments: int  # rated segments the list treats
    policy: str

    @property
    def list_cents(self) -> int:
        return sum(r.list_cents for r in self.rows)

    @property
    def plan_cents(self) -> int:
        return sum(r.plan_cents for r in self.rows)


def _list_year(network: Network, pci: np.ndarray, treated: Collection[int]) -> np.ndarray:
    out = pci.copy()
    for i, segment in enumerate(network.segments):
        if segment.asset.id in treated:
            rule = network.pricer.treatment(segment, float(pci[i]))
            if rule is not None:
                out[i] = effect_of(rule.key, network.effects).apply(float(pci[i]))
    return out


def _plan_year(network: Network, pci: np.ndarray, year: int, budget: int, policy: str) -> tuple[np.ndarray, int]:
    out = pci.copy()
    found = network.candidates(pci, year)
    spent = 0
    for k in _order(network, pci, found, policy) if found else []:
        i, cost, after = found[k]
        if spent + cost <= budget:
            out[i] = after
            spent += cost
    return out, spent


def compare(network: Network, *, first_year: int, years: int, spending_by_year: Mapping[int, int],
            treated_by_year: Mapping[int, Collection[int]], policy: str = "benefit_cost") -> SameMoney:
    """The three runs, year by year. treated_by_year: the pavement segment ids the list treats each year."""
    nothing = listed = plan = network.pci0.copy()
    rows = [SameMoneyRow(first_year - 1, *(_average(network.pci0, network.lengths),) * 3, 0, 0)]
    carried = 0
    for year in range(first_year, first_year + years):
        listed = _list_year(network, listed, treated_by_year.get(year, ()))
        budget = spending_by_year.get(year, 0) + carried
        plan, spent = _plan_year(network, plan, year, budget, policy)
        carried = budget - spent
        nothing, listed, plan = (network.age_one_year(p) for p in (nothing, listed, plan))
        rows.append(SameMoneyRow(year, _average(nothing, network.lengths), _average(listed, network.lengths),
                                 _average(plan, network.lengths), spending_by_year.get(year, 0), spent))
    every = set().union(*treated_by_year.values()) if treated_by_year else set()
    return SameMoney(rows, sum(1 for s in network.segments if s.asset.id in every), policy)
