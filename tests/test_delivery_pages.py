"""The delivery pages: staff record the vote (residents cannot), /ballot and the home page show it;
the public overview and project page; following and the mailed update; photo uploads checked,
re-encoded without metadata and served with safe headers; completing from the page moves the map's
figures and tiles while the published export stays byte for byte."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlmodel import select

from app.delivery import projects, vote
from models.delivery import DeliveryPhoto, DeliveryUpdate, VoteResult
from models.outbox import OutboxMessage
from models.proposals import Proposal
from tests.ballot_data import Ballot, publish_ballot
from tests.conftest import csrf_of, make_user, sign_in

TODAY = date.today()


@pytest.fixture
def ballot(session, settings, resident, staff) -> Ballot:
    return publish_ballot(session, settings, resident, staff)


@pytest.fixture
def photo_settings(settings, tmp_path):
    settings.delivery.photo_dir = str(tmp_path / "photos")
    settings.delivery.max_photo_mb = 1
    return settings


def _vote(client, **fields):
    data = {"held_on": (TODAY - timedelta(days=1)).isoformat(), "yes_votes": "6,120", "no_votes": "4311",
            "source_url": "https://elections.example.gov/result", **fields}
    return client.post("/staff/delivery/vote", data={**data, "csrf_token": csrf_of(client, "/staff/delivery")})


def _photo(fmt: str = "PNG", size=(2400, 1200)) -> bytes:
    image = Image.new("RGB", size, (120, 160, 90))
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera make
    image.save(out, format=fmt, exif=exif.tobytes())
    return out.getvalue()


def test_staff_record_the_vote_and_residents_see_it_on_the_ballot_and_home_page(client, session, ballot, staff,
                                                                               settings):
    other = make_user(session, settings, "neighbour@example.org")
    sign_in(client, other.email)
    assert client.get("/staff/delivery").status_code == 403
    client.cookies.clear()
    sign_in(client, staff.email)
    refused = _vote(client, no_votes="lots")
    assert refused.status_code == 422 and "whole number" in refused.text
    assert session.exec(select(VoteResult)).first() is None
    assert _vote(client).status_code == 303
    for page in ("/ballot", "/"):
        shown = client.get(page).text
        assert "Voters approved the list on" in shown and "6,120" in shown and "58.7%" in shown
        assert 'href="https://elections.example.gov/result"' in shown
    overview = client.get("/projects").text
    assert f'data-testid="phase-design">{len(ballot.on)}<' in overview
    client.cookies.set("gw_lang", "es")
    assert "Los votantes aprobaron la lista" in client.get("/ballot").text


def test_a_failed_vote_opens_no_delivery(client, session, ballot, staff):
    vote.record(session=session, actor=staff, held_on=TODAY, yes_votes=10, no_votes=20)
    assert "Voters did not approve the list" in client.get("/ballot").text
    assert client.get(f"/projects/{ballot.on[0]}").status_code == 404
    assert "Delivery starts once voters approve" in client.get("/projects").text


def test_residents_follow_a_project_and_get_each_update_by_mail(client, session, ballot, staff, settings,
                                                                photo_settings):
    vote.record(session=session, actor=staff, held_on=TODAY, yes_votes=20, no_votes=10)
    pid = ballot.on[0]
    follower = make_user(session, settings, "follower@example.org")
    sign_in(client, follower.email)
    page = client.get(f"/projects/{pid}")
    assert "Follow: e-mail me each update" in page.text
    client.post(f"/projects/{pid}/follow", data={"csrf_token": csrf_of(client, f"/projects/{pid}")})
    assert "Unfollow" in client.get(f"/projects/{pid}").text
    projects.post_update(session=session, settings=settings, actor=staff, proposal_id=pid,
                         body="Crews start milling on Monday.")
    sent = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == follower.email)).all()
    assert len(sent) == 1 and "Crews start milling on Monday." in sent[0].body
    assert "Actualización" in sent[0].subject and f"/projects/{pid}" in sent[0].body
    client.post(f"/projects/{pid}/follow", data={"stop": "1", "csrf_token": csrf_of(client, f"/projects/{pid}")})
    projects.post_update(session=session, settings=settings, actor=staff, proposal_id=pid, body="Done milling.")
    assert len(session.exec(select(OutboxMessage).where(OutboxMessage.recipient == follower.email)).all()) == 1
    shown = client.get(f"/projects/{pid}").text
    assert "Done milling." in shown and "Crews start milling on Monday." in shown
    assert "Delivery" in client.get(f"/proposals/{pid}").text  # the proposal's page links its delivery


def test_photos_are_re_encoded_without_metadata_and_served_safely(client, session, ballot, staff, photo_settings):
    vote.record(session=session, actor=staff, held_on=TODAY, yes_votes=20, no_votes=10)
    pid = ballot.on[0]
    sign_in(client, staff.email)
    token = csrf_of(client, f"/staff/delivery/{pid}")
    not_image = client.post(f"/staff/delivery/{pid}/updates", data={
        "csrf_token": token, "body": "Site fenced", "alt_text": "The fence"},
        files={"photo": ("fence.jpg", b"<svg onload=alert(1)>", "image/jpeg")})
    assert not_image.status_code == 422 and "not a JPEG, PNG or WebP photo" in not_image.text
    too_big = client.post(f"/staff/delivery/{pid}/updates", data={
        "csrf_token": token, "body": "Site fenced", "alt_text": "The fence"},
        files={"photo": ("big.png", b"\x89PNG" + b"0" * (1024 * 1024 + 10), "image/png")})
    assert too_big.status_code == 422 and "larger than 1 MB" in too_big.text
    assert session.exec(select(DeliveryUpdate)).first() is None  # refused: nothing written
    posted = client.post(f"/staff/delivery/{pid}/updates", data={
        "csrf_token": token, "body": "Site fenced", "alt_text": "The fence along Main Street"},
        files={"photo": ("fence.png", _photo(), "image/png")})
    assert posted.status_code == 303
    photo = session.exec(select(DeliveryPhoto)).one()
    assert b"SecretCam" in _photo() and (photo.width, photo.height) == (1600, 800)
    served = client.get(f"/projects/photos/{photo.stored_name}")
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in served.headers["content-security-policy"]
    assert b"SecretCam" not in served.content and not Image.open(io.BytesIO(served.content)).getexif()
    assert client.get("/projects/photos/..%2Fsecret.jpg").status_code == 404
    assert 'alt="The fence along Main Street"' in client.get(f"/projects/{pid}").text


def test_completing_from_the_page_moves_the_map_and_tiles_but_not_the_published_list(client, session, ballot,
                                                                                    staff):
    vote.record(session=session, actor=staff, held_on=TODAY, yes_votes=20, no_votes=10)
    pid = next(p for p in ballot.on if session.get(Proposal, p).category_key == "pavement")
    export = client.get("/ballot/export.json")
    summary = client.get("/map/summary")
    tilejson = client.get("/tiles/pavement.json")
    sign_in(client, staff.email)
    review = client.get(f"/staff/delivery/{pid}/complete?on={TODAY.isoformat()}")
    assert review.status_code == 200 and "pci 100" in review.text.lower()
    done = client.post(f"/staff/delivery/{pid}/complete",
                       data={"on": TODAY.isoformat(), "csrf_token": csrf_of(client, f"/staff/delivery/{pid}")})
    assert done.status_code == 303
    after = client.get("/map/summary")
    assert after.headers["etag"] != summary.headers["etag"] and after.text != summary.text
    assert client.get("/tiles/pavement.json").headers["etag"] != tilejson.headers["etag"]
    again = client.get("/ballot/export.json")
    assert again.content == export.content
    assert again.headers["x-content-sha256"] == export.headers["x-content-sha256"]
    public = client.get(f"/projects/{pid}").text
    assert 'data-testid="before-after"' in public and "PCI 100" in public
    assert 'data-testid="phase-complete">1<' in client.get("/projects").text
