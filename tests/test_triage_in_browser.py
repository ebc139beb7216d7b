"""Staff take submitted proposals from triage to a published ballot list in a real browser."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest
from playwright.sync_api import expect

from app import accounts
from models.accounts import Role
from tests.conftest import make_settings
from tests.live import axe_violations, launch_chromium, live_server, screenshot
from tests.triage_data import build_triage, small_program

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("live")) as live:
        with live.session() as session:
            settings = make_settings(str(live.engine.url))
            member = accounts.create_user(session=session, settings=settings, email="group@example.org",
                                          password="a-group-password", role=Role.resident)
            data = build_triage(session, member)
            costs = [p.final_cents for p in data.proposals]
            small_program(session, None, costs[0] + costs[2] + costs[3])
            accounts.create_user(session=session, settings=settings, email="reviewer@city.gov",
                                 password="a-staff-password", role=Role.staff, display_name="Rita Reviewer")
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def _no_serious(page, where):
    violations = axe_violations(page)
    assert violations == [], f"{where}: {[(v['id'], v['help']) for v in violations]}"


def test_staff_go_from_triage_to_a_published_ballot_list(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url + "/signin")
    page.get_by_label("Email").fill("reviewer@city.gov")
    page.get_by_label("Password").fill("a-staff-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/staff")  # staff land on what needs them now

    page.get_by_role("link", name="Triage").first.click()
    page.wait_for_url(server.url + "/staff/triage")
    assert page.locator("#triage-table tbody tr").count() == 4
    _no_serious(page, "triage board")
    for box in page.locator("#triage-table input[type=checkbox]").all():
        box.check()
    page.get_by_label("New state").select_option("feasible")
    page.get_by_role("button", name="Change state").click()
    page.wait_for_url(server.url + "/staff/triage")
    assert "4 proposals now “Feasible”" in page.content()
    screenshot(page, f"triage-board-{server.kind}")

    page.get_by_role("link", name="Scenarios").first.click()
    page.get_by_label("Name").fill("Ballot at 100 %")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("button", name="Optimize").click()
    expect(page.get_by_role("heading", name="Optimum (applied to the scenario)")).to_be_visible()
    expect(page.get_by_role("heading", name="Greedy by score (for comparison)")).to_be_visible()
    assert "Binding:" in page.content()
    screenshot(page, f"scenario-optimized-{server.kind}")
    _no_serious(page, "scenario page")
    scenario_url = page.url.rsplit("/optimize", 1)[0]
    missing = page.locator(".rule-broken li", has_text="need a public reason").inner_text()
    left_out = [part.split(" ")[0].lstrip("#") for part in missing.split("first: ")[1].split(", ")]

    for proposal_id in left_out:
        page.goto(f"{server.url}/staff/triage/{proposal_id}")
        page.get_by_label("Public notes").fill("Did not fit the budget; a strong candidate next time.")
        page.get_by_role("button", name="Save notes").click()
        assert "Review notes saved." in page.content()
    page.wait_for_function("document.querySelector('#review-map canvas') !== null")
    page.wait_for_timeout(1500)  # let the condition tiles draw
    screenshot(page, f"triage-review-{server.kind}")
    _no_serious(page, "review page")

    page.goto(server.url + "/staff/scenarios")
    page.get_by_label("Name").fill("Ballot at 150 %")
    page.get_by_label("Target share of revenue (%)").fill("150")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("button", name="Optimize").click()
    page.goto(server.url + "/staff/scenarios")
    page.get_by_role("button", name="Compare").click()
    assert page.get_by_role("heading", name="Ballot at 100 % and Ballot at 150 %").is_visible()
    _no_serious(page, "compare page")
    screenshot(page, f"scenario-compare-{server.kind}")

    page.goto(scenario_url)
    page.get_by_role("link", name="Review and publish…").click()
    assert page.get_by_text("This cannot be undone").is_visible()  # says what will happen first
    _no_serious(page, "publish confirmation")
    page.get_by_role("button", name=re.compile(r"Yes, publish version \d+")).click()
    page.wait_for_url(server.url + "/ballot")
    shown_hash = page.locator("#ballot-hash").inner_text()
    export = httpx.get(server.url + "/ballot/export.json")
    assert hashlib.sha256(export.content).hexdigest() == shown_hash
    assert "Did not fit the budget" in page.content()
    _no_serious(page, "ballot page")
    screenshot(page, f"ballot-{server.kind}")
    page.close()
