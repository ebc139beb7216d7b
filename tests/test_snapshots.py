"""Proposals remember what they covered: a snapshot of their assets from submission on, a ballot
item's as published, and pages, map, estimate and ballot export that a re-imported layer cannot
change; condition then and now side by side; a proposal that lost every asset stays off the list."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from shapely.geometry import LineString, MultiLineString
from sqlmodel import Session, select

from app import program as programs
from app.layers.store import FeatureRecord, write_layer
from app.proposals import ProposalError, editor, history, states
from app.proposals.editor import ProposalInput
from app.proposals.selection import AssetKey
from app.scenarios import ScenarioError, publish, scenarios
from app.triage import board, review
from models.layers import LayerKind
from models.proposals import Proposal, ProposalState
from models.triage import PublishedItem
from tests.conftest import sign_in
from tests.proposal_city import PCIS, segment_line
from tests.triage_data import build_triage


@pytest.fixture
def t(session: Session, resident, staff):
    """The four triage proposals, feasible, with revenue for three of them (as in test_scenarios)."""
    data = build_triage(session, resident)
    board.bulk_move(session=session, actor=staff, proposal_ids=[p.id for p in data.proposals],
                    to=ProposalState.feasible)
    costs = [session.get(Proposal, p.id).final_cents for p in data.proposals]
    draft = programs.draft_of(programs.program_view(session=session))
    draft.expected_revenue_cents = costs[0] + costs[2] + costs[3]
    draft.program_management_bps = 0
    draft.categories = [programs.CategoryDraft("pavement", "Pavement"),
                        programs.CategoryDraft("sidewalks", "Sidewalks")]
    draft.tiers = [programs.TierDraft(1, "Tier 1", 10_000)]
    draft.phases = programs.demo_draft(start=date.today() - timedelta(days=35)).phases
    programs.save_program(session=session, actor=staff, draft=draft)
    return data


def _reimport_pavement(session: Session, pcis: dict[str, float], survey: date | None = None) -> None:
    """Replace the pavement layer with Main Street's blocks named in ``pcis`` (source id → PCI)."""
    write_layer(session=session, kind=LayerKind.pavement, source="2026 survey", actor=None, records=[
        FeatureRecord(MultiLineString([segment_line(int(source))]),
                      {"street_name": "Main Street", "pci": pci, "width_m": 10.0, "functional_class": "local",
                       "survey_date": survey}, source_id=source) for source, pci in pcis.items()])


def _publish(client, session: Session, staff) -> set[str]:
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Final")
    chosen = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id).optimum.ids
    for proposal_id in {str(p.id) for p in session.exec(select(Proposal))} - chosen:
        review.save_review(session=session, actor=staff, proposal_id=int(proposal_id), expected_version=0,
                           internal_notes="", public_notes="Over the budget this time")
    publish.publish(session=session, settings=client.app.state.settings, actor=staff, scenario_id=scenario.id)
    return set(chosen)


def _public_parts(client, proposal_id: int) -> dict[str, str]:
    """What a resident reads on the project page: its map, cost, estimate and condition."""
    page = client.get(f"/proposals/{proposal_id}")
    assert page.status_code == 200
    text = page.text
    return {
        "map": html.unescape(re.search(r'data-config="([^"]*)"', text).group(1)),
        "cost": re.search(r'data-testid="project-cost">([^<]*)<', text).group(1),
        "condition": re.search(r'id="condition-title".*?</dl>', text, re.S).group(0),
        "estimate": text[text.index('id="cost-title"'):text.index('id="impact-title"')],
        "impact": text[text.index('id="impact-title"'):text.index('id="support"')],
    }


def test_submission_keeps_each_assets_geometry_condition_cost_inputs_and_estimate(session, t):
    proposal = session.get(Proposal, t.proposals[0].id)  # Main Street blocks 0 and 1: PCI 30 and 45
    snapshot = proposal.asset_snapshot
    assert [a["source_key"] for a in snapshot["assets"]] == ["0", "1"]
    first = snapshot["assets"][0]
    assert (first["layer"], first["id"]) == ("pavement", t.city.segments[0])
    assert first["attributes"]["street_name"] == "Main Street"
    assert first["condition"]["pci"] == PCIS[0] and first["condition"]["band"] == "very_poor"
    assert first["cost_inputs"]["functional_class"] == "local" and first["cost_inputs"]["width_m"] == 10.0
    assert first["cost_inputs"]["length_m"] == pytest.approx(185, rel=0.05)
    assert first["geometry"]["type"] == "MultiLineString"
    assert [list(c) for c in first["geometry"]["coordinates"][0]] == [[-83.405, 33.95], [-83.403, 33.95]]
    assert first["estimate"]["treatment_name"] and first["estimate"]["unit"] == "sq_yd"
    construction = sum(a["estimate"]["construction_cents"] for a in snapshot["assets"])
    assert construction == pytest.approx(proposal.estimate["construction_cents"], abs=2)  # each rounded
    assert snapshot["layers"]["pavement"]["source"] == "pavement"


def test_resubmission_after_needs_info_takes_the_snapshot_again(session, resident, staff):
    data = build_triage(session, resident)
    p = data.proposals[2]  # block 3 only
    states.start_review(session=session, proposal_id=p.id, actor=staff)
    states.request_info(session=session, proposal_id=p.id, actor=staff, public_note="Add the next block?")
    p = session.get(Proposal, p.id)
    edited = editor.update_proposal(
        session=session, group_id=data.group.id, proposal_id=p.id, actor=resident, expected_version=p.version,
        data=ProposalInput(title=p.title, category_key="pavement", scheduled_year=2027,
                           assets=[AssetKey("pavement", data.city.segments[2]), AssetKey("pavement",
                                                                                         data.city.segments[3])]))
    states.submit(session=session, group_id=data.group.id, proposal_id=p.id, actor=resident,
                  expected_version=edited.version)
    p = session.get(Proposal, p.id)
    assert p.state == "under_review"
    assert [a["source_key"] for a in p.asset_snapshot["assets"]] == ["2", "3"]
    first_selection = history.revisions(session=session, proposal_id=p.id)[-1].snapshot["assets"]
    assert first_selection == [f"pavement:{data.city.segments[3]}"]  # the earlier selection stays in the history


def test_a_replaced_layer_changes_no_page_map_estimate_or_ballot_export(client, session, t, staff):
    chosen = _publish(client, session, staff)
    on_ballot = [p for p in t.proposals if str(p.id) in chosen and p.title.startswith("Repave")]
    assert on_ballot
    before = {p.id: _public_parts(client, p.id) for p in t.proposals}
    estimates = {p.id: (session.get(Proposal, p.id).estimate, session.get(Proposal, p.id).final_cents)
                 for p in t.proposals}
    geojson = client.get("/map/proposals.geojson").json()
    export = client.get("/ballot/export.json")
    dataset = client.get("/data/ballot-list.csv").text
    items = {i.proposal_id: i.snapshot for i in session.exec(select(PublishedItem))}
    assert set(items) == {int(i) for i in chosen}
    for proposal_id, snapshot in items.items():
        proposal = session.get(Proposal, proposal_id)
        assert snapshot["assets"] == proposal.asset_snapshot
        assert snapshot["proposal"]["final_cents"] == proposal.final_cents

    # another survey that has none of these blocks: every asset the proposals covered is gone
    write_layer(session=session, kind=LayerKind.pavement, source="another city", actor=None, records=[
        FeatureRecord(MultiLineString([LineString([(-83.39, 33.945), (-83.388, 33.945)])]),
                      {"street_name": "Elm Street", "pci": 99.0}, source_id="elm-1")])
    session.expire_all()

    assert {p.id: _public_parts(client, p.id) for p in t.proposals} == before
    assert {p.id: (session.get(Proposal, p.id).estimate, session.get(Proposal, p.id).final_cents)
            for p in t.proposals} == estimates
    assert client.get("/map/proposals.geojson").json() == geojson
    again = client.get("/ballot/export.json")
    assert again.content == export.content and again.headers["x-content-sha256"] == export.headers["x-content-sha256"]
    assert client.get("/data/ballot-list.csv").text == dataset
    assert {i.proposal_id: i.snapshot for i in session.exec(select(PublishedItem))} == items
    page = client.get(f"/proposals/{on_ballot[0].id}").text
    assert "No longer in the current data: Main Street" in page


def test_the_project_page_shows_condition_then_and_now(client, session, t, resident):
    west = t.proposals[0]  # blocks 0 and 1, PCI 30 and 45 when submitted
    _reimport_pavement(session, {"0": PCIS[0], "1": 20.0, "2": PCIS[2], "3": PCIS[3]}, survey=date(2026, 5, 1))
    page = client.get(f"/proposals/{west.id}").text
    assert "PCI 45 (Poor) when submitted → 20 (Serious) in the 2026 survey" in html.unescape(page)
    assert 'data-testid="weighted-pci">37.5<' in page  # the project is judged as submitted
    assert "No longer in the current data" not in page
    sign_in(client, resident.email)
    own = client.get(f"/groups/{t.group.id}/proposals/{west.id}").text
    assert "PCI 45 (Poor) when submitted → 20 (Serious) in the 2026 survey" in html.unescape(own)


def test_a_proposal_that_lost_every_asset_cannot_be_shortlisted_or_published(client, session, t, staff):
    east, mid = t.proposals[2], t.proposals[1]  # block 3; blocks 1 and 2
    _reimport_pavement(session, {"0": PCIS[0], "1": PCIS[1]})  # blocks 2 and 3 are gone
    with pytest.raises(ProposalError, match="lost all its assets"):
        states.shortlist(session=session, proposal_id=east.id, actor=staff)
    assert session.get(Proposal, east.id).state == "feasible"
    assert states.shortlist(session=session, proposal_id=mid.id, actor=staff).state == "shortlisted"  # one remains
    sign_in(client, staff.email)
    refused = client.get(f"/staff/triage/{east.id}").text
    assert 'data-testid="assets-lost"' in refused and "cannot be shortlisted or placed on the ballot" in refused
    assert 'data-testid="assets-lost"' not in client.get(f"/staff/triage/{mid.id}").text
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Final")
    chosen = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id).optimum.ids
    if str(east.id) not in chosen:
        scenarios.set_tier(session=session, actor=staff, scenario_id=scenario.id, proposal_id=east.id, tier=1)
    with pytest.raises(ScenarioError, match=f"lost all their assets.*#{east.id} “Repave east Main”"):
        publish.publish(session=session, settings=client.app.state.settings, actor=staff, scenario_id=scenario.id)
    assert session.get(Proposal, east.id).state == "feasible"
