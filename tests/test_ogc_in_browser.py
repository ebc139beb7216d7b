"""The /ogc HTML pages in a real browser: readable tables, working paging, accessible."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.layer_data import load_city
from tests.live import axe_violations, launch_chromium, live_server, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    with live_server(request.param, tmp_path_factory.mktemp("live")) as live:
        with live.session() as session:
            load_city(session)
        yield live


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with launch_chromium() as chromium:
        yield chromium


def test_a_browser_walks_from_the_landing_page_to_a_feature(server, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url + "/ogc")  # a browser's Accept header gets HTML
    page.get_by_role("link", name="Collections").first.click()
    page.get_by_role("link", name="Pavement condition", exact=True).click()
    page.get_by_role("link", name="Browse the features").click()
    expect(page.get_by_role("cell", name="OAK AVE")).to_be_visible()
    screenshot(page, f"ogc-items-{server.kind}")
    page.goto(server.url + "/ogc/collections/pavement/items?limit=2&f=html")
    expect(page.get_by_text("Showing 1–2 of 4.")).to_be_visible()
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_text("Showing 3–4 of 4.")).to_be_visible()
    page.get_by_role("row").nth(1).get_by_role("link").click()
    expect(page.get_by_role("rowheader", name="src_SEG")).to_be_visible()
    screenshot(page, f"ogc-item-{server.kind}")
    page.close()


def test_ogc_pages_have_no_serious_accessibility_violations(server, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844})
    for path in ("/ogc?f=html", "/ogc/collections?f=html", "/ogc/collections/sidewalk?f=html",
                 "/ogc/collections/streetlight/items?f=html", "/ogc/collections/tract/items/1?f=html"):
        page.goto(server.url + path)
        violations = axe_violations(page)
        assert violations == [], f"{path}: {[(v['id'], v['help']) for v in violations]}"
    screenshot(page, "ogc-item-phone")
    page.close()
