"""The open data page in a real browser: readable on a phone and a desktop, accessible, downloads work."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from app.layers.store import write_layer
from models.layers import LayerKind
from tests.live import axe_violations, launch_chromium, live_server, screenshot
from tests.test_opendata import _districts, _lights, _pavement

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("live")) as live:
        with live.session() as session:
            write_layer(session=session, kind=LayerKind.district, records=_districts(), source="districts.shp",
                        actor=None)
            write_layer(session=session, kind=LayerKind.pavement, records=_pavement(),
                        source="https://gis.city.gov/arcgis/rest/services/Streets/FeatureServer/0", actor=None)
            write_layer(session=session, kind=LayerKind.streetlight, records=_lights(), source="lights.csv",
                        actor=None)
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


@pytest.mark.parametrize("width,height,label", [(1280, 900, "desktop"), (390, 844, "phone")])
def test_the_inventory_is_accessible_on_desktop_and_phone(server, browser, width, height, label):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server.url}/data")
    expect(page.get_by_role("heading", name="Pavement condition")).to_be_visible()
    page.get_by_text("Fields (", exact=False).first.click()  # open the first dataset's field list
    expect(page.get_by_text("Pavement Condition Index", exact=False)).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, f"opendata-{label}-{server.kind}")
    page.close()


def test_a_resident_downloads_the_csv_and_it_opens_safely(server, browser, tmp_path):
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{server.url}/data")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV — Pavement condition").click()
    download = info.value
    assert download.suggested_filename == "groundwork-pavement-r1.csv"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert rows[0]["street_name"] == "Calle del Niño Jesús" and rows[1]["street_name"].startswith("'=HYPERLINK")
    page.close()
