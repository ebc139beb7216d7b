"""Publishing is confirmed; a concurrent second publish is a clear conflict; amendments publish new
versions chained to their predecessors' hashes, which `groundwork verify` and /ballot/verify check."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select
from typer.testing import CliRunner

import app.commands.verify as verify_command
from app.cli import cli
from app.db import make_engine
from app.i18n import money
from app.main import create_app
from app.scenarios import ScenarioError, amend, publish
from app.scenarios.amend import Line
from models.accounts import Role
from models.outbox import OutboxMessage
from models.proposals import Proposal, ProposalTransition
from models.triage import PublishedList
from tests.ballot_data import Ballot, publish_ballot, ready_to_publish
from tests.conftest import csrf_of, fresh_database, make_settings, make_user, post_form, sign_in


def _items(published: PublishedList) -> dict[int, dict]:
    return {i["proposal_id"]: i for i in json.loads(published.export)["items"]}


# -- publishing is confirmed ------------------------------------------------------------------

def test_publishing_asks_for_a_confirmation_that_says_what_will_happen(client, session, resident, staff):
    data, scenario_id = ready_to_publish(session, resident, staff)
    plan = publish.plan(session=session, scenario_id=scenario_id)
    sign_in(client, staff.email)
    detail = client.get(f"/staff/scenarios/{scenario_id}").text
    assert f'href="/staff/scenarios/{scenario_id}/publish"' in detail  # a second step, not a one-click publish
    page = client.get(f"/staff/scenarios/{scenario_id}/publish")
    assert page.status_code == 200
    said = page.text
    assert "version 1" in said and f"{plan.projects} projects" in said and money(plan.total_cents) in said
    assert "email 1 member of <strong>1 group</strong>" in said and "cannot be undone" in said
    assert "only by an amendment" in said and 'name="confirm" value="yes"' in said
    token = csrf_of(client, f"/staff/scenarios/{scenario_id}/publish")
    unconfirmed = client.post(f"/staff/scenarios/{scenario_id}/publish", data={"csrf_token": token})
    assert unconfirmed.status_code == 422 and "confirm below" in unconfirmed.text
    assert session.exec(select(PublishedList)).first() is None
    stale = client.post(f"/staff/scenarios/{scenario_id}/publish", data={
        "csrf_token": token, "confirm": "yes", "scenario_version": str(plan.scenario_version - 1)})
    assert stale.status_code == 409 and "changed after you reviewed it" in stale.text
    assert session.exec(select(PublishedList)).first() is None
    done = client.post(f"/staff/scenarios/{scenario_id}/publish",
                       data={"csrf_token": token, "confirm": "yes", "scenario_version": str(plan.scenario_version)})
    assert done.status_code == 303 and done.headers["location"] == "/ballot"
    assert len(session.exec(select(PublishedList)).all()) == 1


def test_publishing_and_amending_follow_the_viewers_language(client, session, resident, staff):
    _data, scenario_id = ready_to_publish(session, resident, staff)
    plan = publish.plan(session=session, scenario_id=scenario_id)
    sign_in(client, staff.email)
    assert post_form(client, "/language", {"lang": "es", "next": "/"}, page="/").status_code == 303
    detail = client.get(f"/staff/scenarios/{scenario_id}").text
    assert "Publicar como la lista de la boleta" in detail and "Revisar y publicar…" in detail
    said = client.get(f"/staff/scenarios/{scenario_id}/publish").text
    assert f"<strong>{plan.projects} proyectos</strong>" in said and "¿Publicar “" in said
    assert "enviar un correo electrónico a 1 miembro de <strong>1 grupo</strong>" in said
    assert "Esto no se puede deshacer" in said and "Sí, publicar la versión 1" in said and "Cancel<" not in said
    token = csrf_of(client, f"/staff/scenarios/{scenario_id}/publish")
    unconfirmed = client.post(f"/staff/scenarios/{scenario_id}/publish", data={"csrf_token": token})
    assert unconfirmed.status_code == 422 and "No se publicó nada: confirme abajo" in unconfirmed.text
    done = client.post(f"/staff/scenarios/{scenario_id}/publish",
                       data={"csrf_token": token, "confirm": "yes", "scenario_version": str(plan.scenario_version)})
    assert done.status_code == 303
    assert "Se publicó la versión 1 de la lista de la boleta" in client.get("/ballot").text

    amending = client.get("/staff/ballot/amend").text
    assert "Enmendar la lista de la boleta (versión 1 → 2)" in amending and "Motivo público de la enmienda" in amending
    listed = json.loads(publish.latest(session=session).export)["items"][0]["proposal_id"]
    refused = client.post("/staff/ballot/amend", data={"csrf_token": csrf_of(client, "/staff/ballot/amend"),
                                                       "base_version": "1", "listed": str(listed), "reason": "x"})
    assert refused.status_code == 422 and f"No se publicó: Elija un nivel para #{listed}." in refused.text
    assert post_form(client, "/language", {"lang": "en", "next": "/"}, page="/").status_code == 303
    assert "Amend the ballot list (version 1 → 2)" in client.get("/staff/ballot/amend").text


def test_publish_and_amendment_refusals_follow_the_viewers_language(client, session, ballot, staff):
    """The problems a staff member must fix are whole sentences in their language; the list stays as published."""
    old = _items(ballot.published)
    same = {"base_version": "1", "listed": [str(pid) for pid in old], "reason": "Nothing really", "confirm": "yes"}
    for pid, item in old.items():
        same[f"tier_{pid}"], same[f"cost_{pid}"] = str(item["tier"]), f"{item['cost_cents'] / 100:.2f}"
    sign_in(client, staff.email)
    publish_again = f"/staff/scenarios/{ballot.scenario_id}/publish"
    english = post_form(client, publish_again, {"confirm": "yes"}, page="/staff/scenarios")
    assert english.status_code == 409 and "The ballot list was already published (version 1, " in english.text
    refused = client.post("/staff/ballot/amend", data={**same, "csrf_token": csrf_of(client, "/staff/ballot/amend")})
    assert refused.status_code == 422
    assert "The amended list is the same as version 1: change a project, its cost or its tier." in refused.text

    assert post_form(client, "/language", {"lang": "es", "next": "/"}, page="/").status_code == 303
    spanish = post_form(client, publish_again, {"confirm": "yes"}, page="/staff/scenarios")
    assert spanish.status_code == 409 and "La lista de la boleta ya se publicó (versión 1, " in spanish.text
    assert "already published" not in spanish.text
    refused = client.post("/staff/ballot/amend", data={**same, "csrf_token": csrf_of(client, "/staff/ballot/amend")})
    assert refused.status_code == 422
    assert "La lista enmendada es igual a la versión 1: cambie un proyecto, su costo o su nivel." in refused.text
    assert client.get("/ballot/export.json").content == ballot.published.export.encode()  # hashed text unchanged


@pytest.mark.parametrize("kind", ["spatialite", "postgis"])
def test_two_staff_publishing_at_the_same_moment_get_one_list_and_a_clear_conflict(kind, tmp_path, monkeypatch):
    """Real connections: on PostGIS two threads pass the checks together and race to write; on
    SQLite a publish holds the write lock from its BEGIN IMMEDIATE, so the second one, pressed between the
    first one's checks and its write, waits and then finds the list published."""
    url, remove = fresh_database(kind, tmp_path)
    engine = make_engine(url)
    try:
        settings = make_settings(url)
        with Session(engine, expire_on_commit=False) as setup:
            member = make_user(setup, settings, "member@example.org")
            first = make_user(setup, settings, "first@city.gov", Role.staff)
            make_user(setup, settings, "second@city.gov", Role.staff)
            _data, scenario_id = ready_to_publish(setup, member, first)
            version = publish.plan(session=setup, scenario_id=scenario_id).scenario_version
        app = create_app(settings, engine=engine, check_schema=False)
        clients = {}
        for email in ("first@city.gov", "second@city.gov"):
            clients[email] = client = TestClient(app, base_url="http://testserver", follow_redirects=False)
            sign_in(client, email)
        page = f"/staff/scenarios/{scenario_id}/publish"
        forms = {email: {"confirm": "yes", "scenario_version": str(version), "csrf_token": csrf_of(c, page)}
                 for email, c in clients.items()}  # both have the confirmation page open

        def press(email: str):  # type: ignore[no-untyped-def]
            return clients[email].post(page, data=forms[email])

        original = publish.readiness
        responses = {}
        if kind == "postgis":
            barrier = threading.Barrier(2, timeout=30)
            waited = threading.local()

            def together(**kwargs):  # type: ignore[no-untyped-def]
                found = original(**kwargs)
                if not getattr(waited, "done", False):
                    waited.done = True
                    barrier.wait()  # both have checked that nothing is published yet
                return found

            monkeypatch.setattr(publish, "readiness", together)
            threads = [threading.Thread(target=lambda e=e: responses.__setitem__(e, press(e))) for e in clients]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        else:
            second: list[threading.Thread] = []

            def meanwhile(**kwargs):  # type: ignore[no-untyped-def]
                found = original(**kwargs)
                if not second:
                    monkeypatch.setattr(publish, "readiness", original)
                    second.append(threading.Thread(
                        target=lambda: responses.__setitem__("second@city.gov", press("second@city.gov"))))
                    second[0].start()
                    second[0].join(1.0)  # it waits for the first's unit of work (BEGIN IMMEDIATE, app.db)
                    assert second[0].is_alive()
                return found

            monkeypatch.setattr(publish, "readiness", meanwhile)
            responses["first@city.gov"] = press("first@city.gov")
            second[0].join(60)
        codes = sorted(r.status_code for r in responses.values())
        assert codes == [303, 409], {e: (r.status_code, r.text[-400:]) for e, r in responses.items()}
        loser = next(r for r in responses.values() if r.status_code == 409)
        if kind == "postgis":
            assert "at the same moment" in loser.text and "nothing of yours was written" in loser.text
        else:  # it began once the first had committed, so it finds the list published
            assert "Not published: The ballot list was already published (version 1" in loser.text
        with Session(engine) as check:
            lists = check.exec(select(PublishedList)).all()
            assert len(lists) == 1
            states = {p.state for p in check.exec(select(Proposal))}
            assert states == {"on_ballot", "not_selected"}
            moves = check.exec(select(ProposalTransition).where(ProposalTransition.to_state == "on_ballot")).all()
            assert len(moves) == len(_items(lists[0]))  # the loser moved nothing
        for c in clients.values():
            c.close()
    finally:
        engine.dispose()
        remove()  # type: ignore[operator]


# -- amendments ---------------------------------------------------------------------------------

@pytest.fixture
def ballot(session, settings, resident, staff) -> Ballot:
    return publish_ballot(session, settings, resident, staff)


def _amended_lines(ballot: Ballot, v1: dict[int, dict]) -> list[Line]:
    """Drop the first project, add the one left out at the first one's cost, and trim the dearest kept one's by 10 %."""
    dropped, kept, added = ballot.on[0], ballot.on[1:], ballot.off[0]
    lines = [Line(added, 1, v1[dropped]["cost_cents"])]
    for pid in kept:
        cents = v1[pid]["cost_cents"]
        lines.append(Line(pid, v1[pid]["tier"], cents * 9 // 10 if pid == _trimmed(ballot, v1) else cents))
    return lines


def _trimmed(ballot: Ballot, v1: dict[int, dict]) -> int:
    return max(ballot.on[1:], key=lambda pid: v1[pid]["cost_cents"])


def test_an_amendment_is_a_new_version_chained_to_the_first_which_stays_as_published(
        client, session, settings, ballot, staff, resident):
    v1 = ballot.published
    v1_bytes = client.get("/ballot/export.json").content
    assert hashlib.sha256(v1_bytes).hexdigest() == v1.content_hash
    old = _items(v1)
    dropped, added, trimmed = ballot.on[0], ballot.off[0], _trimmed(ballot, old)
    reason = "The commission moved the mid-Main repaving ahead of the west block (vote of 12 May)."
    v2 = amend.amend(session=session, settings=settings, actor=staff, base_version=1,
                     lines=_amended_lines(ballot, old), reason=reason)
    assert v2.version == 2
    export = client.get("/ballot/export.json")
    document = export.json()
    assert hashlib.sha256(export.content).hexdigest() == v2.content_hash == export.headers["x-content-sha256"]
    assert document["previous_hash"] == v1.content_hash and document["reason"] == reason
    assert document["version"] == 2 and export.text == publish.canonical_json(document)
    assert client.get("/ballot/v/1/export.json").content == v1_bytes  # version 1 exactly as published
    assert {i["proposal_id"] for i in document["items"]} == set(ballot.on[1:]) | {added}
    assert {n["proposal_id"]: n["reason"] for n in document["not_selected"]} == {dropped: reason}
    session.expire_all()
    assert session.get(Proposal, dropped).state == "not_selected"
    assert session.get(Proposal, added).state == "on_ballot"
    note = session.exec(select(ProposalTransition).where(ProposalTransition.proposal_id == dropped)
                        .order_by(ProposalTransition.id.desc())).first()
    assert reason in note.public_note
    page = client.get("/ballot").text
    assert "What changed since version 1" in page and reason in page
    assert f"Added: {session.get(Proposal, added).title}" in page
    assert f"Removed: {session.get(Proposal, dropped).title}" in page
    assert f"Cost changed: {session.get(Proposal, trimmed).title}: {money(old[trimmed]['cost_cents'])} → " \
           f"{money(old[trimmed]['cost_cents'] * 9 // 10)}" in page
    earlier = client.get("/ballot/v/1").text
    assert "an earlier version of the ballot list" in earlier and v1.content_hash in earlier
    verified = client.get("/ballot/verify").text
    assert "every hash matches and the chain is intact" in verified and v2.content_hash in verified
    mails = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == resident.email,
                                                     OutboxMessage.subject.contains("amended"))).all()
    assert len(mails) == 1 and reason in mails[0].body and "was removed" in mails[0].body
    # once the amendment is written, the database holds the proposals to the newest version again
    with pytest.raises(DBAPIError, match="cannot change"), session.begin_nested():
        session.connection().execute(text("UPDATE proposal SET state = 'on_ballot' WHERE id = :id"), {"id": dropped})


def test_an_amendment_needs_a_public_reason_and_a_real_change_and_keeps_the_rules(client, session, settings, ballot,
                                                                                   staff):
    old = _items(ballot.published)
    lines = _amended_lines(ballot, old)
    same = [Line(pid, i["tier"], i["cost_cents"]) for pid, i in old.items()]
    over = [*same, Line(ballot.off[0], 1, 10_000_000_00)]
    cases = [(lines, "  ", "public reason"), (same, "Nothing really", "is the same as version 1"),
             (over, "Add everything", "breaks a rule"), ([], "Empty it", "at least one project")]
    for chosen, reason, problem in cases:
        with pytest.raises(ScenarioError, match=problem):
            amend.amend(session=session, settings=settings, actor=staff, base_version=1, lines=chosen, reason=reason)
    with pytest.raises(publish.PublishConflict, match="published after you started"):
        amend.amend(session=session, settings=settings, actor=staff, base_version=0, lines=lines, reason="Late")
    assert len(session.exec(select(PublishedList)).all()) == 1
    assert client.get("/ballot/export.json").content == ballot.published.export.encode()


def test_staff_amend_on_the_page_with_a_confirmation(client, session, ballot, staff):
    old = _items(ballot.published)
    sign_in(client, staff.email)
    page = client.get("/staff/ballot/amend")
    assert page.status_code == 200 and "version 1 → 2" in page.text
    assert f'name="listed" value="{ballot.off[0]}"' in page.text  # the project left out can be added
    token = csrf_of(client, "/staff/ballot/amend")
    lines = _amended_lines(ballot, old)
    form: dict[str, object] = {"csrf_token": token, "base_version": "1", "listed": [str(x.proposal_id) for x in lines],
                               "reason": "Commission amendment"}
    for x in lines:
        form[f"tier_{x.proposal_id}"] = str(x.tier)
        form[f"cost_{x.proposal_id}"] = f"{x.cost_cents / 100:.2f}"
    review_page = client.post("/staff/ballot/amend", data=form)
    assert review_page.status_code == 200 and "Publish version 2 of the ballot list?" in review_page.text
    assert "Removed: #" in review_page.text and "cannot be undone" in review_page.text
    assert len(session.exec(select(PublishedList)).all()) == 1  # reviewing writes nothing
    no_reason = client.post("/staff/ballot/amend", data={**form, "reason": "", "confirm": "yes"})
    assert no_reason.status_code == 422 and "public reason" in no_reason.text
    done = client.post("/staff/ballot/amend", data={**form, "confirm": "yes"})
    assert done.status_code == 303
    assert publish.latest(session=session).version == 2
    again = client.post("/staff/ballot/amend", data={**form, "confirm": "yes"})
    assert again.status_code == 409 and "published after you started" in again.text


# -- verifying ----------------------------------------------------------------------------------

def test_groundwork_verify_checks_files_urls_and_the_chain(client, session, settings, ballot, staff, tmp_path: Path,
                                                          monkeypatch):
    amend.amend(session=session, settings=settings, actor=staff, base_version=1,
                lines=_amended_lines(ballot, _items(ballot.published)), reason="Commission amendment")
    v1, v2 = tmp_path / "v1.json", tmp_path / "v2.json"
    v1.write_bytes(client.get("/ballot/v/1/export.json").content)
    v2.write_bytes(client.get("/ballot/v/2/export.json").content)
    runner = CliRunner()
    ok = runner.invoke(cli, ["verify", str(v1), str(v2)])
    assert ok.exit_code == 0, ok.output
    assert "chain is intact" in ok.output and ballot.published.content_hash in ok.output
    forged = json.loads(v1.read_bytes())
    forged["items"][0]["cost_cents"] += 1
    v1.write_text(publish.canonical_json(forged), encoding="utf-8")  # canonical, but not what was published
    broken = runner.invoke(cli, ["verify", str(v1), str(v2)])
    assert broken.exit_code == 1 and "the chain is broken" in broken.output
    v2.write_bytes(v2.read_bytes() + b"\n")
    assert "not in canonical form" in runner.invoke(cli, ["verify", str(v2)]).output
    monkeypatch.setattr(verify_command, "_client", lambda: client)
    site = runner.invoke(cli, ["verify", "http://testserver/"])
    assert site.exit_code == 0 and "All 2 versions verified and the chain is intact" in site.output
    one = runner.invoke(cli, ["verify", "http://testserver/ballot/v/2/export.json"])
    assert one.exit_code == 0 and "matches the published hash" in one.output
