"""Staff set up the program and edit the cost catalog in a real browser; axe finds no serious problems."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app import accounts
from models.accounts import Role
from tests.conftest import make_settings
from tests.live import axe_violations, launch_chromium, live_server, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("live")) as live:
        with live.session() as session:
            accounts.create_user(session=session, settings=make_settings(str(live.engine.url)),
                                 email="engineer@city.gov", password="a-staff-password", role=Role.staff)
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def sign_in(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/signin")
    page.get_by_label("Email").fill("engineer@city.gov")
    page.get_by_label("Password").fill("a-staff-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/staff")  # staff land on what needs them now


def test_staff_save_the_program_and_see_a_refused_tier_split(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, server)
    page.locator("nav[aria-label=Staff]").get_by_role("link", name="Program").click()
    page.get_by_label("Tier row 2 share in percent").fill("10")
    page.get_by_role("button", name="Save the program").click()
    assert "they add up to 95 %" in page.get_by_role("alert").inner_text()
    page.get_by_label("Tier row 2 share in percent").fill("15")
    page.get_by_role("button", name="Save the program").click()
    expect(page.get_by_text("The program is saved.")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, f"program-{server.kind}")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # wide tables scroll in place
    screenshot(page, f"program-phone-{server.kind}")
    page.close()


def test_staff_edit_a_unit_cost_into_a_new_version(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, server)
    page.locator("nav[aria-label=Staff]").get_by_role("link", name="Cost catalog").click()
    page.get_by_role("button", name="Start from Groundwork's default catalog").click()
    expect(page.get_by_role("cell", name="$1.51 per sq yd")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, f"cost-catalog-{server.kind}")
    page.get_by_role("link", name="Edit (makes a new version)").click()
    page.get_by_label("Row 2 unit cost in dollars").fill("1.80")
    page.get_by_label("Note").fill("2026 bid prices")
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"cost-edit-phone-{server.kind}")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_text("Saved as catalog version 2")).to_be_visible()
    expect(page.get_by_role("cell", name="$1.80 per sq yd")).to_be_visible()
    page.get_by_role("link", name="Version history").click()
    expect(page.get_by_role("link", name="Version 1")).to_be_visible()
    page.close()
