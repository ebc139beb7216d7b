"""A list against "do nothing" and against the pavement plan spending the same money
(app.pavement_plan.same_money): network PCI by year over the collection years, for a scenario's list
or the published ballot list. The list's money is spent in the years its proposals are scheduled in
(app.scenarios.schedule, app.scenarios.ballot_cash)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.pavement_plan import same_money
from app.pavement_plan import service as plan
from app.pavement_plan.years import plan_years
from app.scenarios import ballot_cash, publish, scenarios
from models.proposals import ProposalAsset


@dataclass(frozen=True)
class SameMoneyView:
    name: str
    result: same_money.SameMoney
    catalog_version: int | None


def _compare(session: Session, name: str, cost_by_id: Mapping[str, int],
             year_by_id: Mapping[str, int]) -> SameMoneyView:
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
    years = plan_years(session=session)
    result = same_money.compare(network, first_year=years.first_year, years=years.years,
                                spending_by_year=spending, treated_by_year=treated)
    return SameMoneyView(name, result, network.pricer.catalog.version_number)


def compare(*, session: Session, scenario_id: int) -> SameMoneyView:
    """A scenario's list. Raises LookupError for an unknown scenario, plan.PlanError when the network
    cannot be simulated."""
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    outcome = scenarios.current_outcome(p)
    by_id = {c.id: c for c in p.candidates}
    return _compare(session, p.scenario.name, {i: by_id[i].cost_cents for i in outcome.ids}, outcome.years)


def compare_ballot(*, session: Session) -> SameMoneyView | None:
    """The latest published list; None before publication."""
    published = publish.latest(session=session)
    if published is None:
        return None
    found = ballot_cash.ballot_schedule(session=session, published=published)
    return _compare(session, f"v{published.version}", {str(i.proposal_id): i.cost_cents for i in found.items},
                    {key: s.year for key, s in found.years.items()})
