"""Importing the Somerville Shapefile through the staff page in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app import accounts
from app.settings import ImportSettings
from models.accounts import Role
from tests.conftest import make_settings, shared_file
from tests.live import axe_violations, launch_chromium, live_server, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    work = tmp_path_factory.mktemp("imports")
    # a Shapefile over 0.1 MB counts as large: its preview is checked by a background job, as a big file's is
    with live_server(request.param, tmp_path_factory.mktemp("live"),
                     imports=ImportSettings(work_dir=str(work), preview_in_request_mb=0.1)) as live:
        with live.session() as session:
            accounts.create_user(session=session, settings=make_settings(str(live.engine.url)),
                                 email="engineer@city.gov", password="a-staff-password", role=Role.staff)
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def test_staff_previews_somerville_then_imports_567_segments(server, browser):
    shp = shared_file("somerville-2015-pavement", "BL_SEGMENTS_2015.shp")
    siblings = sorted(str(p) for p in shp.parent.glob("BL_SEGMENTS_2015.*"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url + "/signin")
    page.get_by_label("Email").fill("engineer@city.gov")
    page.get_by_label("Password").fill("a-staff-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/staff")  # staff land on what needs them now
    page.locator("nav[aria-label=Staff]").get_by_role("link", name="Import data").click()
    page.get_by_label("Layer", exact=True).select_option("pavement")
    page.locator("#files").set_input_files(siblings)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url(server.url + "/staff/import/preview")
    checking = page.locator("#import-checking")  # the check's progress, until the page shows the preview by itself
    expect(checking).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, f"import-checking-{server.kind}")
    expect(page.get_by_role("cell", name="ID 983")).to_be_visible(timeout=60_000)
    expect(checking).to_have_count(0)
    assert page.get_by_label("pci", exact=True).input_value() == "OCI"
    assert axe_violations(page) == []
    screenshot(page, f"import-preview-{server.kind}")

    page.get_by_label("Import the 567 valid rows and skip the 2 listed above").check()
    page.get_by_role("button", name="Import 567 features").click()
    page.wait_for_url(re.compile(r".*/staff/import/jobs/\d+$"))  # a background job, with its progress
    page.get_by_text("Imported 567 features into Pavement condition, skipped 2 rows (revision 1)").wait_for(
        timeout=60_000)
    screenshot(page, f"import-job-{server.kind}")
    page.get_by_role("link", name="Import another layer").click()
    expect(page.get_by_role("cell", name="567")).to_be_visible()
    screenshot(page, f"import-done-{server.kind}")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/staff/import")
    screenshot(page, f"import-phone-{server.kind}")
    page.close()
