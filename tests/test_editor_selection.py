"""The editor never loses a selection silently: an area, a line or a street filter that takes
nothing says so and leaves the selection as it was; "along this line" adds unless the member chose
to replace; every answer that changes the selection says what it was before, for Undo."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, select

from app import groups
from app.proposals import editor, workbench
from app.proposals.editor import ProposalInput
from app.proposals.selection import AssetKey
from models.layers import District
from models.proposals import Proposal
from tests.conftest import csrf_of, make_user, sign_in
from tests.proposal_city import add_cross_street, build_city

NOWHERE_LINE = '{"type":"LineString","coordinates":[[-83.409,33.9415],[-83.407,33.9415]]}'  # West Ward, no street
NOWHERE_AREA = '{"type":"Polygon","coordinates":[[[-83.39,33.941],[-83.389,33.941],[-83.389,33.942],[-83.39,33.941]]]}'
MAIN_WEST_LINE = '{"type":"LineString","coordinates":[[-83.4049,33.95003],[-83.4011,33.94998]]}'  # blocks 0 and 1


@pytest.fixture
def city(session: Session):
    built = build_city(session)
    built.oak = add_cross_street(session)
    return built


@pytest.fixture
def draft(session, settings, city):
    owner = make_user(session, settings, "owner@example.org")
    group = groups.create_group(session=session, creator=owner, name="Friends of Main Street")
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=owner,
                                      data=ProposalInput(title="Repave Main Street"))  # saved with no assets
    return owner, proposal


def _six(city) -> str:
    return ",".join([f"pavement:{i}" for i in city.segments] + [f"pavement:{i}" for i in city.oak])


def _preview(client, proposal, **data):
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(client, "/groups")}
    return client.post(f"/groups/{proposal.group_id}/proposals/{proposal.id}/preview", headers=headers,
                       data={"title": "x", "scheduled_year": "2027", **data})


def _field(text: str) -> str | None:
    found = re.search(r'id="assets-field" value="([^"]*)"', text)
    return found.group(1) if found else None


def test_a_line_that_takes_nothing_keeps_a_six_segment_selection(client, session, city, draft):
    owner, proposal = draft
    sign_in(client, owner.email)
    response = _preview(client, proposal, take="along", geometry=NOWHERE_LINE, assets=_six(city))
    assert "No segments lie along this line; your selection is unchanged." in response.text
    assert _field(response.text) is None  # the editor's selection field is left alone
    assert "6 pavement segments" in response.text and "data-selection-before" not in response.text
    for take, data, message in (
            ("inside", {"geometry": NOWHERE_AREA}, "No segments lie inside this area; your selection is unchanged."),
            ("street", {"street": "Elm Street"}, "No pavement segments on “Elm Street”; your selection is unchanged."),
            ("along", {"geometry": MAIN_WEST_LINE, "take_mode": "sideways"},
             "Choose whether to add the segments to the selection or replace it.")):
        response = _preview(client, proposal, take=take, assets=_six(city), **data)
        assert html.unescape(response.text).count(message) == 1, take
        assert _field(response.text) is None and "6 pavement segments" in response.text
    session.refresh(proposal)
    assert proposal.version == 1


def test_along_a_line_adds_by_default_and_replaces_only_when_chosen(client, session, city, draft):
    owner, proposal = draft
    sign_in(client, owner.email)
    before = f"pavement:{city.segments[3]},pavement:{city.oak[0]}"
    response = _preview(client, proposal, take="along", geometry=MAIN_WEST_LINE, assets=before)
    assert "Added 2 segments along the line." in response.text
    assert _field(response.text) == f"{before},pavement:{city.segments[0]},pavement:{city.segments[1]}"
    assert f'data-selection-before="{before}"' in response.text  # what Undo goes back to
    response = _preview(client, proposal, take="along", geometry=MAIN_WEST_LINE, assets=before, take_mode="replace")
    assert "Replaced the selection with 2 segments along the line." in response.text
    assert _field(response.text) == f"pavement:{city.segments[0]},pavement:{city.segments[1]}"
    assert f'data-selection-before="{before}"' in response.text
    both = f"pavement:{city.segments[0]},pavement:{city.segments[1]}"
    response = _preview(client, proposal, take="along", geometry=MAIN_WEST_LINE, assets=both)
    assert "The 2 segments it takes are already selected; your selection is unchanged." in response.text
    assert _field(response.text) is None


def test_a_form_error_shows_the_selection_as_sent_not_the_saved_one(client, session, city, draft):
    owner, proposal = draft
    sign_in(client, owner.email)
    response = _preview(client, proposal, take="along", geometry=MAIN_WEST_LINE, assets=_six(city),
                        scheduled_year="next year")
    assert "The year must be a number such as 2027." in response.text
    assert _field(response.text) is None and "6 pavement segments" in response.text


def test_assets_gone_from_the_layer_are_dropped_with_a_message(session, city, draft):
    _owner, proposal = draft
    data = ProposalInput(title="x", assets=[AssetKey("pavement", city.segments[0]), AssetKey("pavement", 999_999)])
    bench = workbench.build(session=session, proposal=proposal, data=data)
    assert bench.error == "These assets do not exist (any more): pavement 999999."
    assert bench.keys == [AssetKey("pavement", city.segments[0])] and bench.changed


def test_saving_after_a_stray_line_keeps_the_district_of_the_segments(client, session, city, draft):
    owner, proposal = draft
    sign_in(client, owner.email)
    east = f"pavement:{city.segments[3]}"  # Main Street's last block: West Ward as well, so draw in the East
    stray_east = '{"type":"LineString","coordinates":[[-83.39,33.9415],[-83.385,33.9415]]}'
    path = f"/groups/{proposal.group_id}/proposals/{proposal.id}"
    response = client.post(path, data={"csrf_token": csrf_of(client, "/groups"), "version": "1", "title": "x",
                                       "assets": east, "geometry": stray_east})
    assert response.status_code == 303
    session.refresh(proposal)
    wards = {d.name: d.id for d in session.exec(select(District))}
    assert proposal.district_id == wards["West Ward"]  # where the segment is, not the East of the line
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", client.get(path).text))
    assert "District: West Ward: 100%" in page
    assert session.get(Proposal, proposal.id).geom is not None  # the drawing itself is kept
