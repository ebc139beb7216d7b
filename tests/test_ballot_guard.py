"""A published list cannot change by any route: every state-changing route in the app, driven
against a ballot item as staff, admin and the group's owner, is refused and leaves the proposal,
its assets and the published export as they were; and bypassing the service with raw SQL, the
database itself refuses (triggers, migration 0009), on SpatiaLite and PostGIS."""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.proposals import ProposalError, editor, states
from app.proposals.editor import ProposalInput
from app.proposals.frozen import PublishedProposal
from app.triage import TriageError, overlaps, review
from models.accounts import Role
from models.proposals import Proposal, ProposalState
from tests.ballot_data import Ballot, publish_ballot
from tests.conftest import csrf_of, make_user, sign_in

REFUSAL = "is on the published ballot list"


@pytest.fixture
def ballot(session: Session, settings, resident, staff) -> Ballot:
    return publish_ballot(session, settings, resident, staff)


def _rows(session: Session, sql: str, ids: list[int]) -> list[dict]:
    found = session.connection().execute(text(sql.format(ids=",".join(map(str, ids))))).mappings()
    return [{k: (bytes(v) if isinstance(v, memoryview) else v) for k, v in row.items()} for row in found]


def frozen_state(session: Session, client, ballot: Ballot) -> dict:  # type: ignore[no-untyped-def]
    """Everything a published list is made of, as stored and as served."""
    session.expire_all()
    ids = ballot.on
    return {
        "proposals": _rows(session, "SELECT * FROM proposal WHERE id IN ({ids}) ORDER BY id", ids),
        "assets": _rows(session, "SELECT * FROM proposal_asset WHERE proposal_id IN ({ids}) ORDER BY id", ids),
        "lists": _rows(session, "SELECT * FROM published_list WHERE id IN ({ids}) ORDER BY id", [ballot.published.id]),
        "items": _rows(session, "SELECT * FROM published_item ORDER BY id", [0]),
        "export": client.get("/ballot/export.json").content,
    }


# -- the reproduction ---------------------------------------------------------------------------

def test_merging_a_ballot_item_away_is_refused_and_its_page_and_the_list_stay_as_published(
        client, session, ballot, staff):
    item, other = ballot.on[0], ballot.off[0]
    before = frozen_state(session, client, ballot)
    sign_in(client, staff.email)
    token = csrf_of(client, "/staff/triage/overlaps")
    response = client.post("/staff/triage/overlaps/merge", data={"keep_id": other, "merged_id": item,
                                                                "csrf_token": token})
    assert response.status_code == 303
    assert REFUSAL in client.get("/staff/triage/overlaps").text  # the flash says why
    assert frozen_state(session, client, ballot) == before
    assert session.get(Proposal, item).state == "on_ballot"
    assert "Withdrawn" not in client.get(f"/proposals/{item}").text
    with pytest.raises(PublishedProposal, match="published ballot list"):
        overlaps.merge(session=session, actor=staff, keep_id=item, merged_id=other)  # gaining assets: refused too


def test_every_service_that_changes_a_proposal_refuses_a_ballot_item(client, session, ballot, staff, resident):
    item = ballot.on[0]
    group_id = ballot.triage.group.id
    before = frozen_state(session, client, ballot)
    proposal = session.get(Proposal, item)
    attempts = [
        lambda: states.transition(session=session, proposal=proposal, to=ProposalState.withdrawn, actor=resident),
        lambda: states.not_select(session=session, proposal_id=item, actor=staff, public_note="no"),
        lambda: review.decide(session=session, actor=staff, proposal_id=item, to=ProposalState.not_selected,
                              public_note="no", expected_version=proposal.version),
        lambda: review.revise_estimate(session=session, actor=staff, proposal_id=item, reason="cheaper",
                                       revisions=[review.LineRevision(0, "1", 1)]),
        lambda: overlaps.mark_alternates(session=session, actor=staff, proposal_ids=[item, ballot.on[1]]),
        lambda: overlaps.merge(session=session, actor=staff, keep_id=ballot.on[1], merged_id=item),
        lambda: editor.update_proposal(session=session, group_id=group_id, proposal_id=item, actor=resident,
                                       expected_version=proposal.version,
                                       data=ProposalInput(title="Renamed", override_cents=1,
                                                          override_reason="cheaper")),
        lambda: editor.delete_draft(session=session, group_id=group_id, proposal_id=item, actor=resident),
    ]
    for attempt in attempts:
        with pytest.raises(PublishedProposal) as refused:
            attempt()
        assert isinstance(refused.value, ProposalError) and isinstance(refused.value, TriageError)
        assert f"#{item}" in str(refused.value) and "amendment" in str(refused.value)
    assert frozen_state(session, client, ballot) == before


# -- every route ---------------------------------------------------------------------------------

EXEMPT = {  # routes that cannot touch a proposal, and why
    "/register": "accounts", "/register/": "accounts", "/signin": "accounts", "/signout": "accounts",
    "/signout/": "accounts", "/password/": "accounts", "/account/": "accounts",
    "/account": "accounts", "/admin/": "accounts and roles", "/language": "the viewer's language",
    "/groups": "creates a group", "/api/v1/groups": "creates a group",
    "/groups/{group_id}/invites": "group membership", "/groups/join/{token}": "group membership",
    "/groups/{group_id}/leave": "group membership", "/groups/{group_id}/members/": "group membership",
    "/staff/costs/": "the unit-cost catalog: proposals keep the estimate they were priced with",
    "/api/v1/estimates": "prices assets, stores nothing", "/staff/program": "program settings",
    "/staff/import/": "the import's preview, confirmation and cancel (below)",
    "/staff/import": "replaces layers; a ballot item's links are re-pointed, never removed (the database "
                     "refuses that, test_the_database_refuses_raw_sql_on_a_ballot_item)",
    "/staff/triage/rubric": "the scoring rubric", "/proposals/{proposal_id}/comments/{comment_id}/hide":
        "a resident's comment, not the proposal",
    "/projects/{proposal_id}/follow": "following a project's delivery, not the proposal",
    "/staff/delivery/": "the vote's result and delivery live beside the published list; completion writes asset "
                        "conditions in place, never the proposal, its links or its item (tests/test_delivery.py)",
    "/staff/plan": "the pavement plan's budget scenarios: network figures, no proposal",
    "/staff/plan/": "the pavement plan's scenarios, curves and kept surveys: network figures, no proposal",
    "/unsubscribe/{token}": "stops a follower's delivery mail, not the proposal",
    "/staff/scenarios/{scenario_id}/cash-flow": "a working scenario's cash-flow rule; a published list keeps "
                                                "its items' years in their snapshots (test_scenario_cash_flow.py)",
}


def _exempt(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in EXEMPT)


def _requests(ballot: Ballot, path: str, method: str, version: int) -> list[tuple[str, dict]]:
    """(role, request keywords) to drive this route against the ballot item; [] if it is not driven."""
    item, other, group_id = ballot.on[0], ballot.off[0], ballot.triage.group.id
    url = (path.replace("{group_id}", str(group_id)).replace("{proposal_id}", str(item))
           .replace("{scenario_id}", str(ballot.scenario_id)).replace("{version}", str(version)))
    staff_forms = {
        "/staff/triage/bulk": [{"action": "move", "to": s.value, "ids": [str(item)], "reason": "x",
                                "public_note": "x"} for s in ProposalState] + [
            {"action": "assign", "ids": [str(item)], "reviewer_id": ""}],
        "/staff/triage/overlaps/merge": [{"keep_id": str(other), "merged_id": str(item)},
                                         {"keep_id": str(item), "merged_id": str(other)}],
        "/staff/triage/overlaps/alternates": [{"ids": [str(item), str(other)]}],
        "/staff/triage/{proposal_id}/decision": [{"to": s.value, "reason": "x", "public_note": "x",
                                                  "version": str(version)} for s in ProposalState],
        "/staff/triage/{proposal_id}/estimate": [{"line": "0", "quantity": "1", "unit_cost": "1.00",
                                                  "reason": "cheaper"}],
        "/staff/triage/{proposal_id}/notes": [{"internal_notes": "x", "public_notes": "y", "version": "0"}],
        "/staff/triage/{proposal_id}/score": [{"criterion": "manual", "value": "1"}],
        "/staff/scenarios": [{"name": "Another try"}],
        "/staff/scenarios/{scenario_id}/optimize": [{}],
        "/staff/scenarios/{scenario_id}/items": [{"proposal_id": str(item), "tier": ""},
                                                  {"proposal_id": str(item), "lock": "must_exclude"}],
        "/staff/scenarios/{scenario_id}/publish": [{"confirm": "yes"}, {}],
        "/staff/ballot/amend": [{"base_version": "1", "listed": [str(i) for i in ballot.on], "reason": "",
                                 **{f"tier_{i}": "1" for i in ballot.on}, **{f"cost_{i}": "1" for i in ballot.on}}],
    }
    proposal_form = {"version": str(version), "title": "Renamed", "override_amount": "1",
                     "override_reason": "cheaper", "assets": "[]"}
    group_forms = {
        "/groups/{group_id}/proposals/{proposal_id}": [proposal_form],
        "/groups/{group_id}/proposals/{proposal_id}/preview": [proposal_form],
        "/groups/{group_id}/proposals/{proposal_id}/submit": [{"version": str(version)}],
        "/groups/{group_id}/proposals/{proposal_id}/withdraw": [{"reason": "changed our minds"}],
        "/groups/{group_id}/proposals/{proposal_id}/delete": [{}],
        "/groups/{group_id}/list/move": [{"proposal_id": str(item), "direction": d} for d in ("up", "down")],
        "/groups/{group_id}/list/share": [{}],
        "/groups/{group_id}/proposals": [{"title": "A new idea"}],
        "/proposals/{proposal_id}/support": [{}],
        "/proposals/{proposal_id}/comments": [{"body": "Please keep it"}],
    }
    api = {
        ("PUT", "/api/v1/groups/{group_id}/proposals/{proposal_id}"): {"json": {"title": "Renamed",
                                                                               "version": version}},
        ("DELETE", "/api/v1/groups/{group_id}/proposals/{proposal_id}"): {},
        ("POST", "/api/v1/groups/{group_id}/proposals/{proposal_id}/submit"): {"params": {"version": version}},
        ("POST", "/api/v1/groups/{group_id}/proposals"): {"json": {"title": "A new idea"}},
    }
    if path in staff_forms:
        return [(role, {"url": url, "data": form}) for role in ("staff", "admin") for form in staff_forms[path]]
    if path in group_forms:
        return [("owner", {"url": url, "data": form}) for form in group_forms[path]]
    if (method, path) in api:
        return [("owner", {"url": url, **api[(method, path)]})]
    return []


def test_every_state_changing_route_is_refused_for_a_ballot_item(app, client, session, settings, ballot, staff,
                                                                 resident):
    admin = make_user(session, settings, "admin@city.gov", Role.admin)
    people = {"staff": staff, "admin": admin, "owner": resident}
    before = frozen_state(session, client, ballot)
    version = session.get(Proposal, ballot.on[0]).version
    unclassified, driven = [], 0
    signed_in = None
    for context in iter_route_contexts(app.routes):
        for method in sorted((context.methods or set()) - {"GET", "HEAD"}):
            path = context.path
            requests = _requests(ballot, path, method, version)
            if not requests:
                if not _exempt(path):
                    unclassified.append(f"{method} {path}")
                continue
            for role, request in requests:
                if signed_in != role:
                    client.cookies.clear()
                    sign_in(client, people[role].email)
                    signed_in = role
                headers = {"X-CSRF-Token": csrf_of(client, "/")}
                response = client.request(method, request.pop("url"), headers=headers, **request)
                driven += 1
                assert response.status_code < 500, f"{method} {path}: {response.status_code}"
                if response.status_code == 409 and path.startswith("/api/"):
                    assert response.headers["content-type"].startswith("application/problem+json")
                assert frozen_state(session, client, ballot) == before, f"{method} {path} as {role} changed it"
    assert not unclassified, f"routes neither driven against a ballot item nor exempt: {unclassified}"
    assert driven > 60


def test_the_api_answers_409_with_a_problem_detail(client, session, ballot, resident):
    item, group_id = ballot.on[0], ballot.triage.group.id
    sign_in(client, resident.email)
    version = session.get(Proposal, item).version
    response = client.put(f"/api/v1/groups/{group_id}/proposals/{item}", json={"title": "Renamed", "version": version},
                          headers={"X-CSRF-Token": csrf_of(client, "/")})
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert REFUSAL in response.json()["detail"]


# -- the database itself ----------------------------------------------------------------------

def _refused(session: Session, sql: str, **params: object) -> str:
    with pytest.raises(DBAPIError) as refused, session.begin_nested():
        session.connection().execute(text(sql), params)
    return str(refused.value)


def test_the_database_refuses_raw_sql_on_a_ballot_item(client, session, ballot, database):
    item = ballot.on[0]
    other = ballot.off[0]
    before = frozen_state(session, client, ballot)
    for sql in [
        "UPDATE proposal SET state = 'withdrawn' WHERE id = :item",
        "UPDATE proposal SET state = 'not_selected' WHERE id = :item",  # the newest version lists it
        "UPDATE proposal SET title = 'Renamed' WHERE id = :item",
        "UPDATE proposal SET estimate_total_cents = 1 WHERE id = :item",
        "UPDATE proposal SET override_cents = 1, override_reason = 'cheaper' WHERE id = :item",
        "UPDATE proposal SET category_key = 'sidewalks' WHERE id = :item",
        "UPDATE proposal SET scheduled_year = 2031 WHERE id = :item",
        "UPDATE proposal SET alternate_of_id = :other WHERE id = :item",
        "UPDATE proposal SET geom = ST_GeomFromText('POINT(-83.4 33.9)', 4326) WHERE id = :item",
        "UPDATE proposal SET asset_snapshot = NULL WHERE id = :item",
        "DELETE FROM proposal WHERE id = :item",
        "DELETE FROM proposal_asset WHERE proposal_id = :item",
        "INSERT INTO proposal_asset (proposal_id, layer, asset_id, missing) VALUES (:item, 'pavement', 999999, false)",
        "UPDATE proposal_asset SET layer = 'sidewalk' WHERE proposal_id = :item",
        "UPDATE proposal_asset SET source_key = 'elsewhere' WHERE proposal_id = :item",
        "UPDATE proposal_asset SET proposal_id = :item WHERE proposal_id = :other",
        "UPDATE published_list SET content_hash = 'forged'",
        "UPDATE published_list SET export = '{}'",
        "DELETE FROM published_list",
        "UPDATE published_item SET cost_cents = 1",
        "DELETE FROM published_item",
    ]:
        message = _refused(session, sql, item=item, other=other)
        assert "the published ballot list cannot change" in message, (sql, message)
    assert frozen_state(session, client, ballot) == before
    # what an import does to a ballot item's links is allowed: point them at the re-imported row, mark them missing
    with session.begin_nested():
        session.connection().execute(text("UPDATE proposal_asset SET missing = true WHERE proposal_id = :item"),
                                     {"item": item})
        session.connection().execute(text("UPDATE proposal_asset SET asset_id = asset_id WHERE proposal_id = :item"),
                                     {"item": item})
    # and what a proposal that is not on the list does is not the guard's business
    with session.begin_nested():
        session.connection().execute(text("UPDATE proposal SET title = 'Not on the list' WHERE id = :other"),
                                     {"other": other})
    assert database.kind in ("spatialite", "postgis")


def test_the_triggers_exist_at_head_on_this_database(session, database):
    if database.kind == "spatialite":
        names = {r[0] for r in session.connection().execute(text("SELECT name FROM sqlite_master WHERE type = "
                                                                  "'trigger' AND name LIKE 'ballot_%'"))}
        assert {"ballot_proposal_no_update", "ballot_asset_no_delete", "ballot_list_no_update",
                "ballot_item_no_delete", "ballot_proposal_snapshot_frozen"} <= names
    else:
        names = {r[0] for r in session.connection().execute(text("SELECT tgname FROM pg_trigger WHERE tgname LIKE "
                                                                  "'ballot_%'"))}
        assert names == {"ballot_list_frozen", "ballot_item_frozen", "ballot_proposal_frozen", "ballot_asset_frozen",
                         "ballot_proposal_snapshot_frozen"}

