"""A new group member drafts three proposals by clicking segments on the map, watches the
quantities, estimate and budget bar update, and submits one — in Debian's Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app import accounts, groups
from tests.conftest import make_settings
from tests.live import launch_chromium, live_server, register_in_browser, screenshot
from tests.proposal_city import build_city, segment_line

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("live")) as live:
        with live.session() as session:
            settings = make_settings(str(live.engine.url), base_url=live.url)
            build_city(session)
            owner = accounts.create_user(session=session, settings=settings, email="owner@example.org",
                                         password="an-owner-password", display_name="Olu")
            group = groups.create_group(session=session, creator=owner, name="Friends of Main Street")
            live.invite = groups.invite(session=session, settings=settings, group_id=group.id, actor=owner).link
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def _wait_for_map(page):
    page.wait_for_function("() => window.groundworkEditorMap && window.groundworkEditorMap.loaded()"
                           " && window.groundworkEditorMap.areTilesLoaded()"
                           " && window.groundworkEditorMap.getLayer('asset-pavement')"
                           " && !window.groundworkEditorMap.isMoving()", timeout=20_000)
    page.wait_for_timeout(300)


def _click_lng_lat(page, lng, lat):
    page.locator("#editor-map").scroll_into_view_if_needed()
    point = page.evaluate("([lng, lat]) => window.groundworkEditorMap.project([lng, lat])", [lng, lat])
    box = page.locator("#editor-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def _click_segment(page, index):
    middle = segment_line(index).interpolate(0.5, normalized=True)
    _click_lng_lat(page, middle.x, middle.y)


def _draft(page, title):
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_url(re.compile(r".*/proposals/\d+$"))
    _wait_for_map(page)


def _save(page, category, year="2027"):
    page.get_by_label("Category").select_option(label=category)
    page.get_by_label("Scheduled year").fill(year)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved.").wait_for(timeout=15_000)  # networkidle can come before the swap


def test_a_new_member_drafts_three_proposals_on_the_map_and_submits(server, browser):
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    register_in_browser(page, server, f"member-{server.kind}@example.org", "a-good-password")
    page.goto(server.invite)
    page.get_by_role("button", name=re.compile("Join Friends of Main Street")).click()
    page.wait_for_url(re.compile(r".*/groups/\d+$"))
    page.get_by_role("link", name=re.compile("Proposals and budget")).click()

    # 1. click two real segments on the map
    _draft(page, "Repave Main Street, east blocks")
    page.get_by_label("Scheduled year").fill("2027")
    _click_segment(page, 2)
    page.get_by_test_id("selection-count").filter(has_text="1 pavement segment").wait_for()
    _click_segment(page, 3)
    page.get_by_test_id("selection-count").filter(has_text="2 pavement segments").wait_for()
    total = page.get_by_test_id("estimate-total").inner_text()
    assert total.startswith("$") and page.locator("table.estimate tbody tr").count() >= 5
    assert page.locator("#workbench meter").count() >= 1
    screenshot(page, f"proposal-editor-{server.kind}")
    _save(page, "Pavement & bridges")

    # 2. the street filter (map clicks are steps 1 and 3)
    page.get_by_role("link", name="Our proposals").click()
    _draft(page, "Main Street east, worst blocks")  # the year is filled by _save: its own preview could
    # land after "Add these segments" and replace the messages this step waits on
    page.get_by_label("Segments on street").fill("Main Street")
    page.get_by_label("with PCI below").fill("80")
    page.get_by_role("button", name="Add these segments").click()
    page.get_by_text("Added 3 segments on Main Street").wait_for()
    page.get_by_test_id("selection-count").filter(has_text="3 pavement segments").wait_for()
    # and the keyboard's way to deselect: focus a selected segment's "Remove" button, press Enter
    page.get_by_role("button", name=re.compile(r"^Remove Main Street")).first.focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("selection-count").filter(has_text="2 pavement segments").wait_for()
    page.get_by_text(re.compile(r"Removed pavement \d+\.")).wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.dataset.remove")
    _save(page, "Pavement & bridges", "2028")

    # 3. a streetlight that is out, clicked on the map
    page.get_by_role("link", name="Our proposals").click()
    _draft(page, "Relight Main Street")
    page.get_by_label("Scheduled year").fill("2027")
    _click_lng_lat(page, -83.404, 33.9502)
    page.get_by_test_id("selection-count").filter(has_text="1 streetlight").wait_for()
    _save(page, "Streetlights")

    # the list: three proposals, a budget bar, reorder with the buttons
    page.get_by_role("link", name="Our proposals").click()
    rows = page.locator("table.proposal-list tbody tr")
    assert rows.count() == 3
    page.get_by_role("button", name=re.compile(r"Up\W+Relight Main Street")).click()
    page.wait_for_function("() => document.querySelector('table.proposal-list tbody tr:nth-child(2)')"
                           ".textContent.includes('Relight Main Street')")
    expect(page.locator("#budget meter").first).to_be_visible()
    screenshot(page, f"proposal-list-{server.kind}")

    # submit the first one
    page.get_by_role("link", name="Repave Main Street, east blocks").click()
    page.get_by_role("button", name="Submit the saved version").click()
    page.get_by_text("Submitted. City staff will review it").wait_for()
    expect(page.get_by_text("read-only").first).to_be_visible()
    screenshot(page, f"proposal-submitted-{server.kind}")
    assert errors == []
