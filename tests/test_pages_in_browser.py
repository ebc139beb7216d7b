"""The foundation pages in a real browser: register, sign in as admin, accessibility."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app import accounts
from models.accounts import Role
from tests.conftest import make_settings
from tests.live import axe_violations, launch_chromium, live_server, register_in_browser, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("live")) as live:
        with live.session() as session:
            accounts.create_user(session=session, settings=make_settings(str(live.engine.url)),
                                 email="chief@city.gov", password="an-admin-password", role=Role.admin)
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def test_resident_registers_then_admin_signs_in_and_sees_staff_navigation(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    register_in_browser(page, server, "ana@example.org", "a-good-password")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.locator("nav[aria-label=Staff], ul[aria-label=Staff]").count() == 0
    screenshot(page, f"home-resident-{server.kind}")
    page.get_by_role("button", name="Sign out").click()

    page.goto(server.url + "/signin")
    page.get_by_label("Email").fill("chief@city.gov")
    page.get_by_label("Password").fill("an-admin-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/staff")  # staff land on what needs them now
    staff = page.locator("nav[aria-label=Staff]")
    expect(staff.get_by_role("link", name="Users")).to_be_visible()
    page.goto(server.url + "/admin/users")
    expect(page.get_by_role("cell", name="ana@example.org", exact=True)).to_be_visible()
    screenshot(page, f"admin-users-{server.kind}")
    page.close()


def test_public_pages_have_no_serious_accessibility_violations(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    for path in ("/", "/signin", "/register", "/password/forgot"):
        page.goto(server.url + path)
        violations = axe_violations(page)
        assert violations == [], f"{path}: {[(v['id'], v['help']) for v in violations]}"
    screenshot(page, f"home-phone-{server.kind}")
    page.close()


def test_wrong_password_is_explained_in_the_page(server, browser):
    page = browser.new_page()
    page.goto(server.url + "/signin")
    page.get_by_label("Email").fill("chief@city.gov")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "That email and password do not match an account."
    page.close()
