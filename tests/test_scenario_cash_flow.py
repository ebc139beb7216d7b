"""Cash flow in scenarios: each listed proposal's year, spending by year against revenue by year with
its check, the optimizer's "respect annual cash flow" option with a borrowing limit; and the list
against "do nothing" and the pavement plan spending the same money (a hand computation)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from app.i18n import LANGUAGE_COOKIE
from app.impact.deterioration import pci_at_age, project_pci
from app.pavement_plan.same_money import compare
from app.scenarios import ScenarioError, ballot_cash, pavement, publish, scenarios
from app.triage import board
from models.audit import AuditEvent
from models.layers import PavementSegment
from models.proposals import Proposal, ProposalState
from models.triage import ScenarioItem
from tests.conftest import post_form, sign_in
from tests.test_pavement_plan import _network
from tests.triage_data import build_triage, small_program

YEAR = date.today().year


@pytest.fixture
def listed(session: Session, resident, staff):  # type: ignore[no-untyped-def]
    """Four feasible proposals, revenue equal to their total over five collection years, all on a scenario."""
    data = build_triage(session, resident)
    ids = [p.id or 0 for p in data.proposals]
    board.bulk_move(session=session, actor=staff, proposal_ids=ids, to=ProposalState.feasible)
    costs = {p.id: session.get(Proposal, p.id).final_cents for p in data.proposals}  # type: ignore[union-attr]
    small_program(session, staff, sum(costs.values()))
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Cash")
    for pid in ids:
        scenarios.set_tier(session=session, actor=staff, scenario_id=scenario.id or 0, proposal_id=pid, tier=1)
    return scenario.id, ids, costs


def test_years_by_default_by_hand_and_the_check_names_the_years_short(client, session, staff, listed):
    scenario_id, ids, costs = listed
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    span = p.years.span
    assert len(span) == 5  # the program's collection years, from the year after the vote
    outcome = scenarios.current_outcome(p)
    schedule = scenarios.schedule_of(p, outcome.selection)
    # by default (the proposals' own year, 2027, is before the collection years): by score, the earliest
    # year whose revenue to date covers it, so spending never runs ahead of revenue
    assert {s.source for s in schedule.values()} == {"default"}
    assert scenarios.cash_view(p, outcome).flow.ok
    biggest = max(ids, key=lambda i: costs[i])
    sign_in(client, staff.email)
    page = f"/staff/scenarios/{scenario_id}"
    assert post_form(client, f"{page}/items", {"proposal_id": str(biggest), "year": str(span[0])},
                     page=page).status_code == 303
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    cash = scenarios.cash_view(p, scenarios.current_outcome(p))
    assert scenarios.schedule_of(p, scenarios.current_outcome(p).selection)[str(biggest)].source == "set"
    assert not cash.flow.ok and cash.flow.first_short is not None and cash.flow.first_short.year == span[0]
    shown = client.get(page).text
    assert 'data-testid="cash-chart-scenario"' in shown and 'data-testid="cash-table"' in shown
    assert "Spending to date exceeds the revenue collected to date in" in shown
    assert f"first in {span[0]}" in shown and "set by staff" in shown
    client.cookies.set(LANGUAGE_COOKIE, "es")  # staff's own choice of language
    spanish = client.get(page).text
    client.cookies.delete(LANGUAGE_COOKIE)
    assert "Flujo de caja: gasto por año" in spanish and "El gasto acumulado supera lo recaudado" in spanish
    # a year outside the collection years is refused, and nothing changes
    with pytest.raises(ScenarioError, match="collection years"):
        scenarios.set_year(session=session, actor=staff, scenario_id=scenario_id, proposal_id=biggest, year=1999)
    assert session.exec(select(ScenarioItem.year).where(ScenarioItem.proposal_id == biggest)).one() == span[0]


def test_the_optimizer_respects_cash_flow_with_the_borrowing_limit_set_on_the_page(client, session, staff, listed):
    scenario_id, ids, costs = listed
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    span, yearly = p.years.span, p.years.revenue_cents // 5
    biggest = max(ids, key=lambda i: costs[i])
    assert costs[biggest] > yearly  # it cannot be paid for in the first year from revenue alone
    scenarios.set_year(session=session, actor=staff, scenario_id=scenario_id, proposal_id=biggest, year=span[0])
    sign_in(client, staff.email)
    page = f"/staff/scenarios/{scenario_id}"
    refused = post_form(client, f"{page}/cash-flow", {"respect_cash_flow": "on", "borrowing_limit": "lots"}, page=page)
    assert refused.status_code == 303 and "must be an amount in dollars" in client.get(page).text
    assert not scenarios.get_scenario(session=session, scenario_id=scenario_id).respect_cash_flow  # nothing saved
    post_form(client, f"{page}/cash-flow", {"respect_cash_flow": "on", "borrowing_limit": "0"}, page=page)
    result = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario_id)
    assert result.applied and str(biggest) not in result.optimum.ids  # fixed in the first year, it does not fit
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    outcome = scenarios.current_outcome(p)
    assert outcome.selection == result.optimum.selection and not outcome.violations
    assert scenarios.cash_view(p, outcome).flow.ok
    assert {s.source for s in scenarios.schedule_of(p, outcome.selection).values()} == {"optimizer"}
    assert result.greedy.violations == () or all(v.rule.kind != "cash_flow" for v in result.greedy.violations)
    # borrowing enough to pay for it up front brings it back, still within revenue plus the limit each year
    limit = costs[biggest] - yearly
    post_form(client, f"{page}/cash-flow", {"respect_cash_flow": "on", "borrowing_limit": f"{limit / 100:.2f}"},
              page=page)
    result = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario_id)
    assert str(biggest) in result.optimum.ids and result.optimum.years[str(biggest)] == span[0]
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    flow = scenarios.cash_view(p, scenarios.current_outcome(p)).flow
    assert flow.ok and flow.borrowing_limit_cents == limit
    assert "plus the borrowing limit of" in client.get(page).text
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "scenario.cash_flow")).first() is not None


def test_the_same_money_spent_by_the_pavement_plan_matches_a_hand_computation(session: Session):
    # two local streets, 100 m each: "a" at PCI 30, "b" at PCI 40
    network = _network(session, [("a", "local", 30.0, 100.0, None), ("b", "local", 40.0, 100.0, None)])
    pricer, (a, b) = network.pricer, network.segments
    cost_b = pricer.cost(b, pricer.treatment(b, 40.0), YEAR)  # type: ignore[arg-type]
    # the list treats "b" in the first year and spends exactly its cost; the plan (worst first) spends the
    # same money on "a"; in the second year neither spends anything
    result = compare(network, first_year=YEAR, years=2, spending_by_year={YEAR: cost_b},
                     treated_by_year={YEAR: {b.asset.id}}, policy="worst_first")
    today, one, two = result.rows
    assert today.nothing_pci == today.list_pci == today.plan_pci == pytest.approx(35.0)
    new1, a1, b1 = pci_at_age(1.0, "local"), project_pci(30.0, 1.0, "local"), project_pci(40.0, 1.0, "local")
    assert one.nothing_pci == pytest.approx((a1 + b1) / 2)
    assert one.list_pci == pytest.approx((a1 + new1) / 2)  # b reset to 100 by its overlay, then a year older
    assert one.plan_pci == pytest.approx((new1 + b1) / 2)  # the same money treats the worse street, a
    assert one.list_cents == cost_b and one.plan_cents == cost_b
    new2 = project_pci(new1, 1.0, "local")
    assert two.list_pci == pytest.approx((project_pci(a1, 1.0, "local") + new2) / 2)
    assert two.plan_pci == pytest.approx((new2 + project_pci(b1, 1.0, "local")) / 2)
    assert result.list_segments == 1 and result.plan_cents == result.list_cents == cost_b
    # money the plan cannot use in a year carries to the next: a cent short in year 1, the rest in year 2
    cost_a2 = pricer.cost(a, pricer.treatment(a, float(a1)), YEAR + 1)  # type: ignore[arg-type]
    late = compare(network, first_year=YEAR, years=2, spending_by_year={YEAR: cost_b - 1, YEAR + 1: cost_a2},
                   treated_by_year={}, policy="worst_first")
    assert late.rows[1].plan_cents == 0 and late.rows[1].plan_pci == pytest.approx(late.rows[1].nothing_pci)
    assert late.rows[2].plan_cents == cost_a2  # treats a (worst first) from the year's money plus the carry


def test_the_same_money_page_shows_the_three_runs(client, session, staff, listed):
    scenario_id, _ids, _costs = listed
    sign_in(client, staff.email)
    page = client.get(f"/staff/scenarios/{scenario_id}/pavement")
    assert page.status_code == 200, page.text
    assert 'data-testid="same-money-table"' in page.text and "Pavement plan, same money" in page.text
    assert page.text.count("<tr>") >= 1 + 6  # header and year 0 … year 5


def test_the_published_list_keeps_its_scenario_years_and_is_compared_with_the_same_money(client, session, staff,
                                                                                         listed):
    scenario_id, ids, costs = listed
    span = scenarios.pool(session=session, scenario_id=scenario_id).years.span
    scenarios.set_year(session=session, actor=staff, scenario_id=scenario_id, proposal_id=ids[0], year=span[2])
    publish.publish(session=session, settings=client.app.state.settings, actor=staff, scenario_id=scenario_id)
    view = ballot_cash.cash_view(session=session)
    assert view is not None and [r.year for r in view.flow.rows] == span  # every item within the collection years
    assert view.flow.spending_cents == sum(costs.values()) and view.flow.unscheduled_cents == 0
    assert next(r for r in view.flow.rows if r.year == span[2]).spending_cents >= costs[ids[0]]
    assert 'data-testid="cash-chart-ballot"' in client.get("/plan").text
    api = client.get("/api/v1/network/cashflow").json()
    assert sum(r["spending_cents"] for r in api["rows"]) == sum(costs.values())
    page = client.get("/plan/same-money")
    assert page.status_code == 200 and 'data-testid="same-money-table"' in page.text
    assert "con el mismo dinero" in client.get("/plan/same-money", headers={"Accept-Language": "es"}).text
    data = client.get("/api/v1/network/same-money").json()
    assert [r["year"] for r in data["rows"]] == [span[0] - 1, *span]
    assert sum(r["list_cents"] for r in data["rows"]) == sum(costs.values())
    today = data["rows"][0]
    assert today["do_nothing_pci"] == today["list_pci"] == today["plan_pci"] is not None
    assert data["rows"][-1]["list_pci"] >= data["rows"][-1]["do_nothing_pci"]  # the list repaves streets
    # the scenario's own pages now show the ballot list (its proposals have left the candidates)
    sign_in(client, staff.email)
    assert f"{sum(costs.values()) / 100:,.0f}" in client.get(f"/staff/scenarios/{scenario_id}").text
    staff_view = pavement.compare(session=session, scenario_id=scenario_id)
    assert staff_view.result.list_cents == sum(costs.values()) and staff_view.result.list_segments > 0
    # remembered while nothing it depends on changes; a new survey of one street computes it again
    first = pavement.compare_ballot(session=session)
    assert pavement.compare_ballot(session=session) is first
    segment = session.exec(select(PavementSegment)).first()
    segment.pci = 5.0 if segment.pci != 5.0 else 6.0  # type: ignore[union-attr]
    session.add(segment)
    session.commit()
    again = pavement.compare_ballot(session=session)
    assert again is not first and again.result.rows[0].nothing_pci != first.result.rows[0].nothing_pci  # type: ignore[union-attr]


def test_editing_the_program_after_publication_leaves_the_published_lists_years_as_published(client, session, staff,
                                                                                            listed):
    from app import program as programs

    scenario_id, ids, costs = listed
    span = scenarios.pool(session=session, scenario_id=scenario_id).years.span
    scenarios.set_year(session=session, actor=staff, scenario_id=scenario_id, proposal_id=ids[0], year=span[4])
    publish.publish(session=session, settings=client.app.state.settings, actor=staff, scenario_id=scenario_id)
    view = ballot_cash.cash_view(session=session)
    assert view is not None
    published = {r.year: r.spending_cents for r in view.flow.rows if r.spending_cents}
    assert published[span[4]] >= costs[ids[0]]
    draft = programs.draft_of(programs.program_view(session=session))
    draft.collection_years = 3  # the program shortened after publication: span[4] is no longer a collection year
    programs.save_program(session=session, actor=staff, draft=draft)
    later = ballot_cash.cash_view(session=session)
    assert later is not None and {r.year: r.spending_cents for r in later.flow.rows if r.spending_cents} == published
    found = ballot_cash.ballot_schedule(session=session, published=publish.latest(session=session))
    assert found.years[str(ids[0])].year == span[4] and found.years[str(ids[0])].source == "set"
