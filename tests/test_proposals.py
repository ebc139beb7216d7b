"""Proposals as a group drafts them: selection, validation, pricing, locking, history, states, list."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from app import groups
from app.proposals import ProposalError, ProposalNotFound, VersionConflict, editor, history, lists, states
from app.proposals.editor import ProposalInput
from app.proposals.selection import (
    AssetKey,
    assets_along,
    assets_inside,
    condition_summary,
    parse_asset_keys,
    parse_geometry,
    segments_on_street,
)
from models.layers import District
from models.program import Category
from models.proposals import Proposal, ProposalRevision, ProposalState, ProposalTransition
from tests.conftest import make_user
from tests.proposal_city import add_cross_street, build_city


@pytest.fixture
def city(session: Session):
    return build_city(session)


@pytest.fixture
def group(session: Session, settings, resident):
    return groups.create_group(session=session, creator=resident, name="Friends of Main Street")


def _input(city, **changes) -> ProposalInput:
    values = {"title": "Repave Main Street", "category_key": "pavement", "scheduled_year": 2027,
              "assets": [AssetKey("pavement", city.segments[0]), AssetKey("pavement", city.segments[1])]}
    values.update(changes)
    return ProposalInput(**values)


def test_a_draft_is_priced_from_its_segments_and_finds_its_district(session, city, group, resident):
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(city))
    assert proposal.state == "draft" and proposal.version == 1
    assert proposal.estimate_total_cents and proposal.estimate_total_cents > 0
    assert proposal.estimate_low_cents < proposal.estimate_total_cents < proposal.estimate_high_cents
    assert proposal.estimate["catalog_version_id"] == proposal.estimate_catalog_version_id
    assert sum(line["subtotal_cents"] for line in proposal.estimate["lines"]) == proposal.estimate["construction_cents"]
    west = session.exec(select(District).where(District.name == "West Ward")).one()
    assert proposal.district_id == west.id


def test_condition_summary_is_length_weighted(session, city):
    keys = [AssetKey("pavement", i) for i in city.segments] + [AssetKey("sidewalk", city.sidewalk),
                                                              AssetKey("streetlight", city.light)]
    summary = condition_summary(session=session, keys=keys)
    assert summary.weighted_pci == pytest.approx(sum((30, 45, 72, 90)) / 4, abs=0.1)  # equal lengths
    assert summary.share_poor_or_worse == pytest.approx(0.5, abs=0.01)  # PCI 30 and 45 are below 55
    assert summary.lights_out == 1 and summary.sidewalk_gap_length_m > 150


def test_selection_by_area_and_by_street_filter(session, city):
    ring = [[-83.4055, 33.949], [-83.4005, 33.949], [-83.4005, 33.951], [-83.4055, 33.951], [-83.4055, 33.949]]
    area = json.dumps({"type": "Polygon", "coordinates": [ring]})
    inside = assets_inside(session=session, area=parse_geometry(area))
    assert inside == [AssetKey("pavement", city.segments[0]), AssetKey("pavement", city.segments[1])]
    poor = segments_on_street(session=session, street="main street", pci_below=50)
    assert poor == [AssetKey("pavement", city.segments[0]), AssetKey("pavement", city.segments[1])]
    with pytest.raises(ProposalError, match="No pavement segments"):
        segments_on_street(session=session, street="Elm Street", pci_below=None)
    empty = json.dumps({"type": "Polygon", "coordinates": [[[-83.39, 33.941], [-83.389, 33.941], [-83.389, 33.942],
                                                            [-83.39, 33.941]]]})
    with pytest.raises(ProposalError, match="No segments lie inside this area; your selection is unchanged"):
        assets_inside(session=session, area=parse_geometry(empty))


def test_selection_along_a_line_takes_main_street_and_not_the_cross_street(session, city):
    oak = add_cross_street(session)
    # drawn a few metres north of Main Street's first two blocks, ending at Oak Street
    line = parse_geometry(json.dumps({"type": "LineString", "coordinates": [[-83.405, 33.95005], [-83.401, 33.95004]]}))
    along = assets_along(session=session, line=line)
    assert along == [AssetKey("pavement", city.segments[0]), AssetKey("pavement", city.segments[1])]
    assert not {AssetKey("pavement", i) for i in oak} & set(along)
    # 30 m off the street is not along it; an area is not a line
    away = parse_geometry(json.dumps({"type": "LineString", "coordinates": [[-83.405, 33.9503], [-83.401, 33.9503]]}))
    with pytest.raises(ProposalError, match="No segments lie along this line; your selection is unchanged"):
        assets_along(session=session, line=away)
    ring = [[-83.4055, 33.949], [-83.4005, 33.949], [-83.4005, 33.951], [-83.4055, 33.949]]
    with pytest.raises(ProposalError, match="Draw a line first"):
        assets_along(session=session, line=parse_geometry(json.dumps({"type": "Polygon", "coordinates": [ring]})))
    # along Oak Street instead: its two segments, not Main Street's
    north_south = parse_geometry(json.dumps({"type": "LineString",
                                             "coordinates": [[-83.401, 33.9509], [-83.401, 33.9491]]}))
    assert assets_along(session=session, line=north_south) == [AssetKey("pavement", i) for i in sorted(oak)]


@pytest.mark.parametrize(("geometry", "message"), [
    ({"type": "LineString", "coordinates": [[2.35, 48.85], [2.36, 48.86]]}, "outside the city"),
    ({"type": "MultiPoint", "coordinates": [[-83.40, 33.95], [-83.401, 33.95]]}, "point, a line or a polygon"),
    ({"type": "GeometryCollection", "geometries": []}, "point, a line or a polygon"),
    ("not json", "not valid GeoJSON"),
])
def test_a_bad_location_is_refused_and_nothing_is_written(session, city, group, resident, geometry, message):
    data = _input(city, geometry=json.dumps(geometry) if isinstance(geometry, dict) else geometry)
    with pytest.raises(ProposalError, match=message):
        editor.create_proposal(session=session, group_id=group.id, actor=resident, data=data)
    assert session.exec(select(Proposal)).all() == []


@pytest.mark.parametrize(("amount", "reason", "message"), [
    (-100, "cheaper", "more than \\$0"), (10**14, "gold", "larger than any"), (500_00, "", "reason"),
])
def test_a_negative_or_absurd_override_is_refused(session, city, group, resident, amount, reason, message):
    with pytest.raises(ProposalError, match=message):
        editor.create_proposal(session=session, group_id=group.id, actor=resident,
                               data=_input(city, override_cents=amount, override_reason=reason))
    assert session.exec(select(Proposal)).all() == []


def test_unknown_assets_and_categories_are_refused(session, city, group, resident):
    with pytest.raises(ProposalError, match="do not exist"):
        editor.create_proposal(session=session, group_id=group.id, actor=resident,
                               data=_input(city, assets=[AssetKey("pavement", 999_999)]))
    with pytest.raises(ProposalError, match="not a category"):
        editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(city, category_key="x"))
    with pytest.raises(ProposalError, match="not an asset"):
        parse_asset_keys("district:1")


def test_two_members_editing_the_second_gets_a_conflict_and_nothing_is_lost(session, settings, city, group, resident):
    other = make_user(session, settings, "second@example.org")
    session.add_all([])
    invite = groups.invite(session=session, settings=settings, group_id=group.id, actor=resident)
    groups.accept_invite(session=session, token=invite.link.rsplit("/", 1)[1], user=other)
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(city))
    editor.update_proposal(session=session, group_id=group.id, proposal_id=proposal.id, actor=resident,
                           expected_version=1, data=_input(city, title="Repave Main Street (first)"))
    with pytest.raises(VersionConflict, match="Resident changed this proposal") as caught:
        editor.update_proposal(session=session, group_id=group.id, proposal_id=proposal.id, actor=other,
                               expected_version=1, data=_input(city, title="Second's title"))
    assert caught.value.current_version == 2
    session.refresh(proposal)
    assert proposal.title == "Repave Main Street (first)" and proposal.version == 2
    saved = editor.update_proposal(session=session, group_id=group.id, proposal_id=proposal.id, actor=other,
                                   expected_version=2, data=_input(city, title="Second's title"))
    assert saved.version == 3
    revisions = history.revisions(session=session, proposal_id=proposal.id)
    assert [r.version for r in revisions] == [3, 2, 1]
    assert revisions[0].actor == "Second" and "title" in revisions[0].changed
    assert revisions[1].snapshot["title"] == "Repave Main Street (first)"


def test_another_groups_member_cannot_reach_a_draft(session, settings, city, group, resident):
    stranger = make_user(session, settings, "stranger@example.org")
    groups.create_group(session=session, creator=stranger, name="Other group")
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(city))
    with pytest.raises(ProposalNotFound):
        editor.get_for_member(session=session, group_id=group.id, proposal_id=proposal.id, viewer=stranger)
    with pytest.raises(ProposalNotFound):
        editor.update_proposal(session=session, group_id=group.id, proposal_id=proposal.id, actor=stranger,
                               expected_version=1, data=_input(city, title="Hijacked"))
    assert session.get(Proposal, proposal.id).title == "Repave Main Street"


def test_submit_freezes_the_version_is_idempotent_and_locks_editing(session, city, group, resident, staff):
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(city))
    first = states.submit(session=session, group_id=group.id, proposal_id=proposal.id, actor=resident,
                          expected_version=1)
    assert not first.already and first.proposal.state == "submitted"
    assert first.proposal.submitted_snapshot["title"] == "Repave Main Street"
    again = states.submit(session=session, group_id=group.id, proposal_id=proposal.id, actor=resident,
                          expected_version=1)
    assert again.already and again.proposal.version == 2
    assert len(session.exec(select(ProposalTransition)).all()) == 1
    with pytest.raises(ProposalError, match="can no longer be edited"):
        editor.update_proposal(session=session, group_id=group.id, proposal_id=proposal.id, actor=resident,
                               expected_version=2, data=_input(city, title="Sneaky edit"))
    # staff ask for more information: the group may edit again and resubmit
    states.start_review(session=session, proposal_id=proposal.id, actor=staff)
    with pytest.raises(ProposalError, match="note the group will see"):
        states.request_info(session=session, proposal_id=proposal.id, actor=staff, public_note="")
    states.request_info(session=session, proposal_id=proposal.id, actor=staff, public_note="Which blocks exactly?")
    edited = editor.update_proposal(session=session, group_id=group.id, proposal_id=proposal.id, actor=resident,
                                    expected_version=4, data=_input(city, title="Main Street, blocks 1–2"))
    resubmitted = states.submit(session=session, group_id=group.id, proposal_id=proposal.id, actor=resident,
                                expected_version=edited.version)
    assert resubmitted.proposal.state == "under_review"
    assert resubmitted.proposal.submitted_snapshot["title"] == "Main Street, blocks 1–2"
    feedback = states.transitions(session=session, proposal_id=proposal.id)
    assert any(t.public_note == "Which blocks exactly?" and t.actor == "City staff" for t in feedback)


def test_incomplete_or_out_of_phase_submissions_are_refused(session, city, group, resident):
    bare = editor.create_proposal(session=session, group_id=group.id, actor=resident,
                                  data=ProposalInput(title="Just an idea"))
    with pytest.raises(ProposalError, match="add a category, the scheduled year, a location"):
        states.submit(session=session, group_id=group.id, proposal_id=bare.id, actor=resident, expected_version=1)
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(city))
    from datetime import date, timedelta

    with pytest.raises(ProposalError, match="not accepting proposals"):
        states.submit(session=session, group_id=group.id, proposal_id=proposal.id, actor=resident,
                      expected_version=1, today=date.today() + timedelta(days=400))
    assert session.get(Proposal, proposal.id).state == "draft"


def test_the_state_machine_rules(session, city, group, resident, staff):
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(city))
    with pytest.raises(ProposalNotFound):  # staff never see drafts
        states.start_review(session=session, proposal_id=proposal.id, actor=staff)
    states.submit(session=session, group_id=group.id, proposal_id=proposal.id, actor=resident, expected_version=1)
    with pytest.raises(ProposalError, match="Only staff"):
        states.transition(session=session, proposal=proposal, to=ProposalState.under_review, actor=resident)
    states.start_review(session=session, proposal_id=proposal.id, actor=staff)
    with pytest.raises(ProposalError, match="cannot become"):
        states.place_on_ballot(session=session, proposal_id=proposal.id, actor=staff)
    with pytest.raises(ProposalError, match="Give a reason"):
        states.mark_not_feasible(session=session, proposal_id=proposal.id, actor=staff, reason="", public_note="x")
    states.mark_feasible(session=session, proposal_id=proposal.id, actor=staff)
    states.shortlist(session=session, proposal_id=proposal.id, actor=staff)
    states.place_on_ballot(session=session, proposal_id=proposal.id, actor=staff)
    assert session.get(Proposal, proposal.id).state == "on_ballot"
    assert states.allowed_next("on_ballot", staff=False) == []
    with pytest.raises(ProposalError, match="cannot be withdrawn"):
        states.withdraw(session=session, group_id=group.id, proposal_id=proposal.id, actor=resident)
    assert [t.to_state for t in states.transitions(session=session, proposal_id=proposal.id)] == [
        "Submitted", "Under review", "Feasible", "Shortlisted", "On ballot"]


def test_the_list_orders_counts_alternates_once_and_warns_over_caps(session, city, group, resident):
    main = editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(city))
    alternate = editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(
        city, title="Patch Main Street", assets=[AssetKey("pavement", city.segments[0])], alternate_of_id=main.id))
    lights = editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(
        city, title="Fix the light", category_key="streetlights", assets=[AssetKey("streetlight", city.light)]))
    cap = session.exec(select(Category).where(Category.key == "streetlights")).one()
    cap.cap_cents = lights.final_cents - 1  # a cap just below the one project in it
    session.add(cap)
    session.commit()
    budget = lists.budget(session=session, group_id=group.id)
    assert budget.used_cents == main.final_cents + lights.final_cents  # the alternate does not count
    assert alternate.final_cents not in (None, 0)
    assert any("Streetlights" in w and "over its cap" in w for w in budget.warnings)
    lists.move(session=session, group_id=group.id, proposal_id=lights.id, actor=resident, direction="up")
    assert [r.title for r in lists.rows(session=session, group_id=group.id)] == [
        "Repave Main Street", "Fix the light", "Patch Main Street"]
    with pytest.raises(ProposalError, match="already at the top"):
        lists.move(session=session, group_id=group.id, proposal_id=main.id, actor=resident, direction="up")


def test_revisions_are_written_per_save(session, city, group, resident):
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=resident, data=_input(city))
    assert len(session.exec(select(ProposalRevision).where(ProposalRevision.proposal_id == proposal.id)).all()) == 1
