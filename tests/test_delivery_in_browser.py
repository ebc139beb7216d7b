"""Delivery as a resident meets it, in Chromium on both databases: after a passed vote with one
project under way (a milestone, spending, an update with a photo) and one complete, /projects draws
its map of projects by phase without script errors; /projects and a project's page fit a 390 px
phone without sideways scrolling and have no serious accessibility violations."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from app.delivery import conditions, photos, projects, vote
from models.accounts import Role
from models.proposals import Proposal
from tests.ballot_data import publish_ballot
from tests.conftest import make_settings, make_user
from tests.live import axe_violations, launch_chromium, live_server, screenshot, script_errors

pytestmark = pytest.mark.browser
MAP_READY = "() => document.querySelector('#delivery-map')?.dataset.ready === 'true'"


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    photo_dir = tmp_path_factory.mktemp("photos")
    with live_server(request.param, tmp_path_factory.mktemp("delivery"),
                     delivery={"photo_dir": str(photo_dir)}) as live:
        settings = make_settings("sqlite://", delivery={"photo_dir": str(photo_dir)})
        with live.session() as session:
            member = make_user(session, settings, "group@example.org")
            staff = make_user(session, settings, "staff@city.gov", Role.staff)
            ballot = publish_ballot(session, settings, member, staff)
            vote.record(session=session, actor=staff, held_on=date.today(), yes_votes=7, no_votes=3)
            done = next(p for p in ballot.on if session.get(Proposal, p).category_key == "pavement")
            busy = max((p for p in ballot.on if p != done), key=lambda p: session.get(Proposal, p).final_cents or 0)
            projects.add_milestone(session=session, actor=staff, proposal_id=busy, title="Design approved",
                                   planned_on=date.today())
            projects.add_spending(session=session, actor=staff, proposal_id=busy, spent_on=date.today(),
                                  amount_cents=12_345_00, description="Survey and design contract")
            picture = io.BytesIO()
            Image.new("RGB", (800, 600), (90, 120, 150)).save(picture, format="PNG")
            projects.post_update(session=session, settings=settings, actor=staff, proposal_id=busy,
                                 body="Surveyors are measuring the street this week.",
                                 uploads=[photos.Upload("street.png", picture.getvalue(), "Surveyors on the street")])
            conditions.complete(session=session, actor=staff, proposal_id=done)
        live.busy, live.done = busy, done  # type: ignore[attr-defined]
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def test_the_overview_draws_projects_by_phase(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = script_errors(page)
    page.goto(f"{server.url}/projects")
    page.wait_for_function(MAP_READY, timeout=45_000)
    assert page.locator('[data-testid="phase-complete"]').inner_text() == "1"
    assert not errors, errors
    screenshot(page, f"delivery-overview-{server.kind}")
    page.close()


@pytest.mark.parametrize("which", ["overview", "busy", "done"])
def test_delivery_pages_fit_a_phone_and_pass_axe(server, browser, which):
    path = {"overview": "/projects", "busy": f"/projects/{server.busy}", "done": f"/projects/{server.done}"}[which]
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{server.url}{path}")
    if which == "busy":
        photo = page.locator("img[alt='Surveyors on the street']")
        photo.scroll_into_view_if_needed()  # loading="lazy": it loads when it comes into view
        photo.evaluate("img => img.complete && img.naturalWidth ? true : new Promise(done => "
                       "img.addEventListener('load', () => done(true), {once: true}))")
        assert photo.evaluate("img => img.naturalWidth") == 800
    if which == "done":
        assert "PCI 100" in page.locator('[data-testid="before-after"]').inner_text()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"{path} is {width} px wide on a 390 px phone"
    assert not axe_violations(page), axe_violations(page)
    screenshot(page, f"delivery-{which}-390-{server.kind}")
    page.close()
