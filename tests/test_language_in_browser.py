"""The proposal editor in Spanish on a phone (390×844) in Debian's Chromium: the longer Spanish
labels fit without sideways scrolling, and the map's status line speaks Spanish."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app import accounts, groups
from app.proposals import editor
from app.proposals.editor import ProposalInput
from app.proposals.selection import AssetKey
from tests.conftest import make_settings
from tests.live import ARTIFACTS, axe_violations, launch_chromium, live_server, screenshot
from tests.proposal_city import build_city, segment_line

pytestmark = pytest.mark.browser
PASSWORD = "a-resident-password"


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("live")) as live:
        with live.session() as session:
            settings = make_settings(str(live.engine.url), base_url=live.url)
            city = build_city(session)
            owner = accounts.create_user(session=session, settings=settings, email="rosa@example.org",
                                         password=PASSWORD, display_name="Rosa")
            group = groups.create_group(session=session, creator=owner, name="Vecinos de Main Street")
            proposal = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
                title="Repavimentar Main Street, de Oak a Elm", category_key="pavement", scheduled_year=2027,
                assets=[AssetKey("pavement", city.segments[0])]))
            live.editor_path = f"/groups/{group.id}/proposals/{proposal.id}"
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def test_the_spanish_editor_fits_a_phone(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{server.url}/signin")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    page.get_by_label("Correo electrónico").fill("rosa@example.org")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").last.click()
    page.wait_for_url(f"{server.url}/")
    page.goto(f"{server.url}{server.editor_path}")
    page.wait_for_function("() => window.groundworkEditorMap && window.groundworkEditorMap.loaded()"
                           " && window.groundworkEditorMap.getLayer('asset-pavement')", timeout=20_000)
    expect(page.get_by_text("1 tramo de pavimento")).to_be_visible()
    middle = segment_line(1).interpolate(0.5, normalized=True)
    page.locator("#editor-map").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    point = page.evaluate("([lng, lat]) => window.groundworkEditorMap.project([lng, lat])", [middle.x, middle.y])
    box = page.locator("#editor-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.get_by_test_id("selection-count").filter(has_text="2 tramos de pavimento").wait_for()
    assert page.locator("#draw-status").inner_text().startswith("Se agregó pavement")

    overflowing = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                     && !e.closest('.table-wrap') && !e.closest('.maplibregl-map'))
        .map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').trim().slice(0, 40))""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, overflowing
    assert not overflowing
    # the estimate stacks into labelled lines instead of scrolling sideways
    estimate = page.locator("table.estimate")
    assert estimate.evaluate("t => t.closest('.table-wrap').scrollWidth <= t.closest('.table-wrap').clientWidth")
    expect(estimate.locator("td[data-label='Costo unitario']").first).to_be_visible()
    estimate.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "estimate-es-phone.png"))  # the viewport, at the estimate
    screenshot(page, "proposal-editor-es-phone")
    assert not axe_violations(page)
    page.close()
