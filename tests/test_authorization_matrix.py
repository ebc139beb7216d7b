"""Who may use which route, for every route the application has: anonymous, a resident, a member
and the owner of group A, the owner of group B, staff and an admin. The expected outcomes are in
one table (MATRIX); a route the table does not list fails the suite, so a new route gets a
decision. Routes with ids are asked about group A's objects, so the object-level checks (another
group's draft is a 404, never a 403) are covered too.

Outcomes: ``ok`` done (2xx, or a redirect without an error); ``re`` refused by the service with a
message (400, 409, 413, or a redirect to a page showing an error: for a group member asking for an
owner's action, or staff sending the probe's empty form); ``bad`` the fields were refused before any
check (422); ``in`` sign-in required (401, or a redirect to /signin); ``no`` the role may not (403);
``nf`` not found for this viewer (404). A 5xx always fails. Each request runs in a
savepoint that is rolled back, so the requests do not change each other's world."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import groups, participation
from app.proposals import editor
from app.proposals.editor import ProposalInput
from app.scenarios import scenarios
from models.accounts import Role, User
from tests.conftest import csrf_of, make_user, sign_in
from tests.triage_data import build_triage

VIEWERS = ("anonymous", "resident", "member_a", "owner_a", "owner_b", "staff", "admin")

# Access classes: the outcome for each viewer, in VIEWERS order.
PUBLIC = ("ok",) * 7
SIGNED_IN = ("in",) + ("ok",) * 6
STAFF = ("in", "no", "no", "no", "no", "ok", "ok")
STAFF_PROBED = ("in", "no", "no", "no", "no", "re", "re")  # staff reach the service, which refuses the empty probe
STAFF_FIELDS = ("in", "no", "no", "no", "no", "bad", "bad")  # the role is checked before the fields
ADMIN = ("in", "no", "no", "no", "no", "no", "ok")
MEMBERS_A = ("in", "nf", "ok", "ok", "nf", "nf", "nf")  # group A's own: everyone else sees nothing, staff too
OWNER_A = ("in", "nf", "re", "ok", "nf", "nf", "nf")  # members are told only an owner may
FIELDS_FIRST = ("bad",) * 7  # public forms: the probe's missing fields are refused for everyone


@dataclass(frozen=True)
class World:
    group_a: int
    group_b: int
    draft_a: int
    submitted_a: int
    comment: int
    scenario: int
    member_a: int


# Ids are group A's objects (a draft for /groups/…/proposals routes, a submitted proposal elsewhere);
# tokens are made up, so token pages answer "nf"/"re" for everyone; nothing is published yet, so the
# ballot's versions and exports are "nf"; the draft is last in its list and cannot be submitted empty,
# so its owner and member are "re" there.
MATRIX: dict[tuple[str, str], tuple[str, ...]] = {
    ('DELETE', '/api/v1/groups/{group_id}/proposals/{proposal_id}'): MEMBERS_A,
    ('GET', '/'): PUBLIC,
    ('GET', '/account'): SIGNED_IN,
    ('POST', '/account/password'): ('in', 'bad', 'bad', 'bad', 'bad', 'bad', 'bad'),  # the probe sends no passwords
    ('GET', '/admin/users'): ADMIN,
    ('GET', '/api/docs'): PUBLIC,
    ('GET', '/api/v1/addresses'): FIELDS_FIRST,
    ('GET', '/api/v1/catalog'): PUBLIC,
    ('GET', '/api/v1/catalog/versions'): PUBLIC,
    ('GET', '/api/v1/catalog/versions/{number}'): PUBLIC,
    ('GET', '/api/v1/groups'): SIGNED_IN,
    ('GET', '/api/v1/groups/{group_id}/list'): MEMBERS_A,
    ('GET', '/api/v1/groups/{group_id}/proposals'): MEMBERS_A,
    ('GET', '/api/v1/groups/{group_id}/proposals/{proposal_id}'): MEMBERS_A,
    ('GET', '/api/v1/groups/{group_id}/proposals/{proposal_id}/estimate'): MEMBERS_A,
    ('GET', '/api/v1/program'): PUBLIC,
    ('GET', '/ballot'): PUBLIC,
    ('GET', '/ballot/export.json'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/ballot/v/{version}'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/ballot/v/{version}/export.json'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/ballot/verify'): PUBLIC,
    ('GET', '/ballot/versions.json'): PUBLIC,
    ('GET', '/projects'): PUBLIC,  # delivery: nothing voted yet, so no project is being delivered
    ('GET', '/projects.geojson'): PUBLIC,
    ('GET', '/projects/photos/{name}'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/projects/{proposal_id}'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('POST', '/projects/{proposal_id}/follow'): ('in', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/staff/delivery'): STAFF,
    ('GET', '/staff/delivery/{proposal_id}'): ('in', 'no', 'no', 'no', 'no', 'nf', 'nf'),
    ('GET', '/staff/delivery/{proposal_id}/complete'): ('in', 'no', 'no', 'no', 'no', 'nf', 'nf'),
    ('POST', '/staff/delivery/vote'): STAFF_FIELDS,
    ('POST', '/staff/delivery/revenue'): STAFF_FIELDS,  # the probe's empty form: no year (422, nothing written)
    ('GET', '/staff/delivery/phases'): STAFF,
    ('POST', '/staff/delivery/phases/{action}'): ('in', 'no', 'no', 'no', 'no', 'nf', 'nf'),  # "milestones": no such
    ('POST', '/staff/delivery/{proposal_id}/{action}'): ('in', 'no', 'no', 'no', 'no', 'nf', 'nf'),
    ('GET', '/projects.atom'): PUBLIC,  # an empty feed before the vote
    ('GET', '/projects/{proposal_id}/updates.atom'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/unsubscribe/{token}'): ('re', 're', 're', 're', 're', 're', 're'),  # the probe's token is not signed
    ('POST', '/unsubscribe/{token}'): ('re', 're', 're', 're', 're', 're', 're'),
    ('GET', '/api/v1/delivery/projects'): PUBLIC,
    ('GET', '/api/v1/delivery/projects/{proposal_id}'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/ogc/collections/delivery'): PUBLIC,
    ('GET', '/ogc/collections/delivery/items'): PUBLIC,
    ('GET', '/ogc/collections/delivery/items/{feature_id}'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/dashboards'): PUBLIC,
    ('GET', '/plan'): PUBLIC,
    ('GET', '/plan/same-money'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),  # nothing published yet
    ('GET', '/api/v1/network/same-money'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/plan/scenarios/{scenario_id}'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/staff/plan'): STAFF,
    ('POST', '/staff/plan'): STAFF_PROBED,
    ('POST', '/staff/plan/scenarios/{scenario_id}/delete'): ('in', 'no', 'no', 'no', 'no', 'nf', 'nf'),
    ('GET', '/staff/plan/curves'): STAFF,
    ('POST', '/staff/plan/curves'): STAFF_PROBED,
    ('POST', '/staff/plan/curves/fit'): STAFF_PROBED,
    ('POST', '/staff/plan/surveys/keep'): STAFF_PROBED,
    ('GET', '/api/v1/network/needs'): PUBLIC,
    ('GET', '/api/v1/network/scenarios'): PUBLIC,
    ('GET', '/api/v1/network/scenarios/run'): STAFF_PROBED,  # costly runs: staff; the probe asks nothing
    ('GET', '/api/v1/network/scenarios/{scenario_id}'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/api/v1/network/curves'): PUBLIC,
    ('GET', '/api/v1/network/cashflow'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/dashboards/management'): PUBLIC,
    ('GET', '/dashboards/operational'): PUBLIC,
    ('GET', '/data'): PUBLIC,
    ('GET', '/data/catalog.json'): PUBLIC,
    ('GET', '/data/{dataset_id}.{extension}'): PUBLIC,
    ('GET', '/docs/oauth2-redirect'): PUBLIC,
    ('GET', '/groups'): SIGNED_IN,
    ('GET', '/groups/join/{token}'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/groups/{group_id}'): MEMBERS_A,
    ('GET', '/groups/{group_id}/list'): MEMBERS_A,
    ('GET', '/groups/{group_id}/list/budget'): MEMBERS_A,
    ('GET', '/groups/{group_id}/proposals/{proposal_id}'): MEMBERS_A,
    ('GET', '/healthz'): PUBLIC,
    ('GET', '/lists/{token}'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'nf'),
    ('GET', '/map'): PUBLIC,
    ('GET', '/map/proposals-panel'): PUBLIC,
    ('GET', '/map/proposals.geojson'): PUBLIC,
    ('GET', '/map/streets'): PUBLIC,
    ('GET', '/map/summary'): PUBLIC,
    ('GET', '/map/table'): PUBLIC,
    ('GET', '/ogc'): PUBLIC,
    ('GET', '/ogc/collections'): PUBLIC,
    ('GET', '/ogc/collections/{collection_id}'): PUBLIC,
    ('GET', '/ogc/collections/{collection_id}/items'): PUBLIC,
    ('GET', '/ogc/collections/{collection_id}/items/{feature_id}'): PUBLIC,
    ('GET', '/ogc/conformance'): PUBLIC,
    ('GET', '/openapi.json'): PUBLIC,
    ('GET', '/outbox'): ('nf', 'nf', 'nf', 'nf', 'nf', 'nf', 'ok'),
    ('GET', '/password/forgot'): PUBLIC,
    ('GET', '/password/reset/{token}'): ('re', 're', 're', 're', 're', 're', 're'),
    ('GET', '/proposals'): PUBLIC,
    ('GET', '/proposals/{proposal_id}'): PUBLIC,
    ('GET', '/register'): PUBLIC,
    ('GET', '/register/confirm/{token}'): ('re', 're', 're', 're', 're', 're', 're'),
    ('GET', '/signin'): PUBLIC,
    ('GET', '/staff'): STAFF,
    ('GET', '/staff/audit'): ADMIN,
    ('GET', '/staff/audit.csv'): ADMIN,
    ('GET', '/staff/ballot/amend'): STAFF_PROBED,
    ('GET', '/staff/costs'): STAFF,
    ('GET', '/staff/costs/catalog.csv'): STAFF,
    ('GET', '/staff/costs/edit'): STAFF,
    ('GET', '/staff/costs/versions'): STAFF,
    ('GET', '/staff/costs/versions/{number}'): STAFF,
    ('GET', '/staff/import'): STAFF,
    ('GET', '/staff/import/preview'): STAFF,
    ('GET', '/staff/import/jobs/{job_id}'): ('in', 'no', 'no', 'no', 'no', 'nf', 'nf'),
    ('GET', '/staff/program'): STAFF,
    ('GET', '/staff/scenarios'): STAFF,
    ('GET', '/staff/scenarios/compare'): STAFF_PROBED,
    ('GET', '/staff/scenarios/{scenario_id}'): STAFF,
    ('GET', '/staff/scenarios/{scenario_id}/publish'): STAFF,
    ('GET', '/staff/scenarios/{scenario_id}/pavement'): STAFF,
    ('GET', '/staff/sign-ins'): STAFF,
    ('GET', '/staff/triage'): STAFF,
    ('GET', '/staff/triage/overlaps'): STAFF,
    ('GET', '/staff/triage/rubric'): STAFF,
    ('GET', '/staff/triage/{proposal_id}'): STAFF,
    ('GET', '/tiles/{layer}.json'): PUBLIC,
    ('GET', '/tiles/{layer}/{z}/{x}/{y}.mvt'): PUBLIC,
    ('POST', '/admin/users/{user_id}/role'): ADMIN,
    ('POST', '/api/v1/estimates'): ('in', 'bad', 'bad', 'bad', 'bad', 'bad', 'bad'),
    ('POST', '/api/v1/groups'): SIGNED_IN,
    ('POST', '/api/v1/groups/{group_id}/proposals'): MEMBERS_A,
    ('POST', '/api/v1/groups/{group_id}/proposals/{proposal_id}/submit'): ('in', 'nf', 're', 're', 'nf', 'nf', 'nf'),
    ('POST', '/groups'): SIGNED_IN,
    ('POST', '/groups/join/{token}'): ('in', 're', 're', 're', 're', 're', 're'),
    ('POST', '/groups/{group_id}/invites'): OWNER_A,
    ('POST', '/groups/{group_id}/leave'): ('in', 'nf', 'ok', 're', 'nf', 'nf', 'nf'),
    ('POST', '/groups/{group_id}/list/move'): ('in', 'nf', 're', 're', 'nf', 'nf', 'nf'),
    ('POST', '/groups/{group_id}/list/share'): MEMBERS_A,
    ('POST', '/groups/{group_id}/members/{user_id}/remove'): OWNER_A,
    ('POST', '/groups/{group_id}/members/{user_id}/role'): OWNER_A,
    ('POST', '/groups/{group_id}/proposals'): MEMBERS_A,
    ('POST', '/groups/{group_id}/proposals/{proposal_id}'): MEMBERS_A,
    ('POST', '/groups/{group_id}/proposals/{proposal_id}/delete'): MEMBERS_A,
    ('POST', '/groups/{group_id}/proposals/{proposal_id}/preview'): MEMBERS_A,
    ('POST', '/groups/{group_id}/proposals/{proposal_id}/submit'): ('in', 'nf', 're', 're', 'nf', 'nf', 'nf'),
    ('POST', '/groups/{group_id}/proposals/{proposal_id}/withdraw'): MEMBERS_A,
    ('POST', '/language'): FIELDS_FIRST,
    ('POST', '/password/forgot'): FIELDS_FIRST,
    ('POST', '/password/reset/{token}'): FIELDS_FIRST,
    ('POST', '/proposals/{proposal_id}/comments'): SIGNED_IN,
    ('POST', '/proposals/{proposal_id}/comments/{comment_id}/hide'): STAFF_PROBED,
    ('POST', '/proposals/{proposal_id}/support'): SIGNED_IN,
    ('POST', '/register'): FIELDS_FIRST,
    ('POST', '/register/confirm/{token}'): ('re', 're', 're', 're', 're', 're', 're'),
    ('POST', '/signin'): FIELDS_FIRST,
    ('POST', '/signout'): PUBLIC,
    ('POST', '/signout/everywhere'): SIGNED_IN,
    ('POST', '/staff/ballot/amend'): STAFF_PROBED,
    ('POST', '/staff/costs/defaults'): STAFF,
    ('POST', '/staff/costs/edit'): STAFF_PROBED,
    ('POST', '/staff/costs/import'): STAFF_PROBED,
    ('POST', '/staff/costs/versions/{number}/restore'): STAFF,
    ('POST', '/staff/import'): STAFF_FIELDS,
    ('POST', '/staff/import/cancel'): STAFF,
    ('POST', '/staff/import/confirm'): STAFF,
    ('POST', '/staff/program'): STAFF_PROBED,
    ('POST', '/staff/scenarios'): STAFF_PROBED,
    ('POST', '/staff/scenarios/{scenario_id}/cash-flow'): STAFF,  # the empty form: no rule, no borrowing
    ('POST', '/staff/scenarios/{scenario_id}/items'): STAFF_PROBED,
    ('POST', '/staff/scenarios/{scenario_id}/optimize'): STAFF_FIELDS,
    ('POST', '/staff/scenarios/{scenario_id}/publish'): STAFF_PROBED,
    ('POST', '/staff/triage/bulk'): STAFF_PROBED,
    ('POST', '/staff/triage/overlaps/alternates'): STAFF_PROBED,
    ('POST', '/staff/triage/overlaps/merge'): STAFF_PROBED,
    ('POST', '/staff/triage/rubric'): STAFF_FIELDS,
    ('POST', '/staff/triage/{proposal_id}/decision'): STAFF_PROBED,
    ('POST', '/staff/triage/{proposal_id}/estimate'): STAFF_PROBED,
    ('POST', '/staff/triage/{proposal_id}/notes'): STAFF,
    ('POST', '/staff/triage/{proposal_id}/score'): STAFF_PROBED,
    ('PUT', '/api/v1/groups/{group_id}/proposals/{proposal_id}'): MEMBERS_A,
}


def _build(session: Session, settings) -> tuple[World, dict[str, User]]:  # type: ignore[no-untyped-def]
    owner_a = make_user(session, settings, "owner-a@example.org")
    triage = build_triage(session, owner_a)
    member_a = make_user(session, settings, "member-a@example.org")
    link = groups.invite(session=session, settings=settings, group_id=triage.group.id or 0, actor=owner_a)
    groups.accept_invite(session=session, token=link.link.rsplit("/", 1)[-1], user=member_a)
    owner_b = make_user(session, settings, "owner-b@example.org")
    group_b = groups.create_group(session=session, creator=owner_b, name="Elm Street Neighbours")
    draft = editor.create_proposal(session=session, group_id=triage.group.id or 0, actor=owner_a,
                                   data=ProposalInput(title="A draft of group A"))
    people = {"resident": make_user(session, settings, "resident@example.org"), "member_a": member_a,
              "owner_a": owner_a, "owner_b": owner_b,
              "staff": make_user(session, settings, "staff@city.gov", Role.staff),
              "admin": make_user(session, settings, "admin@city.gov", Role.admin)}
    comment = participation.add_comment(session=session, proposal_id=triage.proposals[0].id or 0,
                                        user=people["resident"], body="Please fix the potholes")
    scenario = scenarios.create_scenario(session=session, actor=people["staff"], name="Base")
    world = World(triage.group.id or 0, group_b.id or 0, draft.id or 0, triage.proposals[0].id or 0,
                  comment.id or 0, scenario.id or 0, member_a.id or 0)
    return world, people


def _url(path: str, world: World) -> str:
    on_group = path.startswith(("/groups/{group_id}/proposals", "/api/v1/groups/{group_id}/proposals"))
    values = {"group_id": world.group_a, "proposal_id": world.draft_a if on_group else world.submitted_a,
              "user_id": world.member_a, "comment_id": world.comment, "scenario_id": world.scenario,
              "token": "not-a-real-token", "number": 1, "version": 1, "layer": "pavement", "z": 14, "x": 4368,
              "y": 6566, "collection_id": "pavement", "feature_id": 1, "dataset_id": "pavement",
              "extension": "csv", "name": "no-such-photo.jpg", "action": "milestones", "job_id": 999999}
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def _outcome(status: int, location: str) -> str:
    if status >= 500:
        return f"error {status}"
    if status == 401 or (status in (302, 303) and location.startswith("/signin")):
        return "in"
    return {400: "re", 403: "no", 404: "nf", 409: "re", 413: "re", 422: "bad"}.get(status, "ok")


def _body(method: str, path: str, world: World) -> dict:  # type: ignore[type-arg]
    """A well-formed request for routes whose checks run in the service, so a 422 for a missing field
    cannot hide whether the viewer was allowed."""
    proposal = {"title": "Matrix probe", "version": 1}
    bodies = {
        ("POST", "/api/v1/groups/{group_id}/proposals"): {"json": proposal},
        ("PUT", "/api/v1/groups/{group_id}/proposals/{proposal_id}"): {"json": proposal},
        ("POST", "/api/v1/groups/{group_id}/proposals/{proposal_id}/submit"): {"params": {"version": 1}},
        ("POST", "/api/v1/groups"): {"json": {"name": "Matrix probe group"}},
        ("POST", "/api/v1/estimates"): {"json": {"assets": []}},
        ("POST", "/groups"): {"data": {"name": "Matrix probe group"}},
        ("POST", "/groups/{group_id}/list/move"): {"data": {"proposal_id": world.draft_a, "direction": "down"}},
        ("POST", "/groups/{group_id}/members/{user_id}/role"): {"data": {"role": "owner"}},
        ("POST", "/groups/{group_id}/proposals"): {"data": {"title": "Matrix probe"}},
        ("POST", "/groups/{group_id}/proposals/{proposal_id}"): {"data": {"version": "1", "title": "Matrix probe"}},
        ("POST", "/groups/{group_id}/proposals/{proposal_id}/submit"): {"data": {"version": "1"}},
        ("POST", "/proposals/{proposal_id}/comments"): {"data": {"body": "Matrix probe"}},
        ("POST", "/admin/users/{user_id}/role"): {"data": {"role": "resident"}},
    }
    return bodies.get((method, path), {})


def _routes(app) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    for context in iter_route_contexts(app.routes):
        for method in sorted((context.methods or set()) - {"HEAD"}):
            yield method, context.path


def test_every_route_answers_each_viewer_as_the_matrix_says(app, session: Session, settings):
    world, people = _build(session, settings)
    browsers: dict[str, TestClient] = {}
    for viewer in VIEWERS:
        browser = browsers[viewer] = TestClient(app, base_url="http://testserver", follow_redirects=False)
        if viewer != "anonymous":
            sign_in(browser, people[viewer].email)
    tokens = {viewer: csrf_of(browser, "/") for viewer, browser in browsers.items()}
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for method, path in _routes(app):
        outcomes = []
        for viewer in VIEWERS:
            browser = browsers[viewer]
            cookies = dict(browser.cookies)
            session.close()  # the app's unit of work nests inside a savepoint of the test's connection
            savepoint = session.bind.begin_nested()  # type: ignore[union-attr]
            try:
                response = browser.request(method, _url(path, world), headers={
                    "X-CSRF-Token": tokens[viewer], "accept": "text/html"}, **_body(method, path, world))
                outcome = _outcome(response.status_code, response.headers.get("location", ""))
                if outcome == "ok" and response.status_code in (302, 303):  # a form refused with a flash?
                    landed = browser.get(response.headers["location"], headers={"accept": "text/html"})
                    if "flash--error" in landed.text:
                        outcome = "re"
            finally:
                session.close()
                savepoint.rollback()
            browser.cookies.clear()
            browser.cookies.update(cookies)
            outcomes.append(outcome)
        found[(method, path)] = tuple(outcomes)
    missing = sorted(set(found) - set(MATRIX))
    listing = "\n".join(f"    ({m!r}, {p!r}): {found[(m, p)]}," for m, p in missing)
    assert not missing, f"routes without an entry in MATRIX (what they answer now):\n{listing}"
    wrong = {route: (MATRIX[route], got) for route, got in found.items() if MATRIX[route] != got}
    assert not wrong, "\n".join(f"{m} {p}: expected {e}, got {g}" for (m, p), (e, g) in wrong.items())
    assert not set(MATRIX) - set(found), f"MATRIX lists routes that no longer exist: {set(MATRIX) - set(found)}"
