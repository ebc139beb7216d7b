"""Groups and proposals through the pages and the JSON API, as a group member would use them."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from app import groups
from app.proposals import editor
from app.proposals.editor import ProposalInput
from app.proposals.selection import AssetKey
from models.accounts import GroupMembership
from models.proposals import Proposal, ProposalTransition
from tests.conftest import csrf_of, make_user, sign_in
from tests.proposal_city import add_cross_street, build_city


@pytest.fixture
def city(session: Session):
    return build_city(session)


def _group_with_draft(session, settings, city, email="owner@example.org"):
    owner = make_user(session, settings, email)
    group = groups.create_group(session=session, creator=owner, name=f"Group of {email}")
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
        title="Repave Main Street", category_key="pavement", scheduled_year=2027,
        assets=[AssetKey("pavement", city.segments[0])]))
    return owner, group, proposal


def _form(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_of(client, "/groups")})


def test_create_a_group_invite_join_and_leave(client, session, settings, resident):
    sign_in(client, resident.email)
    response = _form(client, "/groups", {"name": "Friends of Main Street", "description": "Fix our street"})
    assert response.status_code == 303
    group_path = response.headers["location"]
    page = client.get(group_path)
    assert "Friends of Main Street" in page.text and "owner" in page.text
    invited = _form(client, f"{group_path}/invites", {"email": ""})
    link = re.search(r'value="(http://testserver/groups/join/[^"]+)"', invited.text).group(1)
    token = link.rsplit("/", 1)[1]
    # the only owner cannot leave
    refused = _form(client, f"{group_path}/leave", {})
    assert refused.status_code == 400 and "only owner" in refused.text
    newcomer = make_user(session, settings, "newcomer@example.org")
    client.cookies.clear()
    sign_in(client, newcomer.email)
    assert "You are invited to join" in client.get(f"/groups/join/{token}").text
    joined = _form(client, f"/groups/join/{token}", {})
    assert joined.status_code == 303 and client.get(group_path).status_code == 200
    again = _form(client, f"/groups/join/{token}", {})
    assert again.status_code == 400 and "already used" in again.text
    assert _form(client, f"{group_path}/leave", {}).status_code == 303
    assert client.get(group_path).status_code == 404


def test_an_expired_invitation_is_refused(client, session, settings, resident):
    group = groups.create_group(session=session, creator=resident, name="G")
    created = groups.invite(session=session, settings=settings.model_copy(
        update={"groups": settings.groups.model_copy(update={"invite_ttl_s": -1})}), group_id=group.id, actor=resident)
    sign_in(client, make_user(session, settings, "late@example.org").email)
    page = client.get(f"/groups/join/{created.link.rsplit('/', 1)[1]}")
    assert page.status_code == 404 and "expired" in page.text


def test_another_groups_member_gets_404_not_403(client, session, settings, city):
    _, group, proposal = _group_with_draft(session, settings, city)
    stranger = make_user(session, settings, "stranger@example.org")
    groups.create_group(session=session, creator=stranger, name="Other group")
    sign_in(client, stranger.email)
    for path in (f"/groups/{group.id}", f"/groups/{group.id}/list", f"/groups/{group.id}/proposals/{proposal.id}",
                 f"/api/v1/groups/{group.id}/proposals/{proposal.id}", f"/api/v1/groups/{group.id}/list"):
        assert client.get(path, headers={"accept": "text/html"}).status_code == 404, path
    token = csrf_of(client, "/groups")
    response = client.post(f"/groups/{group.id}/proposals/{proposal.id}",
                           data={"csrf_token": token, "version": "1", "title": "Hijacked"})
    assert response.status_code == 404
    assert session.get(Proposal, proposal.id).title == "Repave Main Street"


def test_html_in_text_is_shown_inert(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    sign_in(client, owner.email)
    script = "<script>alert('x')</script><b>bold</b>"
    response = _form(client, f"/groups/{group.id}/proposals/{proposal.id}",
                     {"version": "1", "title": script, "description": script, "category_key": "pavement",
                      "scheduled_year": "2027", "assets": f"pavement:{city.segments[0]}"})
    assert response.status_code == 303
    assert session.get(Proposal, proposal.id).title == script  # stored raw
    for path in (f"/groups/{group.id}/proposals/{proposal.id}", f"/groups/{group.id}/list"):
        page = client.get(path).text
        assert "<script>alert" not in page and "&lt;script&gt;alert(" in page


def test_two_members_editing_the_second_sees_who_changed_it_and_keeps_their_text(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    editor.update_proposal(session=session, group_id=group.id, proposal_id=proposal.id, actor=owner,
                           expected_version=1, data=ProposalInput(title="Owner's title", category_key="pavement"))
    other = make_user(session, settings, "second@example.org")
    session.add(GroupMembership(group_id=group.id, user_id=other.id))
    session.commit()
    sign_in(client, other.email)
    response = _form(client, f"/groups/{group.id}/proposals/{proposal.id}",
                     {"version": "1", "title": "Second member's careful title", "description": "Long text I typed"})
    assert response.status_code == 409
    assert "Owner changed this proposal" in response.text and "not saved" in response.text
    assert "Second member&#39;s careful title" in response.text and "Long text I typed" in response.text
    assert session.get(Proposal, proposal.id).title == "Owner's title"


def test_bad_input_in_the_editor_changes_nothing(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    sign_in(client, owner.email)
    path = f"/groups/{group.id}/proposals/{proposal.id}"
    cases = [
        ({"geometry": '{"type": "Point", "coordinates": [2.35, 48.85]}'}, "outside the city"),
        ({"geometry": '{"type": "MultiPoint", "coordinates": [[-83.40, 33.95]]}'}, "point, a line or a polygon"),
        ({"override_amount": "-5", "override_reason": "x"}, "must not be negative"),
        ({"override_amount": "99999999999", "override_reason": "x"}, "larger than any one project"),
        ({"scheduled_year": "1200"}, "Schedule the work between"),
    ]
    for changes, message in cases:
        response = _form(client, path, {"version": "1", "title": "Changed", **changes})
        assert response.status_code == 400 and message in response.text, (changes, response.text[:200])
    stored = session.get(Proposal, proposal.id)
    session.refresh(stored)
    assert stored.title == "Repave Main Street" and stored.version == 1


def test_preview_adds_street_segments_and_refuses_an_empty_area(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    sign_in(client, owner.email)
    path = f"/groups/{group.id}/proposals/{proposal.id}/preview"
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(client, "/groups")}
    response = client.post(path, headers=headers, data={"title": "x", "scheduled_year": "2027", "take": "street",
                                                        "street": "Main Street", "pci_below": "50"})
    assert "Added 2 segments on Main Street" in response.text and 'hx-swap-oob="true"' in response.text
    assert f"pavement:{city.segments[1]}" in response.text and "Estimate" in response.text
    empty = '{"type":"Polygon","coordinates":[[[-83.39,33.941],[-83.389,33.941],[-83.389,33.942],[-83.39,33.941]]]}'
    response = client.post(path, headers=headers, data={"title": "x", "take": "inside", "geometry": empty})
    assert "No segments lie inside this area; your selection is unchanged." in response.text
    session.refresh(proposal)
    assert proposal.version == 1


def test_preview_adds_the_segments_along_a_drawn_line_and_refuses_no_line(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    oak = add_cross_street(session)
    sign_in(client, owner.email)
    path = f"/groups/{group.id}/proposals/{proposal.id}/preview"
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(client, "/groups")}
    line = '{"type":"LineString","coordinates":[[-83.4049,33.95003],[-83.4011,33.94998]]}'
    response = client.post(path, headers=headers, data={"title": "x", "scheduled_year": "2027", "take": "along",
                                                        "geometry": line, "assets": f"pavement:{city.segments[3]}"})
    assert "Added 2 segments along the line." in response.text
    assets = re.search(r'id="assets-field" value="([^"]*)"', response.text).group(1).split(",")
    assert assets == [f"pavement:{city.segments[i]}" for i in (3, 0, 1)]
    assert not {f"pavement:{i}" for i in oak} & set(assets)
    response = client.post(path, headers=headers, data={"title": "x", "take": "along"})
    assert "Draw a line first, then take the segments along it." in response.text
    session.refresh(proposal)
    assert proposal.version == 1


def test_a_selected_asset_is_removed_with_its_button(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    sign_in(client, owner.email)
    path = f"/groups/{group.id}/proposals/{proposal.id}"
    page = client.get(path).text
    assert page.count('data-remove="') == 1 and "Remove<span class=\"visually-hidden\"> Main Street, pavement" in page
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(client, "/groups")}
    both = f"pavement:{city.segments[0]},pavement:{city.segments[2]}"
    response = client.post(f"{path}/preview", headers=headers, data={"title": "x", "assets": both})
    assert "2 pavement segments" in response.text and response.text.count('data-remove="') == 2
    # what the button posts (static/js/proposal-editor.js): the form's fields and remove=its data-remove
    key = re.findall(r'data-remove="([^"]*)"', response.text)[1]
    response = client.post(f"{path}/preview", headers=headers, data={"title": "x", "assets": both, "remove": key})
    assert f"Removed pavement {city.segments[2]}." in response.text and "1 pavement segment" in response.text
    assert re.search(r'id="assets-field" value="([^"]*)"', response.text).group(1) == f"pavement:{city.segments[0]}"
    session.refresh(proposal)
    assert proposal.version == 1


def test_submit_twice_is_harmless_and_editing_after_is_refused(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    sign_in(client, owner.email)
    path = f"/groups/{group.id}/proposals/{proposal.id}"
    first = _form(client, f"{path}/submit", {"version": "1"})
    second = _form(client, f"{path}/submit", {"version": "1"})
    assert first.status_code == second.status_code == 303
    assert len(session.exec(select(ProposalTransition)).all()) == 1
    page = client.get(path).text
    assert "already submitted; nothing changed" in page and "read-only" in page
    refused = _form(client, path, {"version": "2", "title": "Late change"})
    assert refused.status_code == 400 and "can no longer be edited" in refused.text


def test_list_reorders_with_htmx_and_shares_read_only(client, session, settings, city):
    owner, group, first = _group_with_draft(session, settings, city)
    second = editor.create_proposal(session=session, group_id=group.id, actor=owner,
                                    data=ProposalInput(title="Fix the light"))
    sign_in(client, owner.email)
    response = client.post(f"/groups/{group.id}/list/move", headers={"HX-Request": "true",
                                                                      "X-CSRF-Token": csrf_of(client, "/groups")},
                           data={"proposal_id": str(second.id), "direction": "up"})
    assert response.status_code == 200 and 'id="group-list"' in response.text
    assert response.text.index("Fix the light") < response.text.index("Repave Main Street")
    assert "<meter" in response.text and "program budget" in response.text
    _form(client, f"/groups/{group.id}/list/share", {})
    link = re.search(r"/lists/([A-Za-z0-9_-]{20,})", client.get(f"/groups/{group.id}/list").text).group(0)
    client.cookies.clear()
    shared = client.get(link)
    assert shared.status_code == 200 and "Fix the light" in shared.text and "list/move" not in shared.text
    assert client.get("/lists/not-a-token").status_code == 404


def test_api_crud_with_409_on_a_stale_version(client, session, settings, city, resident):
    sign_in(client, resident.email)
    headers = {"X-CSRF-Token": csrf_of(client, "/groups")}
    group = client.post("/api/v1/groups", json={"name": "API group"}, headers=headers).json()
    body = {"title": "Repave", "category_key": "pavement", "scheduled_year": 2027,
            "assets": [f"pavement:{city.segments[0]}", f"pavement:{city.segments[1]}"]}
    created = client.post(f"/api/v1/groups/{group['id']}/proposals", json=body, headers=headers)
    assert created.status_code == 201, created.text
    proposal = created.json()
    assert proposal["estimate_total_cents"] > 0 and proposal["version"] == 1 and len(proposal["assets"]) == 2
    url = f"/api/v1/groups/{group['id']}/proposals/{proposal['id']}"
    assert client.put(url, json={**body, "title": "First", "version": 1}, headers=headers).json()["version"] == 2
    stale = client.put(url, json={**body, "title": "Second", "version": 1}, headers=headers)
    assert stale.status_code == 409 and "changed this proposal" in stale.json()["detail"]
    estimate = client.get(f"{url}/estimate").json()
    assert estimate["breakdown"]["lines"] and estimate["total_cents"] == proposal["estimate_total_cents"]
    listed = client.get(f"/api/v1/groups/{group['id']}/list").json()
    assert listed["used_cents"] == proposal["estimate_total_cents"]
    bad = client.post(f"/api/v1/groups/{group['id']}/proposals", headers=headers,
                      json={**body, "geometry": {"type": "Point", "coordinates": [2.35, 48.85]}})
    assert bad.status_code == 422 and "outside the city" in bad.json()["detail"]
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"ProposalOut", "ProposalUpdate", "ListOut", "EstimateOut", "GroupOut"} <= set(schemas)
