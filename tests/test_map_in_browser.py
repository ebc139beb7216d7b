"""The public map in headless Chromium: tiles draw, layers toggle from the keyboard, popups
state the band in words, a table row opens its feature on the map, and a phone gets a panel
toggle. Screenshots go to test-artifacts/ (look at them)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.settings import MapSettings
from models.layers import PavementSegment
from tests.live import MAP_READY, axe_violations, launch_chromium, live_server, open_map, screenshot
from tests.map_data import load_grid_city

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("map")) as live:
        with live.session() as session:
            load_grid_city(session)
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def _rendered(page: Any, layers: list[str]) -> list[dict[str, Any]]:
    return page.evaluate("(layers) => window.groundworkMap.queryRenderedFeatures({layers})"
                         ".map(f => f.properties)", layers)


def test_map_draws_pavement_by_band_and_answers_clicks(server, browser):
    page, errors = open_map(browser, server.url + "/map", {"width": 1280, "height": 800})
    pavement = _rendered(page, ["gw-pavement", "gw-pavement-worst"])
    assert len(pavement) > 20
    assert {p["band"] for p in pavement} >= {"good", "fair", "failed"}
    assert _rendered(page, ["gw-district-line"]), "district outlines draw"
    expect(page.locator(".district-label", has_text="Northside")).to_be_visible()
    assert page.locator("#map-status").inner_text() == ""
    screenshot(page, f"map-desktop-{server.kind}")

    # census tracts are off until asked for, then shaded by their poverty rate
    assert not page.locator("#toggle-tract").is_checked()
    page.locator("#toggle-tract").check()
    page.wait_for_function("() => window.groundworkMap.queryRenderedFeatures({layers: ['gw-tract-fill']}).length > 0")
    page.locator("#toggle-tract").uncheck()

    # the summary follows the chosen district (htmx)
    page.select_option("#summary-area", label="Riverside")
    page.wait_for_selector(".map-summary__area strong:text('Riverside')")

    # a click on a street opens a popup that names the band in words
    point = page.evaluate("() => { const m = window.groundworkMap; const p = m.project([-83.414, 33.943]);"
                          " const r = m.getCanvas().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }")
    page.mouse.click(point[0], point[1])
    popup = page.locator(".maplibregl-popup .feature-popup")
    popup.wait_for(timeout=5_000)
    assert "Condition band" in popup.inner_text() and "PCI" in popup.inner_text()
    popup.locator("summary", has_text="Original attributes (2)").wait_for(timeout=5_000)  # from /ogc
    assert "District" in popup.inner_text() and "Northside" in popup.inner_text()
    screenshot(page, f"map-popup-{server.kind}")
    assert [e for e in errors if "Content Security Policy" in e or "Uncaught" in e] == []
    page.close()


def test_street_names_are_drawn_from_the_pavement_layer_with_our_own_glyphs(server, browser):
    page, errors = open_map(browser, server.url + "/map", {"width": 1366, "height": 900})
    page.evaluate("() => window.groundworkMap.jumpTo({zoom: 13})")
    page.wait_for_timeout(500)
    assert _rendered(page, ["gw-pavement-label"]) == [], "no street names zoomed out: too many to read"
    page.evaluate("() => window.groundworkMap.jumpTo({center: [-83.414, 33.943], zoom: 16.5})")
    page.wait_for_function("() => window.groundworkMap.queryRenderedFeatures({layers: ['gw-pavement-label']})"
                           ".length > 0", timeout=15_000)
    names = {p["street"] for p in _rendered(page, ["gw-pavement-label"])}
    glyphs = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)"
                           ".filter(n => n.endsWith('.pbf'))")
    assert names & {"Street A", "Street B", "Street C", "Main St"}, names
    assert glyphs and all(url.startswith(server.url + "/static/vendor/glyphs/Noto%20Sans%20Regular/")
                          for url in glyphs), glyphs
    screenshot(page, f"map-street-names-{server.kind}")
    # census tracts, when shown, carry their names as area labels
    page.locator("#toggle-tract").check()
    page.wait_for_function("() => window.groundworkMap.queryRenderedFeatures({layers: ['gw-tract-label']})"
                           ".some(f => /^Tract \\d$/.test(f.properties.name))", timeout=15_000)
    page.locator("#toggle-tract").uncheck()
    assert [e for e in errors if "Uncaught" in e] == []
    page.close()


def test_layer_toggles_work_from_the_keyboard(server, browser):
    page, _ = open_map(browser, server.url + "/map", {"width": 1280, "height": 800})
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "toggle-pavement":
            break
    else:
        pytest.fail("the pavement toggle cannot be reached with Tab")
    visibility = "() => window.groundworkMap.getLayoutProperty('gw-pavement', 'visibility')"
    page.keyboard.press("Space")
    assert page.evaluate(visibility) == "none"
    assert _rendered(page, ["gw-pavement", "gw-pavement-worst"]) == [] or page.wait_for_timeout(500) is None
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "toggle-sidewalk"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    assert page.evaluate(visibility) == "visible"
    page.close()


def test_a_table_row_opens_its_feature_on_the_map(server, browser):
    with server.session() as session:
        segment = session.exec(select(PavementSegment).where(PavementSegment.street_name == "Street C")).first()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url + "/map/table?q=street+c")
    page.locator("tbody a", has_text="Show on map").first.click()
    page.wait_for_function(MAP_READY, timeout=45_000)
    popup = page.locator(".maplibregl-popup .feature-popup")
    popup.wait_for(timeout=10_000)
    assert "Street C" in popup.inner_text()
    assert page.evaluate("() => window.groundworkMap.getZoom()") >= 16
    assert page.url.endswith(f"/map?layer=pavement&feature={segment.id}") or "feature=" in page.url
    screenshot(page, f"map-feature-{server.kind}")
    page.close()


def test_phone_gets_a_panel_toggle_over_the_map(server, browser):
    page, _ = open_map(browser, server.url + "/map", {"width": 390, "height": 844})
    toggle = page.get_by_role("button", name="Show layers and summary")
    assert toggle.get_attribute("aria-expanded") == "false"
    expect(page.locator("#map-panel")).to_be_hidden()
    assert _rendered(page, ["gw-pavement", "gw-pavement-worst"])
    screenshot(page, f"map-phone-{server.kind}")
    toggle.click()
    expect(page.locator("#map-panel")).to_be_visible()
    assert page.get_by_role("button", name="Hide layers and summary").get_attribute("aria-expanded") == "true"
    screenshot(page, f"map-phone-panel-{server.kind}")
    page.close()


def test_map_and_table_have_no_serious_accessibility_violations(server, browser):
    page, _ = open_map(browser, server.url + "/map", {"width": 1280, "height": 800})
    violations = axe_violations(page)
    assert violations == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    page.goto(server.url + "/map/table?layer=streetlight")
    violations = axe_violations(page)
    assert violations == [], [(v["id"], v["help"]) for v in violations]
    # sorting with htmx keeps focus on the column's link and updates the address bar
    page.locator("a[data-sort-key=status]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=status**")
    page.wait_for_function("() => document.activeElement.dataset.sortKey === 'status'", timeout=5_000)
    assert page.locator("th[aria-sort=ascending]").inner_text().startswith("Status")
    screenshot(page, f"map-table-{server.kind}")
    page.close()


def test_an_unreachable_basemap_still_draws_the_layers(tmp_path, browser):
    """A closed network: the basemap's server cannot be reached, the condition layers draw anyway.
    (Browser behaviour only, so one database is enough.)"""
    basemap = MapSettings(basemap_style_url="http://127.0.0.1:9/style.json", basemap_attribution="Nobody")
    with live_server("spatialite", tmp_path, map=basemap) as live:
        with live.session() as session:
            load_grid_city(session)
        page, _ = open_map(browser, live.url + "/map", {"width": 1280, "height": 800})
        assert _rendered(page, ["gw-pavement", "gw-pavement-worst"])
        assert page.evaluate("() => window.groundworkMap.getStyle().layers[0].id") == "background"
        page.close()
