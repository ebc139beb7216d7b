"""Finding an address on the public map in headless Chromium: type it, pick it, the map flies there
and marks it; a link from the results page (or a shared /map?address=… link) opens the map at the
address. Screenshots go to test-artifacts/ (look at them)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from shapely.geometry import Point

from app.layers.store import FeatureRecord, write_layer
from models.layers import LayerKind
from tests.live import MAP_READY, launch_chromium, live_server, open_map, screenshot
from tests.map_data import load_grid_city

pytestmark = pytest.mark.browser
STREET_C_X = -83.412  # a north-south street of the grid city
TARGET = (STREET_C_X + 0.0003, 33.9405 + 7 * 0.0005)  # 214 Street C


def _addresses() -> list[FeatureRecord]:
    records = []
    for k in range(12):  # both sides of Street C, numbers rising northwards
        for side, dx in ((0, 0.0003), (1, -0.0003)):
            number = 200 + 2 * k + side
            records.append(FeatureRecord(
                Point(STREET_C_X + dx, 33.9405 + k * 0.0005),
                {"full_address": f"{number} Street C", "house_number": str(number), "street_name": "Street C",
                 "zip_code": "30601"}, {"ADDRESS_ID": f"C{number}"}, source_id=f"C{number}"))
    return records


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("addresses")) as live:
        with live.session() as session:
            load_grid_city(session)
            write_layer(session=session, kind=LayerKind.address, source="addresses.geojson", actor=None,
                        records=_addresses())
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def _centred_on(page: Any, point: tuple[float, float], zoom: float = 17.5) -> None:
    page.wait_for_function(
        "([lon, lat, zoom]) => { const m = window.groundworkMap; const c = m.getCenter(); return !m.isMoving()"
        " && Math.abs(c.lng - lon) < 1e-5 && Math.abs(c.lat - lat) < 1e-5 && m.getZoom() >= zoom; }",
        arg=[point[0], point[1], zoom], timeout=15_000)


def test_typing_an_address_and_picking_it_flies_the_map_there(server, browser):
    page, errors = open_map(browser, server.url + "/map", {"width": 1280, "height": 800})
    assert page.locator("label[for=street-search]").inner_text() == "Find a street or address"
    start = page.evaluate("() => window.groundworkMap.getZoom()")
    assert start < 16  # the whole city is in view
    page.locator("#street-search").fill("214 street c")  # a spelling of "214 Street C"
    result = page.locator("#street-results a[data-place-point]", has_text="214 Street C")
    result.wait_for(timeout=10_000)
    assert "Northside" in result.inner_text()  # the district it lies in
    screenshot(page, f"map-address-results-{server.kind}")
    result.click()
    _centred_on(page, TARGET)
    assert page.locator("#map-status").inner_text() == "Showing 214 Street C."
    assert page.locator("#street-search").input_value() == "214 Street C"
    expect(page.locator(".maplibregl-popup", has_text="214 Street C")).to_be_visible()
    marker = page.locator(".maplibregl-marker.place-marker")
    assert marker.count() == 1 and marker.get_attribute("aria-label") == "214 Street C"
    assert page.url.endswith("/map?address=214%20Street%20C")  # the address bar can be shared
    screenshot(page, f"map-address-{server.kind}")
    assert [e for e in errors if "Content Security Policy" in e or "Uncaught" in e] == []
    page.close()


def test_the_results_page_and_a_shared_link_open_the_map_at_the_address(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url + "/map/streets?q=203+Street+C")
    page.locator("a", has_text="203 Street C").click()
    page.wait_for_function(MAP_READY, timeout=45_000)
    _centred_on(page, (STREET_C_X - 0.0003, 33.9405 + 0.0005))
    expect(page.locator(".maplibregl-popup", has_text="203 Street C")).to_be_visible()
    assert page.locator("#map-status").inner_text() == "Showing 203 Street C."
    page.close()
