"""A published list is shown against the program's figures as published (expected revenue,
collection years, program-management share, tiers): editing the program afterwards changes
nothing residents see of it; the next version (an amendment) is published with the new figures."""

from __future__ import annotations

import json

from app import program as programs
from app.delivery import revenue
from app.i18n import money
from app.scenarios import amend, publish
from app.scenarios.amend import Line
from tests.ballot_data import publish_ballot


def _revenue_shown(client) -> int:
    cash = client.get("/api/v1/network/cashflow")
    assert cash.status_code == 200
    return sum(row["revenue_cents"] for row in cash.json()["rows"])


def _edit_program(session, staff, *, revenue_cents: int, management_bps: int, years: int) -> None:
    draft = programs.draft_of(programs.program_view(session=session))
    draft.expected_revenue_cents, draft.program_management_bps = revenue_cents, management_bps
    draft.collection_years = years
    programs.save_program(session=session, actor=staff, draft=draft)


def test_the_published_list_keeps_its_figures_when_the_program_changes_until_the_next_version(
        client, session, settings, resident, staff):
    ballot = publish_ballot(session, settings, resident, staff)
    published_revenue = programs.get_program(session=session).expected_revenue_cents
    published_years = programs.get_program(session=session).collection_years
    assert json.loads(ballot.published.export)["budget"]["expected_revenue_cents"] == published_revenue
    assert _revenue_shown(client) == published_revenue

    _edit_program(session, staff, revenue_cents=published_revenue * 2, management_bps=300, years=published_years + 1)
    assert _revenue_shown(client) == published_revenue  # the public API
    cash = client.get("/api/v1/network/cashflow").json()
    assert len([r for r in cash["rows"] if r["revenue_cents"]]) == published_years
    view = revenue.revenue_view(session=session)  # /projects and the dashboards
    assert (view.forecast_cents, view.management_bps, len(view.years)) == (published_revenue, 0, published_years)
    assert publish.latest(session=session).version == 1

    items = publish.items_of(session=session, published_id=ballot.published.id or 0)
    lines = [Line(i.proposal_id, i.tier, i.cost_cents - (100 if k == 0 else 0)) for k, i in enumerate(items)]
    second = amend.amend(session=session, settings=settings, actor=staff, base_version=1, lines=lines,
                         reason="A lower bid for the first project")
    assert second.version == 2
    assert _revenue_shown(client) == published_revenue * 2
    view = revenue.revenue_view(session=session)
    assert (view.forecast_cents, view.management_bps, len(view.years)) == (published_revenue * 2, 300,
                                                                            published_years + 1)
    first = client.get("/ballot/v/1/export.json").json()
    assert first["budget"]["expected_revenue_cents"] == published_revenue  # version 1 stays as published
    page = client.get("/ballot").text  # residents are told the figures changed with the version, not only the bid
    assert f"Expected revenue: {money(published_revenue)} → {money(published_revenue * 2)}" in page
    assert f"Years of collection: {published_years} → {published_years + 1}" in page
    assert "Program management share: 0.0% → 3.0%" in page
