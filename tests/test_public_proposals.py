"""The public proposal pages: drafts never public, internal notes never shown, filters, the
project page's numbers, supports once per person (the database decides) and hidden comments."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import participation
from app.proposals import editor, states
from app.proposals.editor import ProposalInput
from app.proposals.selection import AssetKey
from models.accounts import Role
from models.audit import AuditEvent
from models.participation import ProposalSupport
from tests.conftest import make_user, post_form, sign_in
from tests.triage_data import build_triage


@pytest.fixture
def t(session: Session, resident):
    return build_triage(session, resident)


def _draft(session, t):
    return editor.create_proposal(session=session, group_id=t.group.id, actor=t.member, data=ProposalInput(
        title="Secret draft", category_key="pavement", scheduled_year=2027,
        assets=[AssetKey("pavement", t.city.segments[0])]))


def test_drafts_are_never_public(client, session, t):
    draft = _draft(session, t)
    page = client.get("/proposals")
    assert page.status_code == 200
    assert "Repave west Main" in page.text and "Secret draft" not in page.text
    assert client.get(f"/proposals/{draft.id}").status_code == 404
    assert client.get("/proposals/999999").status_code == 404
    geo = client.get("/map/proposals.geojson").json()
    titles = {f["properties"]["title"] for f in geo["features"]}
    assert "Secret draft" not in titles and "Repave west Main" in titles


def test_internal_reasons_never_shown_public_notes_are(client, session, t, staff):
    p = t.proposals[2]
    states.start_review(session=session, proposal_id=p.id, actor=staff)
    states.mark_not_feasible(session=session, proposal_id=p.id, actor=staff, reason="INTERNAL: councillor asked",
                             public_note="The street is being rebuilt by the state next year.")
    page = client.get(f"/proposals/{p.id}")
    assert page.status_code == 200
    assert "The street is being rebuilt by the state next year." in page.text
    assert "INTERNAL" not in page.text and "councillor" not in page.text
    assert "City staff" in page.text and staff.display_name not in page.text
    assert "Not feasible" in page.text


def test_filters_sort_and_paging(client, session, t):
    sidewalks = client.get("/proposals?category=sidewalks")
    assert "Close the sidewalk gap" in sidewalks.text and "Repave west Main" not in sidewalks.text
    assert "1 proposal," in sidewalks.text
    west = client.get(f"/proposals?district={t.proposals[0].district_id}").text
    assert "Repave west Main" in west
    assert client.get("/proposals?status=on_ballot").text.count('class="proposal-card"') == 0
    assert client.get("/proposals?status=draft").status_code == 400
    assert client.get("/proposals?category=nope").status_code == 400
    by_title = client.get("/proposals?sort=title").text
    assert by_title.index("Close the sidewalk gap") < by_title.index("Repave east Main") < by_title.index(
        "Repave west Main")
    from app.proposals import public
    paged = public.public_list(session=session, per_page=3, page=2)
    assert paged.total == 4 and paged.pages == 2 and len(paged.rows) == 1


def test_project_page_numbers(client, session, t):
    p = t.proposals[0]  # segments 0 and 1: PCI 30 and 45, equal lengths
    page = client.get(f"/proposals/{p.id}").text
    assert 'data-testid="weighted-pci">37.5<' in page
    assert 'data-testid="poor-share">100%<' in page or 'data-testid="poor-share">50%<' in page
    from app.i18n import money
    assert money(p.final_cents) in page
    assert "Friends of Main Street" in page
    assert "Expected impact" in page and 'data-testid="impact-pci"' in page


def test_geojson_bbox_and_colours(client, t):
    inside = client.get("/map/proposals.geojson?bbox=-83.41,33.94,-83.38,33.96")
    assert inside.headers["content-type"].startswith("application/geo+json")
    assert "max-age" in inside.headers["cache-control"]
    features = inside.json()["features"]
    assert len(features) == 4 and all(f["properties"]["colour"].startswith("#") for f in features)
    assert {f["properties"]["category_name"] for f in features} >= {"Pavement & bridges", "Sidewalks & trails"}
    assert client.get("/map/proposals.geojson?bbox=10,10,11,11").json()["features"] == []
    assert client.get("/map/proposals.geojson?bbox=oops").status_code == 400


def test_support_counts_once_per_person(client, session, settings, t):
    p = t.proposals[0]
    voter = make_user(session, settings, "voter@example.org")
    sign_in(client, voter.email)
    for _ in range(2):  # a double click
        assert post_form(client, f"/proposals/{p.id}/support", {}, page=f"/proposals/{p.id}").status_code == 303
    assert participation.support_count(session=session, proposal_id=p.id) == 1
    assert participation.support_counts(session=session, proposal_ids=[p.id, t.proposals[1].id]) == {
        p.id: 1, t.proposals[1].id: 0}
    assert "1 resident supports this" in client.get(f"/proposals/{p.id}").text
    with pytest.raises(IntegrityError), session.begin_nested():  # the database itself refuses a second row
        session.add(ProposalSupport(proposal_id=p.id, user_id=voter.id))
        session.flush()
    assert participation.support_count(session=session, proposal_id=p.id) == 1


def test_signed_out_cannot_support_and_drafts_cannot_be_supported(client, session, settings, t):
    p = t.proposals[0]
    response = post_form(client, f"/proposals/{p.id}/support", {}, page=f"/proposals/{p.id}")
    assert response.status_code in (303, 401)
    assert participation.support_count(session=session, proposal_id=p.id) == 0
    voter = make_user(session, settings, "voter2@example.org")
    sign_in(client, voter.email)
    draft = _draft(session, t)
    assert post_form(client, f"/proposals/{draft.id}/support", {}, page="/proposals").status_code == 404


def test_comment_then_staff_hides_it_with_a_public_reason(client, session, settings, t):
    p = t.proposals[1]
    writer = make_user(session, settings, "writer@example.org")
    sign_in(client, writer.email)
    post_form(client, f"/proposals/{p.id}/comments", {"body": "Buy my product at spam.example"},
              page=f"/proposals/{p.id}")
    assert "Buy my product" in client.get(f"/proposals/{p.id}").text
    comment = participation.comments(session=session, proposal_id=p.id)[0]
    # a resident cannot hide
    refused = post_form(client, f"/proposals/{p.id}/comments/{comment.id}/hide", {"reason": "x"},
                        page=f"/proposals/{p.id}")
    assert refused.status_code == 403
    officer = make_user(session, settings, "officer@city.gov", Role.staff)
    client.cookies.clear()
    sign_in(client, officer.email)
    empty = post_form(client, f"/proposals/{p.id}/comments/{comment.id}/hide", {"reason": " "},
                      page=f"/proposals/{p.id}")
    assert empty.status_code == 303
    assert participation.comments(session=session, proposal_id=p.id)[0].body is not None
    post_form(client, f"/proposals/{p.id}/comments/{comment.id}/hide", {"reason": "Advertising"},
              page=f"/proposals/{p.id}")
    page = client.get(f"/proposals/{p.id}").text
    assert "Hidden by staff: Advertising" in page and "Buy my product" not in page
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "comment.hide")).one()
    assert event.actor_id == officer.id


def test_proposals_open_dataset_has_no_drafts(client, session, t):
    _draft(session, t)
    csv = client.get("/data/proposals.csv")
    assert csv.status_code == 200
    assert "Repave west Main" in csv.text and "Secret draft" not in csv.text
    assert "Proposals" in client.get("/data").text


def test_map_proposals_filter_by_category_status_and_district(client, session, t):
    def titles(query: str) -> set[str]:
        return {f["properties"]["title"] for f in client.get("/map/proposals.geojson" + query).json()["features"]}
    assert titles("?category=sidewalks") == {"Close the sidewalk gap"}
    assert titles("?status=on_ballot") == set()
    assert len(titles(f"?district={t.proposals[0].district_id}")) == 4
    panel = client.get("/map/proposals-panel").text
    assert 'id="pf-category"' in panel and "Sidewalks &amp; trails" in panel and 'for="pf-status"' in panel


def test_withdrawing_support_and_a_drawn_location_on_the_map(client, session, settings, t):
    p = t.proposals[0]
    voter = make_user(session, settings, "changed-mind@example.org")
    assert participation.support(session=session, proposal_id=p.id, user=voter) is True
    assert participation.support(session=session, proposal_id=p.id, user=voter) is False
    participation.withdraw_support(session=session, proposal_id=p.id, user=voter)
    assert participation.support_count(session=session, proposal_id=p.id) == 0
    drawn = editor.create_proposal(session=session, group_id=t.group.id, actor=t.member, data=ProposalInput(
        title="A drawn plaza", category_key="corridors", scheduled_year=2027, override_cents=50_000_000,
        override_reason="Our own quote",
        geometry='{"type": "Polygon", "coordinates": [[[-83.404, 33.949], [-83.402, 33.949], [-83.402, 33.951], '
                 '[-83.404, 33.951], [-83.404, 33.949]]]}'))
    states.submit(session=session, group_id=t.group.id, proposal_id=drawn.id, actor=t.member,
                  expected_version=drawn.version)
    feature = next(f for f in client.get("/map/proposals.geojson").json()["features"]
                   if f["properties"]["title"] == "A drawn plaza")
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert feature["properties"]["category"] == "corridors"
    page = client.get(f"/proposals/{drawn.id}").text
    assert "Our own quote" in page and "$500,000" in page
