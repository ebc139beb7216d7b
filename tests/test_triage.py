"""Staff triage: the board, bulk actions, reviews, notes, needs-info, conflicts, overlaps, scoring."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.proposals import ProposalError, states
from app.proposals.selection import AssetKey
from app.triage import ReviewConflict, TriageError, board, overlaps, review, scoring
from models.accounts import Role
from models.audit import AuditEvent
from models.layers import CensusTract, PavementSegment
from models.proposals import Proposal, ProposalState
from models.triage import LinkKind, ProposalLink
from tests.conftest import csrf_of, make_user, post_form, sign_in
from tests.triage_data import build_triage

S = ProposalState


@pytest.fixture
def t(session: Session, resident):
    return build_triage(session, resident)


def test_board_lists_submitted_proposals_with_counts_and_filters(session, t, staff):
    found = board.board(session=session, filters=board.Filters())
    assert [r.title for r in found.rows] == [p.title for p in t.proposals]
    assert found.counts["submitted"] == 4 and found.total == 4
    only_sidewalks = board.board(session=session, filters=board.Filters(category="sidewalks"))
    assert [r.title for r in only_sidewalks.rows] == ["Close the sidewalk gap"]
    cheap = min(r.cost_cents for r in found.rows)
    assert all(r.cost_cents <= cheap for r in board.board(session=session, filters=board.Filters(max_cents=cheap)).rows)
    by_score = board.board(session=session, filters=board.Filters(sort="score", descending=True)).rows
    assert [r.score for r in by_score] == sorted((r.score for r in by_score), reverse=True)
    review.assign_reviewer(session=session, actor=staff, proposal_ids=[t.proposals[0].id], reviewer_id=staff.id)
    mine = board.board(session=session, filters=board.Filters(reviewer_id=staff.id)).rows
    assert [r.id for r in mine] == [t.proposals[0].id] and mine[0].reviewer == staff.display_name
    assert len(board.board(session=session, filters=board.Filters(reviewer_id=0)).rows) == 3


def test_bulk_change_of_state_uses_the_state_machine_and_requires_reasons(session, t, staff):
    ids = [p.id for p in t.proposals[:2]]
    with pytest.raises(TriageError, match="give a reason"):
        board.bulk_move(session=session, actor=staff, proposal_ids=ids, to=S.not_feasible, public_note="Sorry")
    assert {session.get(Proposal, i).state for i in ids} == {"submitted"}  # nothing changed
    assert board.bulk_move(session=session, actor=staff, proposal_ids=ids, to=S.feasible) == 2
    assert {session.get(Proposal, i).state for i in ids} == {"feasible"}
    with pytest.raises(TriageError, match="cannot become"):
        board.bulk_move(session=session, actor=staff, proposal_ids=ids, to=S.needs_info, public_note="?")
    with pytest.raises(TriageError, match="note the group will see"):
        board.bulk_move(session=session, actor=staff, proposal_ids=ids, to=S.not_selected)
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "proposal.state")).all()
    assert len(events) == 4  # submitted → under review → feasible, for each


def test_board_page_filters_and_bulk_form(client, session, t, staff):
    sign_in(client, staff.email)
    page = client.get("/staff/triage?category=sidewalks")
    assert page.status_code == 200 and "Close the sidewalk gap" in page.text and "Repave east Main" not in page.text
    partial = client.get("/staff/triage?state=submitted", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "Repave east Main" in partial.text
    data = {"action": "move", "to": "not_feasible", "ids": str(t.proposals[2].id), "public_note": "Outside the city"}
    response = post_form(client, "/staff/triage/bulk", data, page="/staff/triage")
    assert response.status_code == 303
    assert "give a reason" in client.get("/staff/triage").text
    assert session.get(Proposal, t.proposals[2].id).state == "submitted"
    assert client.get("/staff/triage?sort=nonsense").status_code == 400


def test_internal_notes_never_reach_the_group_or_residents(client, session, t, staff, settings):
    p = t.proposals[0]
    review.save_review(session=session, actor=staff, proposal_id=p.id, expected_version=0,
                       internal_notes="SECRET-engineer-doubts", public_notes="Looks promising")
    review.decide(session=session, actor=staff, proposal_id=p.id,
                  expected_version=_version(session, p.id), to=S.needs_info, reason="INTERNAL-why",
                  public_note="Please add the cross street")
    sign_in(client, staff.email)
    assert "SECRET-engineer-doubts" in client.get(f"/staff/triage/{p.id}").text
    client.cookies.clear()
    sign_in(client, t.member.email)
    group_page = client.get(f"/groups/{t.group.id}/proposals/{p.id}")
    assert group_page.status_code == 200
    assert "Please add the cross street" in group_page.text  # the request for information
    assert "SECRET-engineer-doubts" not in group_page.text and "INTERNAL-why" not in group_page.text
    assert client.get(f"/staff/triage/{p.id}").status_code == 403
    client.cookies.clear()
    anonymous = client.get(f"/staff/triage/{p.id}", headers={"accept": "text/html"})
    assert anonymous.status_code == 303 and "/signin" in anonymous.headers["location"]


def test_needs_info_round_trip(session, t, staff):
    p = t.proposals[1]
    review.decide(session=session, actor=staff, proposal_id=p.id,
                  expected_version=_version(session, p.id), to=S.needs_info, public_note="Which blocks?")
    assert session.get(Proposal, p.id).state == "needs_info"
    answered = states.submit(session=session, group_id=t.group.id, proposal_id=p.id, actor=t.member,
                             expected_version=session.get(Proposal, p.id).version).proposal
    assert answered.state == "under_review"
    with pytest.raises(ProposalError):
        review.decide(session=session, actor=staff, proposal_id=p.id,
                      expected_version=_version(session, p.id), to=S.not_feasible, public_note="x")


def test_two_staff_editing_one_review_get_a_conflict_and_nothing_is_lost(client, session, t, staff, settings):
    other = make_user(session, settings, "other@city.gov", Role.staff)
    p = t.proposals[0]
    review.save_review(session=session, actor=other, proposal_id=p.id, expected_version=0,
                       internal_notes="Other's note", public_notes="")
    with pytest.raises(ReviewConflict) as conflict:
        review.save_review(session=session, actor=staff, proposal_id=p.id, expected_version=0,
                           internal_notes="Mine", public_notes="")
    assert "Other" in str(conflict.value) and conflict.value.internal_notes == "Other's note"
    assert review.review_of(session=session, proposal_id=p.id).internal_notes == "Other's note"
    sign_in(client, staff.email)
    response = post_form(client, f"/staff/triage/{p.id}/notes", {"version": "0", "internal_notes": "My words",
                                                                  "public_notes": ""}, page=f"/staff/triage/{p.id}")
    assert response.status_code == 409
    assert "My words" in response.text and "Other&#39;s note" in response.text
    assert "while you were editing" in response.text


def test_staff_estimate_revises_quantities_with_a_reason(session, t, staff):
    p = t.proposals[2]
    with pytest.raises(TriageError, match="reason"):
        review.revise_estimate(session=session, actor=staff, proposal_id=p.id, revisions=[], reason=" ")
    line = p.estimate["lines"][0]
    doubled = review.revise_estimate(session=session, actor=staff, proposal_id=p.id, reason="Field measured",
                                     revisions=[review.LineRevision(0, str(2 * float(line["quantity"])),
                                                                    line["unit_cost_cents"])])
    assert doubled.total_cents == pytest.approx(2 * p.estimate["total_cents"], rel=0.01)
    row = next(r for r in board.board(session=session, filters=board.Filters()).rows if r.id == p.id)
    assert row.cost_cents == doubled.total_cents and row.staff_revised


def test_overlaps_are_grouped_and_can_be_merged_or_marked_alternates(session, t, staff):
    groups_found = overlaps.overlap_groups(session=session)
    assert [[p.id for p in g.proposals] for g in groups_found] == [[t.proposals[0].id, t.proposals[1].id]]
    assert "1 shared asset" in groups_found[0].reasons[0]
    overlaps.mark_alternates(session=session, actor=staff, proposal_ids=[t.proposals[0].id, t.proposals[1].id])
    names = overlaps.alternate_groups(session=session)
    assert names[t.proposals[0].id] == names[t.proposals[1].id]
    kept = overlaps.merge(session=session, actor=staff, keep_id=t.proposals[0].id, merged_id=t.proposals[1].id)
    merged = session.get(Proposal, t.proposals[1].id)
    assert merged.state == "withdrawn"
    assert overlaps.merged_into(session=session, proposal_id=merged.id) == kept.id
    assert session.exec(select(ProposalLink).where(ProposalLink.kind == LinkKind.merged_into.value)).one()
    history = states.transitions(session=session, proposal_id=merged.id)
    assert [h.to_state for h in history] == ["Submitted", "Withdrawn"]  # its history is kept
    assert "Merged into proposal" in history[-1].public_note
    assert len(states.transitions(session=session, proposal_id=kept.id)) == 1


def test_scoring_computes_criteria_on_a_hand_made_case(session, t, staff):
    from shapely.geometry import MultiPolygon, box

    from app.layers.store import FeatureRecord, write_layer
    from models.layers import LayerKind
    write_layer(session=session, kind=LayerKind.tract, source="tracts", actor=None, records=[
        FeatureRecord(MultiPolygon([box(-83.42, 33.94, -83.38, 33.96)]), {"geoid": "1", "poverty_rate": 0.25},
                      source_id="1")])
    tract = session.exec(select(CensusTract)).one()
    for seg in session.exec(select(PavementSegment)):
        seg.tract_id = tract.id
        session.add(seg)
    session.commit()
    p = t.proposals[0]  # segments with PCI 30 and 45, equal lengths
    card = scoring.score_cards(session=session, proposals=[p])[p.id]
    by_key = {c.key: c for c in card.criteria}
    assert by_key["condition_need"].value == pytest.approx(1 - 37.5 / 100, abs=1e-3)
    assert by_key["equity"].raw == pytest.approx(0.25)
    assert by_key["cost_effectiveness"].value == pytest.approx(1.0)  # the only one scored: the best
    assert by_key["support"].value == 0
    scoring.score_manual(session=session, actor=staff, proposal_id=p.id, criterion_key="community_benefit", value=5)
    other = make_user(session, _settings(session), "second@city.gov", Role.staff)
    scoring.score_manual(session=session, actor=other, proposal_id=p.id, criterion_key="community_benefit", value=3)
    card = scoring.score_cards(session=session, proposals=[p])[p.id]
    manual = next(c for c in card.criteria if c.key == "community_benefit")
    assert manual.raw == 4 and manual.spread == 2 and manual.reviewers == 2
    expected = 100 * (3 * 0.625 + 2 * 0.25 + 2 * 1.0 + 1 * 0 + 2 * 0.8) / 10
    assert card.total == pytest.approx(expected, abs=0.01)
    with pytest.raises(TriageError):
        scoring.score_manual(session=session, actor=staff, proposal_id=p.id, criterion_key="community_benefit", value=9)


def _settings(session):
    from app.settings import Settings
    from tests.conftest import make_settings
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    settings: Settings = make_settings(url)
    return settings


def test_residents_and_group_members_cannot_use_staff_endpoints(client, session, t, resident):
    sign_in(client, resident.email)  # the group's owner
    p = t.proposals[0]
    for path, data in [("/staff/triage/bulk", {"action": "move", "to": "under_review", "ids": str(p.id)}),
                       (f"/staff/triage/{p.id}/decision", {"to": "under_review"}),
                       (f"/staff/triage/{p.id}/notes", {"version": "0", "internal_notes": "x", "public_notes": ""}),
                       ("/staff/triage/overlaps/merge", {"keep_id": str(p.id), "merged_id": str(t.proposals[1].id)})]:
        assert post_form(client, path, data, page="/").status_code == 403
    assert client.get("/staff/triage").status_code == 403
    assert session.get(Proposal, p.id).state == "submitted"
    assert review.review_of(session=session, proposal_id=p.id).version == 0


def test_every_staff_action_is_audited_with_before_and_after(client, session, t, staff, admin):
    p = t.proposals[0]
    review.assign_reviewer(session=session, actor=staff, proposal_ids=[p.id], reviewer_id=staff.id)
    review.save_review(session=session, actor=staff, proposal_id=p.id, expected_version=1,
                       internal_notes="checked", public_notes="")
    review.decide(session=session, actor=staff, proposal_id=p.id,
                  expected_version=_version(session, p.id), to=S.feasible)
    overlaps.mark_alternates(session=session, actor=staff, proposal_ids=[t.proposals[1].id, t.proposals[2].id])
    events = session.exec(select(AuditEvent).where(AuditEvent.actor_id == staff.id)).all()
    actions = [e.action for e in events]
    for expected in ("review.assign", "review.notes", "proposal.state", "proposal.alternates"):
        assert expected in actions
    notes = next(e for e in events if e.action == "review.notes")
    assert notes.before == {"internal_notes": "", "public_notes": ""} and notes.after["internal_notes"] == "checked"
    sign_in(client, admin.email)
    assert "review.notes" in client.get("/staff/audit").text


def test_the_rubric_is_configurable_and_drives_the_scores(client, session, t, staff):
    p = t.proposals[0]
    sign_in(client, staff.email)
    response = post_form(client, "/staff/triage/rubric", {"key": "condition_need", "name": "Need",
                                                          "kind": "condition_need", "weight": "1", "scale_max": "5"},
                         page="/staff/triage/rubric")
    assert response.status_code == 303
    card = scoring.score_cards(session=session, proposals=[p])[p.id]
    assert [c.key for c in card.criteria] == ["condition_need"]
    assert card.total == pytest.approx(100 * (1 - 37.5 / 100), abs=0.01)
    refused = post_form(client, "/staff/triage/rubric", {"key": "x", "name": "X", "kind": "manual", "weight": "0",
                                                         "scale_max": "5"}, page="/staff/triage/rubric")
    assert refused.status_code == 422 and "At least one weight" in refused.text
    assert [c.key for c in scoring.rubric(session=session)] == ["condition_need"]


def test_overlaps_never_chain_proposals_that_share_nothing_through_a_third(session, t, staff):
    from tests.triage_data import submitted
    seg = [AssetKey("pavement", i) for i in t.city.segments]
    bridge = submitted(session, t.group, t.member, "Repave Main, mid to east", [seg[2], seg[3]])
    west, mid, east = t.proposals[0], t.proposals[1], t.proposals[2]
    found = [{p.id for p in g.proposals} for g in overlaps.overlap_groups(session=session)]
    # west shares a block with mid, mid one with the bridge, the bridge one with east: three pairs to
    # look at, and never one group that would offer to merge west Main into east Main.
    assert not any({west.id, east.id} <= g for g in found)
    for pair in ({west.id, mid.id}, {mid.id, bridge.id}, {bridge.id, east.id}):
        assert any(pair <= g for g in found)
    assert all(len(g) == 2 for g in found)


def test_drawn_proposals_that_overlap_on_the_map_are_grouped(session, t, staff):
    from tests.triage_data import submitted_drawn
    line = {"type": "LineString", "coordinates": [[-83.392, 33.951], [-83.388, 33.951]]}
    near = {"type": "LineString", "coordinates": [[-83.391, 33.95102], [-83.389, 33.95102]]}  # ~2 m away, inside it
    far = {"type": "LineString", "coordinates": [[-83.392, 33.957], [-83.388, 33.957]]}
    a = submitted_drawn(session, t.group, t.member, "Bike lane A", line)
    b = submitted_drawn(session, t.group, t.member, "Bike lane B", near)
    submitted_drawn(session, t.group, t.member, "Elsewhere", far)
    found = [[p.id for p in g.proposals] for g in overlaps.overlap_groups(session=session)]
    assert [a.id, b.id] in found and all(len(g) == 2 for g in found)
    group = next(g for g in overlaps.overlap_groups(session=session) if g.proposals[0].id == a.id)
    assert len(group.reasons) == 1 and group.reasons[0].startswith(f"#{a.id} and #{b.id}: ")
    assert "m apart on the map" in group.reasons[0] and "the same kind of work" in group.reasons[0]
    assert "titles 91% alike" in group.reasons[0] and group.strength == "possible"


def test_overlaps_never_join_different_kinds_of_work_without_shared_assets_and_rank_by_evidence(session, t, staff):
    from tests.triage_data import submitted_drawn
    corridor = {"type": "LineString", "coordinates": [[-83.392, 33.951], [-83.388, 33.951]]}
    stop = {"type": "Point", "coordinates": [-83.390, 33.95101]}  # a bus stop on the corridor, ~1 m away
    road = submitted_drawn(session, t.group, t.member, "Prince Ave corridor", corridor)
    bus = submitted_drawn(session, t.group, t.member, "Bus shelter at Prince Ave", stop)
    bus.category_key = "transit"
    session.add(bus)
    session.commit()
    found = overlaps.overlap_groups(session=session)
    assert not any({road.id, bus.id} <= {p.id for p in g.proposals} for g in found)
    assert found[0].strength == "strong" and found[0].shared_assets  # shared assets rank first
    scores = [g.score for g in found]
    assert scores == sorted(scores, reverse=True)


def test_resident_supports_feed_the_support_criterion(session, t, settings):
    from app import participation

    fans = [make_user(session, settings, f"fan{i}@example.org") for i in range(3)]
    popular, modest, unloved = t.proposals[0], t.proposals[1], t.proposals[2]
    for fan in fans:
        participation.support(session=session, proposal_id=popular.id, user=fan)
    participation.support(session=session, proposal_id=modest.id, user=fans[0])
    cards = scoring.score_cards(session=session, proposals=[popular, modest, unloved])
    support = {pid: next(c for c in card.criteria if c.key == "support") for pid, card in cards.items()}
    assert (support[popular.id].raw, support[popular.id].value) == (3, 1.0)
    assert support[modest.id].value == pytest.approx(1 / 3)
    assert support[unloved.id].value == 0


def _version(session, proposal_id: int) -> int:  # type: ignore[no-untyped-def]
    """The version a staff member's page would have shown."""
    proposal = session.get(Proposal, proposal_id)
    session.refresh(proposal)
    return proposal.version


@pytest.mark.parametrize("version", [None, ""])
def test_a_decision_without_a_version_is_refused_and_changes_nothing(client, session, t, staff, version):
    """An empty or missing version used to skip the edit-conflict check and apply the decision."""
    p = t.proposals[0]
    before = _version(session, p.id)
    sign_in(client, staff.email)
    data = {"to": "under_review"} if version is None else {"to": "under_review", "version": version}
    response = post_form(client, f"/staff/triage/{p.id}/decision", data, page=f"/staff/triage/{p.id}")
    assert response.status_code == 303
    page = client.get(f"/staff/triage/{p.id}").text
    assert "came without the proposal&#39;s version" in page and "Reload the page" in page
    assert session.get(Proposal, p.id).state == "submitted" and _version(session, p.id) == before
    tampered = post_form(client, f"/staff/triage/{p.id}/decision", {"to": "under_review", "version": "abc"},
                         page=f"/staff/triage/{p.id}")
    assert tampered.status_code == 400 and "is not a whole number" in tampered.text
    assert _version(session, p.id) == before
    with_version = post_form(client, f"/staff/triage/{p.id}/decision", {"to": "under_review", "version": str(before)},
                             page=f"/staff/triage/{p.id}")
    assert with_version.status_code == 303 and _version(session, p.id) == before + 1


def test_triage_pages_follow_the_viewers_language(client, session, t, staff):
    p = t.proposals[0]
    sign_in(client, staff.email)
    english = client.get("/staff/triage").text
    assert "<h1>Triage</h1>" in english and "Assign reviewer" in english and '<span class="badge">Submitted' in english
    assert post_form(client, "/language", {"lang": "es", "next": "/"}, page="/").status_code == 303
    board_page = client.get("/staff/triage").text
    assert "<h1>Clasificación</h1>" in board_page and "Con las propuestas marcadas" in board_page
    assert '<span class="badge">Enviada</span>' in board_page and "Assign reviewer" not in board_page
    rows = client.get("/staff/triage", headers={"HX-Request": "true"}).text
    assert "Se muestran 4 de 4 propuestas enviadas." in rows
    refused = client.get("/staff/triage?state=nonsense", headers={"accept": "text/html"})
    assert refused.status_code == 400 and "«nonsense» no es un estado de propuesta." in refused.text

    assigned = post_form(client, "/staff/triage/bulk", {"action": "assign", "ids": str(p.id),
                                                        "reviewer_id": str(staff.id)}, page="/staff/triage")
    assert assigned.status_code == 303
    assert "Se asignó un revisor a 1 propuesta." in client.get("/staff/triage").text
    scoring.score_manual(session=session, actor=staff, proposal_id=p.id, criterion_key="community_benefit", value=4)
    page = client.get(f"/staff/triage/{p.id}").text
    assert "de 1 revisor, dispersión" in page
    for text in ("Mapa y estado", "Puntuación por criterio", "Estimaciones", "Decisión", "Guardar las notas",
                 "Historial"):
        assert text in page, text
    assert "Map and condition" not in page and "Save notes" not in page
    decided = post_form(client, f"/staff/triage/{p.id}/decision",
                        {"to": "feasible", "version": str(_version(session, p.id))}, page=f"/staff/triage/{p.id}")
    assert decided.status_code == 303
    assert "La propuesta ahora tiene el estado «Viable»." in client.get(f"/staff/triage/{p.id}").text
    assert "<h1>Rúbrica de puntuación</h1>" in client.get("/staff/triage/rubric").text
    assert "<h1>Superposiciones y duplicados</h1>" in client.get("/staff/triage/overlaps").text


def test_triage_refusals_and_overlap_evidence_follow_the_viewers_language(client, session, t, staff):
    """The services' refusals and the overlap evidence are whole sentences in the viewer's language."""
    a, b = t.proposals[0].id, t.proposals[1].id
    sign_in(client, staff.email)
    htmx = {"HX-Request": "true", "X-CSRF-Token": csrf_of(client, "/staff/triage")}
    no_reason = {"action": "move", "ids": str(a), "to": "not_feasible", "public_note": "Sorry"}
    english = client.post("/staff/triage/bulk", headers=htmx, data=no_reason)
    assert english.status_code == 422
    assert english.text == f"Nothing was changed. #{a}: give a reason to mark not feasible."
    assert f"#{a} and #{b}: 1 shared asset" in client.get("/staff/triage/overlaps").text

    assert post_form(client, "/language", {"lang": "es", "next": "/"}, page="/").status_code == 303
    spanish = client.post("/staff/triage/bulk", headers=htmx, data=no_reason)
    assert spanish.status_code == 422
    assert spanish.text == f"No se cambió nada. #{a}: indique un motivo para marcarla como no viable."
    page = client.get("/staff/triage/overlaps").text
    assert f"#{a} y #{b}: 1 elemento compartido" in page and "shared asset" not in page
    refused = post_form(client, "/staff/triage/rubric", {"key": "x", "name": "X", "kind": "manual", "weight": "0",
                                                         "scale_max": "5"}, page="/staff/triage/rubric")
    assert refused.status_code == 422 and "Al menos un peso debe ser mayor que 0." in refused.text
    assert {session.get(Proposal, i).state for i in (a, b)} == {"submitted"}  # nothing changed
