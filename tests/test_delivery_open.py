"""Delivery in the open beyond the pages: the ``delivery`` dataset in three formats, its OGC API
collection, the /api/v1 read endpoints, the Atom feeds a paper can follow, and the one-click
unsubscribe link every follow mail carries (RFC 8058)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from pyogrio.raw import read as ogr_read
from sqlmodel import select

from app.delivery import conditions, projects, vote
from app.security import UNSUBSCRIBE_PURPOSE, sign_token
from models.delivery import DeliveryFollow
from models.outbox import OutboxMessage
from models.proposals import Proposal
from tests.ballot_data import Ballot, publish_ballot
from tests.conftest import csrf_of, sign_in

TODAY = date.today()
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def ballot(session, settings, resident, staff) -> Ballot:
    published = publish_ballot(session, settings, resident, staff)
    vote.record(session=session, actor=staff, held_on=TODAY - timedelta(days=30), yes_votes=6120, no_votes=4311)
    return published


def _delivered(session, settings, staff, ballot: Ballot) -> tuple[int, int]:
    """One project complete (with spending and an update), another in construction; their ids."""
    done, building = ballot.on[0], ballot.on[1]
    projects.save_phase_dates(session=session, actor=staff, proposal_id=done, phase="design",
                              planned_start=TODAY - timedelta(days=25), planned_end=TODAY - timedelta(days=15),
                              actual_start=None, actual_end=None)
    projects.add_spending(session=session, actor=staff, proposal_id=done, spent_on=TODAY - timedelta(days=3),
                          amount_cents=12_345_00, description="Paving crew")
    projects.post_update(session=session, settings=settings, actor=staff, proposal_id=done,
                         body="Paving <done> & the road is open.")
    conditions.complete(session=session, actor=staff, proposal_id=done, on=TODAY - timedelta(days=1))
    projects.move_phase(session=session, actor=staff, proposal_id=building, to="construction",
                        on=TODAY - timedelta(days=2))
    projects.post_update(session=session, settings=settings, actor=staff, proposal_id=building,
                         body="Crews are on site.")
    return done, building


def test_delivery_is_a_dataset_in_every_format(client, session, settings, staff, ballot, tmp_path: Path):
    done, building = _delivered(session, settings, staff, ballot)
    collection = client.get("/data/delivery.geojson").json()
    rows = {f["properties"]["proposal_id"]: f for f in collection["features"]}
    assert set(rows) == set(ballot.on)
    finished = rows[done]["properties"]
    assert finished["phase"] == "complete" and finished["progress"] == 100 and finished["actual_end"]
    assert finished["spent_cents"] == 12_345_00 and finished["estimate_cents"] > 0
    assert finished["planned_start"] == (TODAY - timedelta(days=25)).isoformat()
    assert finished["last_update_on"] == TODAY.isoformat()
    assert finished["title"] == session.get(Proposal, done).title
    assert rows[done]["geometry"]["type"] == "Point"
    assert rows[building]["properties"]["phase"] == "construction"
    table = list(csv.DictReader(io.StringIO(client.get("/data/delivery.csv").text.lstrip("\ufeff"))))
    assert {int(r["proposal_id"]) for r in table} == set(ballot.on)
    assert {"lon", "lat", "category_name_es", "district_es", "tier"} <= set(table[0])
    path = tmp_path / "delivery.gpkg"
    path.write_bytes(client.get("/data/delivery.gpkg").content)
    _meta, _fids, geometry, fields = ogr_read(path)
    assert len(geometry) == len(ballot.on)
    assert "delivery" in client.get("/data").text.lower()


def test_nothing_is_published_before_a_passed_vote(client, session, settings, resident, staff):
    publish_ballot(session, settings, resident, staff)
    assert client.get("/data/delivery.csv").status_code == 404
    assert client.get("/api/v1/delivery/projects").json() == []
    assert client.get("/ogc/collections/delivery/items").json()["numberMatched"] == 0
    feed = ET.fromstring(client.get("/projects.atom").content)
    assert feed.findall(f"{ATOM}entry") == []


def test_the_ogc_collection_and_the_api_say_the_same(client, session, settings, staff, ballot):
    done, building = _delivered(session, settings, staff, ballot)
    listed = [c["id"] for c in client.get("/ogc/collections").json()["collections"]]
    assert "delivery" in listed and "pavement" in listed
    assert client.get("/ogc/collections/delivery").json()["title"] == "Delivery of the ballot projects"
    page = client.get("/ogc/collections/delivery/items", params={"phase": "construction"})
    assert page.headers["content-type"].startswith("application/geo+json")
    assert [f["id"] for f in page.json()["features"]] == [building]
    first = client.get("/ogc/collections/delivery/items", params={"limit": 1}).json()
    assert first["numberReturned"] == 1 and any(link["rel"] == "next" for link in first["links"])
    assert client.get("/ogc/collections/delivery/items", params={"limit": "x"}).status_code in (400, 422)
    assert client.get(f"/ogc/collections/delivery/items/{done}").json()["properties"]["phase"] == "complete"
    assert client.get("/ogc/collections/delivery/items/999999").status_code == 404
    assert client.get("/ogc/collections/delivery?f=html", follow_redirects=False).headers["location"] == "/projects"

    api = {p["proposal_id"]: p for p in client.get("/api/v1/delivery/projects").json()}
    assert api[done]["spent_cents"] == 12_345_00 and api[done]["page"] == f"/projects/{done}"
    one = client.get(f"/api/v1/delivery/projects/{done}").json()
    assert one["phase"] == "complete" and [s["amount_cents"] for s in one["spending"]] == [12_345_00]
    assert any("Paving crew" in t["text"] for t in one["timeline"])
    assert one["updates"][0]["body"] == "Paving <done> & the road is open."
    assert one["condition"] and all("before" in a and "after" in a for a in one["condition"])
    assert client.get("/api/v1/delivery/projects/999999").status_code == 404
    schema = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/delivery/projects/{proposal_id}" in schema and "/ogc/collections/delivery/items" in schema


def test_the_atom_feeds_follow_every_public_update(client, session, settings, staff, ballot):
    done, building = _delivered(session, settings, staff, ballot)
    response = client.get("/projects.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)  # well-formed XML, the Atom namespace
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    assert feed.find(f"{ATOM}link[@rel='self']").get("href").endswith("/projects.atom")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    newest = entries[0]
    assert f"/projects/{building}" in newest.find(f"{ATOM}link[@rel='alternate']").get("href")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", newest.find(f"{ATOM}updated").text)
    ids = [e.find(f"{ATOM}id").text for e in entries]
    again = [e.find(f"{ATOM}id").text for e in ET.fromstring(client.get("/projects.atom").content)
             .findall(f"{ATOM}entry")]
    assert ids == again and len(set(ids)) == 2  # stable, distinct
    one = ET.fromstring(client.get(f"/projects/{done}/updates.atom").content)
    (entry,) = one.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}content").text == "Paving <done> & the road is open."  # escaped, read back whole
    assert entry.find(f"{ATOM}id").text in ids
    spanish = client.get(f"/projects/{done}/updates.atom", headers={"Accept-Language": "es"}).content
    assert ET.fromstring(spanish).find(f"{ATOM}title").text.startswith("Novedades de «")
    assert client.get("/projects/999999/updates.atom").status_code == 404
    page = client.get(f"/projects/{done}").text
    assert f'rel="alternate" type="application/atom+xml" href="/projects/{done}/updates.atom"' in page
    assert 'type="application/atom+xml" href="/projects.atom"' in client.get("/projects").text


def _follow_mail(client: TestClient, session, settings, staff, ballot: Ballot, resident) -> tuple[int, str]:
    pid = ballot.on[0]
    projects.follow(session=session, user=resident, proposal_id=pid)
    projects.post_update(session=session, settings=settings, actor=staff, proposal_id=pid, body="Design begins.")
    message = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == resident.email)
                           .order_by(OutboxMessage.id.desc())).first()
    return pid, message


def test_every_follow_mail_unsubscribes_in_one_click(client, session, settings, staff, ballot, resident):
    pid, message = _follow_mail(client, session, settings, staff, ballot, resident)
    url = message.headers["List-Unsubscribe"].strip("<>")
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.body and url.startswith(settings.base_url)
    path = url.removeprefix(settings.base_url.rstrip("/"))
    confirm = client.get(path)
    assert confirm.status_code == 200 and resident.email in confirm.text and "Stop the e-mails" in confirm.text
    assert confirm.headers["cache-control"] == "no-store"
    # the mail client's POST: no cookie, no CSRF token
    with TestClient(client.app) as mail_client:
        done = mail_client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "no longer gets e-mails" in done.text
        assert session.exec(select(DeliveryFollow).where(DeliveryFollow.project_id.is_not(None))).all() == []
        twice = mail_client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert twice.status_code == 200 and "already stopped" in twice.text
    projects.post_update(session=session, settings=settings, actor=staff, proposal_id=pid, body="Bids open.")
    assert session.exec(select(OutboxMessage).where(OutboxMessage.body.contains("Bids open."))).all() == []


def test_the_confirmation_page_stops_the_mail_with_its_own_form(client, session, settings, staff, ballot, resident):
    _pid, message = _follow_mail(client, session, settings, staff, ballot, resident)
    path = message.headers["List-Unsubscribe"].strip("<>").removeprefix(settings.base_url.rstrip("/"))
    assert client.post(path, data={}).status_code == 403  # without the one-click body, CSRF as everywhere
    token = csrf_of(client, path)
    assert "no longer gets e-mails" in client.post(path, data={"csrf_token": token}).text


def test_bad_and_old_links_say_so_and_change_nothing(client, session, settings, staff, ballot, resident):
    pid, message = _follow_mail(client, session, settings, staff, ballot, resident)
    path = message.headers["List-Unsubscribe"].strip("<>").removeprefix(settings.base_url.rstrip("/"))
    cut = client.get(path[:-6])
    assert cut.status_code == 400 and "not valid" in cut.text
    forged = TestClient(client.app).post(path[:-6] + "AAAAAA", data={"List-Unsubscribe": "One-Click"})
    assert forged.status_code == 403  # an unsigned token gets no CSRF exemption
    old = settings.model_copy(update={"delivery": settings.delivery.model_copy(update={"unsubscribe_link_days": 0})})
    client.app.state.settings = old
    try:
        expired_token = sign_token(settings, UNSUBSCRIBE_PURPOSE, [resident.id, 1])
        import time

        time.sleep(1.1)
        expired = client.get(f"/unsubscribe/{expired_token}")
        assert expired.status_code == 400 and "too old" in expired.text
    finally:
        client.app.state.settings = settings
    other = sign_token(settings, "another-purpose", [resident.id, 1])
    assert client.get(f"/unsubscribe/{other}").status_code == 400
    assert session.exec(select(DeliveryFollow)).all() != []  # still following
    sign_in(client, resident.email)
    assert "Unfollow" in client.get(f"/projects/{pid}").text


def test_a_shared_cache_keeps_the_feeds_apart_by_the_language_cookie(client, session, settings, staff, ballot):
    """The feed's words follow the language cookie (or the account), so caches vary on Cookie too."""
    from app import i18n

    done, _building = _delivered(session, settings, staff, ballot)
    english = client.get("/projects.atom")
    client.cookies.set(i18n.LANGUAGE_COOKIE, "es")
    spanish = client.get("/projects.atom")
    assert "delivering the ballot projects" in english.text and "la ejecución de los proyectos" in spanish.text
    for response in (english, spanish, client.get(f"/projects/{done}/updates.atom")):
        vary = {v.strip() for v in response.headers["Vary"].split(",")}
        assert {"Accept-Language", "Cookie"} <= vary and response.headers["Cache-Control"] == "public, max-age=300"


def test_contract_awards_are_in_the_api_the_dataset_and_the_ogc_collection(client, session, settings, staff, ballot):
    done, building = _delivered(session, settings, staff, ballot)
    projects.add_award(session=session, actor=staff, proposal_id=building, awarded_on=TODAY - timedelta(days=4),
                       amount_cents=1_500_00, contractor="Acme Paving", reason="Bids came in high")
    listed = {r["proposal_id"]: r for r in client.get("/api/v1/delivery/projects").json()}
    assert listed[building]["awarded_cents"] == 1_500_00 and listed[done]["awarded_cents"] == 0
    detail = client.get(f"/api/v1/delivery/projects/{building}").json()
    assert detail["awards"] == [{"awarded_on": (TODAY - timedelta(days=4)).isoformat(), "amount_cents": 1_500_00,
                                 "contractor": "Acme Paving", "description": "", "reason": "Bids came in high"}]
    assert detail["spent_cents"] == 0  # an award is a commitment, not spending
    table = {int(r["proposal_id"]): r for r in csv.DictReader(
        io.StringIO(client.get("/data/delivery.csv").text.lstrip("\ufeff")))}
    assert table[building]["awarded_cents"] == "150000" and table[done]["awarded_cents"] == "0"
    feature = client.get(f"/ogc/collections/delivery/items/{building}").json()
    assert feature["properties"]["awarded_cents"] == 1_500_00
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "staff may rename, reorder and add phases" in schema["DeliveryProjectOut"]["properties"]["phase"][
        "description"]
