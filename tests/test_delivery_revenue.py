"""Revenue collected against the forecast by year (staff enter it, corrections audited), and which
Tier 2 projects the revenue above the forecast allows, in the ballot list's order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlmodel import select

from app import program as programs
from app.delivery import DeliveryError, revenue, vote
from app.scenarios import publish, scenarios
from app.triage import board, review
from models.audit import AuditEvent
from models.proposals import ProposalState
from tests.triage_data import build_triage

TODAY = date.today()
VOTED = date(TODAY.year - 3, 5, 19)  # collections from the year after: three years entered by now
FIRST = VOTED.year + 1
YEARLY = 176_300_000 // 5  # the forecast: $1,763,000 in five equal years


@pytest.fixture
def two_tiers(session, settings, resident, staff) -> list:
    """The four proposals on a list in two tiers (Tier 2 only if revenue exceeds the forecast), voted."""
    data = build_triage(session, resident)
    ids = [p.id or 0 for p in data.proposals]
    board.bulk_move(session=session, actor=staff, proposal_ids=ids, to=ProposalState.feasible)
    draft = programs.draft_of(programs.program_view(session=session))
    draft.expected_revenue_cents = 176_300_000  # Tier 1 (60 %) cannot hold both west and mid Main: mid goes to Tier 2
    draft.program_management_bps = 0
    draft.collection_years = 5
    draft.categories = [programs.CategoryDraft("pavement", "Pavement"),
                        programs.CategoryDraft("sidewalks", "Sidewalks")]
    draft.tiers = [programs.TierDraft(1, "Tier 1", 6_000), programs.TierDraft(2, "Tier 2", 4_000, True)]
    draft.phases = programs.demo_draft(start=TODAY - timedelta(days=35)).phases
    programs.save_program(session=session, actor=staff, draft=draft)
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Final")
    chosen = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id or 0).optimum.ids
    for pid in ids:
        if str(pid) not in chosen:
            review.save_review(session=session, actor=staff, proposal_id=pid, expected_version=0,
                               internal_notes="", public_notes="Over the budget this time")
    published = publish.publish(session=session, settings=settings, actor=staff, scenario_id=scenario.id or 0)
    vote.record(session=session, actor=staff, held_on=VOTED, yes_votes=10, no_votes=5)
    return publish.items_of(session=session, published_id=published.id or 0)


def test_staff_enter_collections_by_year_corrections_are_audited_and_bad_input_writes_nothing(session, two_tiers,
                                                                                             staff):
    for year, amount, field in ((TODAY.year + 1, 100, "year"), (1800, 100, "year"), (None, 100, "year"),
                                (FIRST, -5, "collected"), (FIRST, None, "collected")):
        with pytest.raises(DeliveryError) as refused:
            revenue.record(session=session, actor=staff, year=year, amount_cents=amount)
        assert refused.value.field == field
    assert revenue.collections(session=session) == []
    revenue.record(session=session, actor=staff, year=FIRST, amount_cents=YEARLY - 1_000_00, note="Dept. of Revenue")
    revenue.record(session=session, actor=staff, year=FIRST, amount_cents=YEARLY + 500_00, note="Corrected: March")
    revenue.record(session=session, actor=staff, year=FIRST, amount_cents=YEARLY + 500_00, note="Corrected: March")
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "revenue.collection")
                          .order_by(AuditEvent.id)).all()
    assert len(events) == 2  # saving the same figure again records nothing
    assert events[1].before == {"year": FIRST, "amount_cents": YEARLY - 1_000_00, "note": "Dept. of Revenue"}
    view = revenue.revenue_view(session=session)
    assert [y.year for y in view.years] == list(range(FIRST, FIRST + 5))
    first = view.years[0]
    assert (first.forecast_cents, first.collected_cents, first.difference_cents) == (YEARLY, YEARLY + 500_00, 500_00)
    assert view.years[1].collected_cents is None and view.forecast_cents == 176_300_000


def test_tier_2_projects_go_ahead_only_when_revenue_above_the_forecast_covers_them(session, two_tiers, staff):
    tier2 = next(i for i in two_tiers if i.tier == 2)
    view = revenue.revenue_view(session=session)
    assert view.later_tiers == [2] and [p.proposal_id for p in view.projects] == [tier2.proposal_id]
    assert not view.projects[0].allowed and view.available_cents == 0
    # two years in: above the forecast, but by less than the project costs
    revenue.record(session=session, actor=staff, year=FIRST, amount_cents=YEARLY + 20_000_000)
    revenue.record(session=session, actor=staff, year=FIRST + 1, amount_cents=YEARLY - 5_000_000)
    view = revenue.revenue_view(session=session)
    assert view.surplus_cents == 15_000_000 and view.available_cents == 15_000_000
    waiting = view.projects[0]
    assert not waiting.allowed and waiting.short_cents == tier2.cost_cents - 15_000_000
    # the third year brings the surplus past its cost
    revenue.record(session=session, actor=staff, year=FIRST + 2, amount_cents=YEARLY + tier2.cost_cents)
    view = revenue.revenue_view(session=session)
    assert view.allowed == view.projects and view.projects[0].short_cents == 0
    # program management takes its share of the surplus first
    managed = replace(view, management_bps=3_000)
    assert managed.available_cents == view.surplus_cents - view.surplus_cents * 3_000 // 10_000
    # the share is the program's as the list was published: editing the program now changes nothing
    draft = programs.draft_of(programs.program_view(session=session))
    draft.program_management_bps = 3_000
    programs.save_program(session=session, actor=staff, draft=draft)
    assert revenue.revenue_view(session=session) == view


def test_the_public_page_and_dashboard_show_collected_against_forecast_in_spanish(client, session, two_tiers,
                                                                                 staff):
    revenue.record(session=session, actor=staff, year=FIRST, amount_cents=YEARLY + 40_000_000)
    page = client.get("/projects").text
    assert 'data-testid="revenue-by-year"' in page and f"<th scope=\"row\">{FIRST}</th>" in page
    assert "Which Tier 2 projects revenue now allows" in page and "The rule: Tier 1 is funded" in page
    assert "allowed by revenue" in page  # $400,000 above the forecast covers mid Main ($358,901.17)
    assert "Revenue collected against the forecast" in client.get("/dashboards").text
    client.cookies.set("gw_lang", "es")
    spanish = client.get("/projects").text
    assert "Ingresos recaudados frente al pronóstico" in spanish and "permitido por los ingresos" in spanish
    assert "Ingresos recaudados frente al pronóstico" in client.get("/dashboards").text


def test_staff_enter_a_year_on_the_delivery_page(client, session, two_tiers, staff):
    from tests.conftest import csrf_of, sign_in

    sign_in(client, staff.email)
    token = csrf_of(client, "/staff/delivery")
    refused = client.post("/staff/delivery/revenue", data={"year": str(FIRST), "collected": "lots",
                                                           "csrf_token": token})
    assert refused.status_code == 422 and "must be an amount in dollars" in refused.text
    assert revenue.collections(session=session) == []
    saved = client.post("/staff/delivery/revenue", data={"year": str(FIRST), "collected": "352,600.00",
                                                         "note": "State report", "csrf_token": token})
    assert saved.status_code == 303
    session.expire_all()
    assert [(c.year, c.amount_cents, c.note) for c in revenue.collections(session=session)] == [
        (FIRST, 35_260_000, "State report")]


def test_the_revenue_years_on_projects_and_the_published_lists_cash_flow_are_the_same_years(client, session,
                                                                                          two_tiers):
    """The vote was recorded three years before the program's vote phase ends: both count from the year
    after the vote as recorded."""
    from app.pavement_plan import service as plan

    phase_end = next(p for p in programs.program_view(session=session).phases if p.key == "vote").ends_on
    assert phase_end.year + 1 != FIRST
    cash = plan.ballot_cash_flow(session=session)
    assert cash is not None
    with_revenue = [r.year for r in cash.flow.rows if r.revenue_cents]
    assert with_revenue == list(range(FIRST, FIRST + 5)) == [y.year for y in revenue.revenue_view(
        session=session).years]
    page = client.get("/projects").text
    assert f"{FIRST}" in page and f"{FIRST + 5}</" not in page
