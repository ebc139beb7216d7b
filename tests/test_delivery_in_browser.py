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
from app.i18n import money
from models.accounts import Role
from models.proposals import Proposal
from tests.ballot_data import publish_ballot
from tests.conftest import PASSWORD, make_settings, make_user
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
            projects.follow(session=session, user=member, proposal_id=busy)  # mailed each update
            picture = io.BytesIO()
            Image.new("RGB", (800, 600), (90, 120, 150)).save(picture, format="PNG")
            projects.post_update(session=session, settings=settings, actor=staff, proposal_id=busy,
                                 body="Surveyors are measuring the street this week.",
                                 uploads=[photos.Upload("street.png", picture.getvalue(), "Surveyors on the street")])
            conditions.complete(session=session, actor=staff, proposal_id=done)
        live.busy_cents = session.get(Proposal, busy).final_cents or 0  # type: ignore[attr-defined]
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


def test_a_follower_stops_the_mail_from_its_link_on_a_phone(server, browser):
    """The link in the follow mail: a confirmation page, one button, done — no sign-in."""
    from sqlmodel import select

    from models.outbox import OutboxMessage

    with server.session() as session:
        mail = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == "group@example.org")
                            .order_by(OutboxMessage.id.desc())).first()
    link = mail.headers["List-Unsubscribe"].strip("<>")
    path = "/" + link.split("/", 3)[3]  # the configured site address, served here
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{server.url}{path}")
    assert "group@example.org" in page.locator("main").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert not axe_violations(page), axe_violations(page)
    page.get_by_role("button", name="Stop the e-mails").click()
    assert "no longer gets e-mails" in page.get_by_test_id("unsubscribed").inner_text()
    assert not axe_violations(page), axe_violations(page)
    screenshot(page, f"delivery-unsubscribed-390-{server.kind}")
    page.goto(f"{server.url}{path}")  # again: already stopped, nothing to press
    assert "already stopped" in page.get_by_test_id("unsubscribed").inner_text()
    page.close()


def _staff_step(page, button: str, **fields: str) -> None:  # type: ignore[no-untyped-def]
    """Fill a staff form by its fields' ids, press its button; the page says it was done."""
    for selector, value in fields.items():
        field = page.locator(f"#{selector.replace('_', '-')}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    assert page.locator(".conflict[role=alert]").count() == 0, page.locator(".conflict[role=alert]").inner_text()


def test_staff_take_a_project_from_award_to_completion_and_residents_see_it(server, browser):
    """The project under way, still in design: staff award it, build it, pay, post an update and
    complete it on the staff pages; its public page, /projects and the feed follow. (Last in this
    module: the other tests see it in design.)"""
    today = date.today().isoformat()
    walk = server.busy
    award, payment = server.busy_cents * 8 // 10, server.busy_cents * 3 // 10
    overview = browser.new_page(viewport={"width": 1366, "height": 900})
    overview.goto(f"{server.url}/projects")
    complete_before = int(overview.locator('[data-testid="phase-complete"]').inner_text())
    overview.close()

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/signin?next=/staff/delivery/{walk}")
    page.fill("#email", "staff@city.gov")
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"**/staff/delivery/{walk}")
    _staff_step(page, "Add milestone", m_title="Contract signed", m_planned=today)
    _staff_step(page, "Move", to="procurement", move_on=today)
    assert page.get_by_test_id("phase").inner_text() == "Procurement"
    _staff_step(page, "Record the award", a_amount=f"{award / 100:.2f}", a_on=today,
                a_contractor="Classic City Concrete")
    _staff_step(page, "Move", to="construction", move_on=today)
    _staff_step(page, "Record spending", s_amount=f"{payment / 100:.2f}", s_on=today,
                s_what="First payment to the contractor")
    while page.locator("input[name=done_on]").count():  # every milestone reached
        page.locator("input[name=done_on]").first.fill(today)
        page.get_by_role("button", name="Mark reached").first.click()
        page.wait_for_load_state()
    _staff_step(page, "Publish the update", u_body="The crews have finished; the street is open again.")
    page.fill("#complete-on", today)
    page.get_by_role("button", name="Review the condition update…").click()
    page.wait_for_url(f"**/staff/delivery/{walk}/complete*")
    page.get_by_role("button", name="Confirm: complete and update the assets").click()
    page.wait_for_url(f"**/staff/delivery/{walk}")
    assert page.get_by_test_id("phase").inner_text() == "Complete"
    context.close()

    public = browser.new_page(viewport={"width": 390, "height": 844})  # a resident on a phone, signed out
    public.goto(f"{server.url}/projects/{walk}")
    assert public.get_by_test_id("phase").inner_text() == "Complete"
    assert public.get_by_test_id("progress").inner_text() == "100 %"
    assert public.get_by_test_id("spent").inner_text() == money(12_345_00 + payment)
    timeline = public.get_by_test_id("timeline").inner_text()
    for event in ("Procurement began", "Construction began", "Contract awarded to Classic City Concrete",
                  "Milestone reached: Contract signed", "First payment to the contractor"):
        assert event in timeline, (event, timeline)
    assert "The crews have finished" in public.locator(".updates").inner_text()
    before_after = public.get_by_test_id("before-after")
    assert before_after.locator("tbody tr").count() >= 1
    assert public.locator('link[rel=alternate][type="application/atom+xml"]').get_attribute("href") == \
        f"/projects/{walk}/updates.atom"
    assert public.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert not axe_violations(public), axe_violations(public)
    screenshot(public, f"delivery-walk-done-390-{server.kind}")

    public.set_viewport_size({"width": 1366, "height": 900})
    errors = script_errors(public)
    public.goto(f"{server.url}/projects")
    public.wait_for_function(MAP_READY, timeout=45_000)
    assert int(public.locator('[data-testid="phase-complete"]').inner_text()) == complete_before + 1
    phases = public.evaluate("""async (id) => {
        const data = await (await fetch('/projects.geojson')).json();
        return data.features.filter(f => f.properties.proposal_id === id).map(f => f.properties.phase);
    }""", walk)
    assert phases and set(phases) == {"complete"}  # the map colours it as complete
    assert not errors, errors
    feed = public.evaluate("async () => await (await fetch('/projects.atom')).text()")
    assert "The crews have finished" in feed and f"/projects/{walk}#update-" in feed
    public.close()
