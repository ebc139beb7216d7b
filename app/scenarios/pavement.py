"""A list against "do nothing" and against the pavement plan spending the same money
(app.pavement_plan.same_money): network PCI by year over the collection years, for a scenario's list
or the published ballot list. The list's money is spent in the years its proposals are scheduled in
(app.scenarios.schedule, app.scenarios.ballot_cash)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.pavement_plan import same_money
from app.pavement_plan import service as plan
from app.pavement_plan.in_use import current_version
from app.pavement_plan.years import PlanYears, plan_years
from app.scenarios import ballot_cash, budget, publish, scenarios
from models.costs import CatalogVersion
from models.layers import Layer, PavementSegment
from models.proposals import ProposalAsset

_BALLOT_CACHE: OrderedDict[tuple[Any, ...], SameMoneyView] = OrderedDict()
_BALLOT_CACHE_SIZE = 8
_BALLOT_LOCK = threading.Lock()


@dataclass(frozen=True)
class SameMoneyView:
    name: str
    result: same_money.SameMoney
    catalog_version: int | None


def _compare(session: Session, name: str, cost_by_id: Mapping[str, int], year_by_id: Mapping[str, int],
             years: PlanYears) -> SameMoneyView:
    spending: dict[int, int] = {}
    for proposal_id, cost in cost_by_id.items():
        spending[year_by_id[proposal_id]] = spending.get(year_by_id[proposal_id], 0) + cost
    treated: dict[int, set[int]] = {}
    if cost_by_id:
        links = session.exec(select(ProposalAsset.proposal_id, ProposalAsset.asset_id)
                             .where(col(ProposalAsset.proposal_id).in_([int(i) for i in cost_by_id]),
                                    ProposalAsset.layer == "pavement"))
        for listed_id, asset_id in links:
            treated.setdefault(year_by_id[str(listed_id)], set()).add(asset_id)
    network = plan.network(session=session)
    result = same_money.compare(network, first_year=years.first_year, years=years.years,
                                spending_by_year=spending, treated_by_year=treated)
    return SameMoneyView(name, result, network.pricer.catalog.version_number)


def compare(*, session: Session, scenario_id: int) -> SameMoneyView:
    """A scenario's list (the ballot list, once it is published from it). Raises LookupError for an
    unknown scenario, plan.PlanError when the network cannot be simulated."""
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    latest = publish.latest(session=session)
    if latest is not None and latest.scenario_id == scenario_id:  # its proposals are on the ballot now
        ballot = compare_ballot(session=session)
        if ballot is not None:
            return ballot
    outcome = scenarios.current_outcome(p)
    by_id = {c.id: c for c in p.candidates}
    return _compare(session, p.scenario.name, {i: by_id[i].cost_cents for i in outcome.ids}, outcome.years,
                    plan_years(session=session))


def _network_key(session: Session) -> tuple[Any, ...]:
    """What the network's simulation depends on: the pavement layer's revision, the catalog and curve
    versions in use, and (for writes that bypass the layer store) the segments' count, highest id and
    PCI sum."""
    revision = session.exec(select(Layer.revision).where(Layer.kind == "pavement")).first()
    catalog = session.exec(select(CatalogVersion.id).where(col(CatalogVersion.is_current))).first()
    curves = current_version(session=session)
    count, highest, pci_sum = session.exec(select(func.count(), func.max(PavementSegment.id),
                                                  func.sum(PavementSegment.pci))).one()
    return (str(session.get_bind().engine.url), revision, catalog, curves.id if curves else None, count, highest,
            None if pci_sum is None else round(float(pci_sum), 6))


def compare_ballot(*, session: Session) -> SameMoneyView | None:
    """The latest published list; None before publication. Its items and their pavement segments never
    change, so the result is remembered by the list, its years and what the network depends on."""
    published = publish.latest(session=session)
    if published is None:
        return None
    found = ballot_cash.ballot_schedule(session=session, published=published)
    costs = {str(i.proposal_id): i.cost_cents for i in found.items}
    years = {key: s.year for key, s in found.years.items()}
    collection = budget.years_of(session=session, published=published)  # the collection years as published
    key = (published.id, tuple(sorted(years.items())), collection, _network_key(session))
    with _BALLOT_LOCK:
        if key in _BALLOT_CACHE:
            _BALLOT_CACHE.move_to_end(key)
            return _BALLOT_CACHE[key]
    view = _compare(session, f"v{published.version}", costs, years, collection)
    with _BALLOT_LOCK:
        _BALLOT_CACHE[key] = view
        while len(_BALLOT_CACHE) > _BALLOT_CACHE_SIZE:
            _BALLOT_CACHE.popitem(last=False)
    return view
