"""The pavement plan on a 390 px phone: the public backlog and a staff scenario fit without sideways
scrolling, and axe finds no serious problems."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app import accounts
from models.accounts import Role
from tests.conftest import make_settings
from tests.live import axe_violations, launch_chromium, live_server, screenshot, script_errors
from tests.test_pavement_plan import CITY, YEAR, add_segments

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("live")) as live:
        with live.session() as session:
            accounts.create_user(session=session, settings=make_settings(str(live.engine.url)),
                                 email="engineer@city.gov", password="a-staff-password", role=Role.staff)
            add_segments(session, CITY)
            session.commit()
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def test_the_plan_and_a_staff_scenario_fit_a_phone(server, browser):
    page = browser.new_page(viewport=PHONE)
    errors = script_errors(page)
    page.goto(server.url + "/plan")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # wide tables scroll in place
    assert axe_violations(page) == []
    screenshot(page, f"plan-phone-{server.kind}")

    page.goto(server.url + "/signin")
    page.get_by_label("Email").fill("engineer@city.gov")
    page.get_by_label("Password").fill("a-staff-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/staff")
    page.goto(server.url + "/staff/plan")
    page.get_by_label("First year").fill(str(YEAR))
    page.get_by_label("Years", exact=True).fill("3")
    page.get_by_label("Yearly budget ($)").fill("150,000")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("run-table").get_by_role("rowheader", name=str(YEAR + 2))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    screenshot(page, f"staff-plan-phone-{server.kind}")
    assert errors == []
    page.close()
