"""A group member selects segments on the map, draws a line that takes nothing (told so, the
selection unchanged), takes the segments along another line, and undoes with Ctrl+Z and the Undo
button — in Debian's Chromium, on a laptop and on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app import accounts, groups
from app.proposals import editor
from app.proposals.editor import ProposalInput
from tests.conftest import make_settings
from tests.live import launch_chromium, live_server, screenshot, script_errors
from tests.proposal_city import add_cross_street, build_city, segment_line

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("live")) as live:
        with live.session() as session:
            settings = make_settings(str(live.engine.url), base_url=live.url)
            build_city(session)
            add_cross_street(session)
            owner = accounts.create_user(session=session, settings=settings, email="owner@example.org",
                                         password="an-owner-password", display_name="Olu")
            group = groups.create_group(session=session, creator=owner, name="Friends of Main Street")
            proposal = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
                title="Repave Main Street", category_key="pavement", scheduled_year=2027))
            live.editor = f"{live.url}/groups/{group.id}/proposals/{proposal.id}"
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


def _click(page, lng, lat):
    page.locator("#editor-map").scroll_into_view_if_needed()
    point = page.evaluate("([lng, lat]) => window.groundworkEditorMap.project([lng, lat])", [lng, lat])
    box = page.locator("#editor-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def _draw_line(page, start, end):
    page.get_by_role("button", name="Draw line").click()
    _click(page, *start)
    _click(page, *end)
    page.get_by_role("button", name="Finish drawing").click()
    page.get_by_text("Drawing kept.").wait_for()


def _count(page, text):
    page.get_by_test_id("selection-count").filter(has_text=re.compile(rf"^\s*{text}\s*$")).wait_for()


def test_a_line_that_takes_nothing_changes_nothing_and_every_step_can_be_undone(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 1000})
    errors = script_errors(page)
    page.goto(server.url + "/signin")
    page.get_by_label("Email").fill("owner@example.org")
    page.get_by_label("Password").fill("an-owner-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.url + "/")
    page.goto(server.editor)
    _wait_for_map(page)
    assert page.get_by_role("button", name="Undo").get_attribute("aria-disabled") == "true"

    for index, count in ((1, "1 pavement segment"), (2, "2 pavement segments"), (3, "3 pavement segments")):
        middle = segment_line(index).interpolate(0.5, normalized=True)
        _click(page, middle.x, middle.y)
        _count(page, count)
    page.get_by_text("3 changes can be undone (Ctrl+Z).").wait_for()
    selected = page.locator("#assets-field").input_value()

    # a line drawn beside Main Street, 80 m north of it: it takes nothing and says so
    _draw_line(page, (-83.4045, 33.9507), (-83.4025, 33.9507))
    page.get_by_role("button", name="Take the segments along this line").click()
    page.get_by_text("No segments lie along this line; your selection is unchanged.").wait_for()
    _count(page, "3 pavement segments")
    assert page.locator("#assets-field").input_value() == selected
    assert page.get_by_role("radio", name="add to the selection").is_checked()

    # a line along Main Street's first block adds it
    _draw_line(page, (-83.4048, 33.95), (-83.4032, 33.95))
    page.get_by_role("button", name="Take the segments along this line").click()
    page.get_by_text("Added 1 segment along the line.").wait_for()
    _count(page, "4 pavement segments")
    page.get_by_text("4 changes can be undone (Ctrl+Z).").wait_for()
    screenshot(page, f"editor-undo-1366-{server.kind}")

    # Ctrl+Z in a text field is the field's own; elsewhere it undoes the take
    page.get_by_label("Title", exact=True).focus()
    page.keyboard.press("Control+z")
    page.wait_for_timeout(300)
    _count(page, "4 pavement segments")
    page.get_by_role("button", name="Take the segments along this line").focus()
    page.keyboard.press("Control+z")
    page.get_by_text("Undone: Added 1 segment along the line.").wait_for()
    _count(page, "3 pavement segments")
    assert page.locator("#assets-field").input_value() == selected

    # the Undo button takes back the third click
    page.get_by_role("button", name="Undo").click()
    page.get_by_text(re.compile(r"Undone: Added pavement \d+\.")).wait_for()
    _count(page, "2 pavement segments")
    page.get_by_text("2 changes can be undone (Ctrl+Z).").wait_for()
    assert page.locator("#assets-field").input_value() == ",".join(selected.split(",")[:2])

    # on a phone: nothing runs off the side, the undo controls and the add/replace choice are there
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Undo").scroll_into_view_if_needed()
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    expect(page.get_by_role("radio", name="replace the selection")).to_be_visible()
    screenshot(page, f"editor-undo-390-{server.kind}")
    assert errors == []
