"""A scenario's list against "do nothing" and against the pavement plan spending the same money
(app.pavement_plan.same_money): network PCI by year over the collection years. The list's money is
spent in the years its proposals are scheduled in (app.scenarios.schedule)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.pavement_plan import same_money
from app.pavement_plan import service as plan
from app.scenarios import scenarios
from models.proposals import ProposalAsset


@dataclass(frozen=True)
class SameMoneyView:
    name: str
    result: same_money.SameMoney
    catalog_version: int | None


def compare(*, session: Session, scenario_id: int) -> SameMoneyView:
    """Raises LookupError for an unknown scenario, plan.PlanError when the network cannot be simulated."""
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    outcome = scenarios.current_outcome(p)
    years = outcome.years
    by_id = {c.id: c for c in p.candidates}
    spending: dict[int, int] = {}
    for proposal_id in outcome.ids:
        spending[years[proposal_id]] = spending.get(years[proposal_id], 0) + by_id[proposal_id].cost_cents
    treated: dict[int, set[int]] = {}
    if outcome.ids:
        links = session.exec(select(ProposalAsset.proposal_id, ProposalAsset.asset_id)
                             .where(col(ProposalAsset.proposal_id).in_([int(i) for i in outcome.ids]),
                                    ProposalAsset.layer == "pavement"))
        for listed_id, asset_id in links:
            treated.setdefault(years[str(listed_id)], set()).add(asset_id)
    network = plan.network(session=session)
    result = same_money.compare(network, first_year=p.years.first_year, years=p.years.years,
                                spending_by_year=spending, treated_by_year=treated)
    return SameMoneyView(p.scenario.name, result, network.pricer.catalog.version_number)
