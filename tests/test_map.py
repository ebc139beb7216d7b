"""The public map page, its summary panel and the table view, on a small hand-made city."""

from __future__ import annotations

import html
import json
import re

import pytest
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box
from sqlmodel import Session, select

from app.layers.store import FeatureRecord, write_layer
from app.layers.summary import OUTSIDE, map_summary
from models.layers import District, LayerKind, PavementSegment
from tests.map_data import MILE, PAVEMENT, SIDEWALKS, WEST_X, load_city, metres


def _district_ids(session: Session) -> dict[str, str]:
    return {d.name: str(d.id) for d in session.exec(select(District)).all()}


def _band_miles(area) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {b.key: b.miles for b in area.bands if b.miles}


# ---- the summary service ----

def test_summary_gives_miles_by_band_and_length_weighted_pci_for_the_city(session: Session):
    load_city(session)
    numbers = map_summary(session=session)
    m = [metres(x, span) for _, x, span, _ in PAVEMENT]
    city = numbers.city
    assert _band_miles(city) == pytest.approx({"good": m[0] / MILE, "very_poor": m[1] / MILE, "fair": m[2] / MILE,
                                               "failed": m[3] / MILE, "unrated": m[4] / MILE})
    assert [b.key for b in city.bands] == ["good", "satisfactory", "fair", "poor", "very_poor", "serious", "failed",
                                           "unrated"]
    assert city.pavement_miles == pytest.approx(sum(m) / MILE)
    expected_pci = (90 * m[0] + 30 * m[1] + 60 * m[2] + 5 * m[3]) / (m[0] + m[1] + m[2] + m[3])
    assert city.average_pci == pytest.approx(expected_pci)
    assert (city.lights_out, city.lights_reported, city.lights_total) == (3, 1, 6)
    gap, poor_w, good_w, poor_e = (metres(x, span) for _, x, span, _, _ in SIDEWALKS)
    assert city.sidewalk_gap_miles == pytest.approx(gap / MILE)
    assert city.sidewalk_poor_miles == pytest.approx((poor_w + poor_e) / MILE)
    assert city.sidewalk_miles == pytest.approx((gap + poor_w + good_w + poor_e) / MILE)
    assert {r.label: r.count for r in city.ramps} == {"Good": 1, "Poor": 2, "Not rated": 1}
    assert city.ramps_total == 4


def test_summary_by_district_with_assets_outside_every_district(session: Session):
    load_city(session)
    numbers = map_summary(session=session)
    ids = _district_ids(session)
    assert [a.name for a in numbers.districts] == ["East", "West", "Outside districts"]
    m = [metres(x, span) for _, x, span, _ in PAVEMENT]
    west, east, outside = numbers.area(ids["West"]), numbers.area(ids["East"]), numbers.area(OUTSIDE)
    assert _band_miles(west) == pytest.approx({"good": m[0] / MILE, "very_poor": m[1] / MILE})
    assert west.average_pci == pytest.approx((90 * m[0] + 30 * m[1]) / (m[0] + m[1]))
    assert _band_miles(east) == pytest.approx({"fair": m[2] / MILE, "unrated": m[4] / MILE})
    assert east.average_pci == pytest.approx(60)
    assert _band_miles(outside) == pytest.approx({"failed": m[3] / MILE})
    assert (west.lights_out, west.lights_total, east.lights_reported, outside.lights_out) == (2, 3, 1, 1)
    gap, poor_w, _, poor_e = (metres(x, span) for _, x, span, _, _ in SIDEWALKS)
    assert west.sidewalk_gap_miles == pytest.approx(gap / MILE)
    assert west.sidewalk_poor_miles == pytest.approx(poor_w / MILE)
    assert east.sidewalk_poor_miles == pytest.approx(poor_e / MILE) and east.sidewalk_gap_miles == 0
    assert {r.label: r.count for r in east.ramps} == {"Poor": 1, "Not rated": 1}
    assert numbers.area("999") is None


def test_summary_uses_the_pavement_layers_band_scheme(session: Session):
    load_city(session, districts=False)
    write_layer(session=session, kind=LayerKind.pavement, source="mtc", actor=None, band_scheme="mtc4", records=[
        FeatureRecord(MultiLineString([LineString([(-83.4, 33.95), (-83.4, 33.96)])]), {"pci": 60})])
    numbers = map_summary(session=session)
    assert [b.label for b in numbers.city.bands] == ["Good", "Fair", "Poor", "Failed"]
    assert _band_miles(numbers.city).keys() == {"fair"}
    assert numbers.districts == []


# ---- the map page ----

def test_map_without_data_explains_how_staff_load_it(client):
    page = client.get("/map")
    assert page.status_code == 200
    assert "The map has no data yet" in page.text
    for hint in ("groundwork demo", "groundwork import", "/staff/import"):
        assert hint in page.text
    assert "maplibre-gl.js" not in page.text
    assert '<a href="/map" aria-current="page">Map</a>' in page.text


def test_map_has_toggles_legend_summary_and_config(client, session: Session):
    load_city(session)
    page = client.get("/map")
    assert page.status_code == 200
    text = page.text
    for kind, count in (("pavement", 5), ("sidewalk", 4), ("ramp", 4), ("streetlight", 6), ("district", 2)):
        assert re.search(rf'<input type="checkbox" id="toggle-{kind}" value="{kind}" data-layer-toggle checked>', text)
        assert re.search(rf'<label for="toggle-{kind}">[^<]+<span class="layer-toggle__count">\({count}\)</span>', text)
    assert "toggle-tract" not in text  # tracts are not loaded
    legend = text[text.index('id="legend-title"'):text.index('id="map-help"')]
    for label in ("Good", "Satisfactory", "Very poor", "Serious", "Failed", "Not rated", "Gap (no sidewalk)", "Out"):
        assert f"{label}" in legend
    assert "0.7 mi" in legend  # Good: 0.69 miles of Main St
    assert legend.count("(dashed)") == 2
    assert "/static/vendor/maplibre/maplibre-gl.js" in text and "unpkg" not in text and "<script>" not in text
    assert 'href="/map/table"' in text
    config = json.loads(html.unescape(re.search(r'data-config="([^"]+)"', text).group(1)))
    assert [layer["tilejson"] for layer in config["layers"]] == [
        "/tiles/pavement.json", "/tiles/sidewalk.json", "/tiles/ramp.json", "/tiles/streetlight.json",
        "/tiles/district.json"]
    assert config["basemap"] is None and config["focus"] is None
    assert sorted(d["name"] for d in config["districts"]) == ["East", "West"]
    assert config["bounds"][0] == pytest.approx(-83.41) and config["bounds"][2] == pytest.approx(-80.0)
    assert "Lights out" in text and "Compare districts" in text and "<svg role=\"img\"" in text


def test_map_page_shows_a_districts_summary_without_javascript(client, session: Session):
    load_city(session)
    west = _district_ids(session)["West"]
    page = client.get(f"/map?area={west}")
    assert "<strong>West</strong>" in page.text and f'<option value="{west}" selected>West</option>' in page.text
    assert '<form class="area-form" method="get" action="/map"' in page.text
    assert client.get("/map?area=nowhere").status_code == 404


def test_map_focuses_a_feature_from_the_table(client, session: Session):
    load_city(session, districts=False)
    segment = session.exec(select(PavementSegment)).first()
    config_attr = re.search(r'data-config="([^"]+)"', client.get(f"/map?layer=pavement&feature={segment.id}").text)
    assert json.loads(html.unescape(config_attr.group(1)))["focus"] == {"layer": "pavement", "id": segment.id}


def test_map_uses_the_basemap_setting(client, session: Session, app):
    load_city(session, districts=False)
    app.state.settings.map.basemap_style_url = "https://tiles.example.org/style.json"
    config = json.loads(html.unescape(re.search(r'data-config="([^"]+)"', client.get("/map").text).group(1)))
    assert config["basemap"] == "https://tiles.example.org/style.json"


# ---- the summary partial ----

def test_summary_partial_for_a_district_with_etag_from_layer_revisions(client, session: Session):
    load_city(session)
    west = _district_ids(session)["West"]
    panel = client.get(f"/map/summary?area={west}", headers={"HX-Request": "true"})
    assert panel.status_code == 200
    assert "<html" not in panel.text and 'id="map-summary"' in panel.text
    assert "<strong>West</strong>" in panel.text
    assert re.search(r"<dt>Out</dt><dd>2</dd>", panel.text)
    etag = panel.headers["etag"]
    assert client.get(f"/map/summary?area={west}", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/map/summary", headers={"If-None-Match": etag}).status_code == 200  # another area
    write_layer(session=session, kind=LayerKind.streetlight, source="fixed", actor=None, records=[
        FeatureRecord(Point(WEST_X, 33.95), {"pole_id": "W1", "status": "working"})])
    fresh = client.get(f"/map/summary?area={west}", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag
    assert re.search(r"<dt>Out</dt><dd>0</dd>", fresh.text)


def test_unknown_district_is_a_clear_404(client, session: Session):
    load_city(session)
    response = client.get("/map/summary?area=12345")
    assert response.status_code == 404
    assert "There is no district" in response.text


def test_compare_districts_table_and_names_are_escaped(client, session: Session):
    load_city(session)
    write_layer(session=session, kind=LayerKind.district, source="d", actor=None, records=[
        FeatureRecord(MultiPolygon([box(-83.41, 33.94, -83.38, 33.96)]), {"name": '<b>"Ward" & 1</b>', "code": "1"})])
    text = client.get("/map").text
    assert "<b>" not in text and "&lt;b&gt;&#34;Ward&#34; &amp; 1&lt;/b&gt;" in text
    config = json.loads(html.unescape(re.search(r'data-config="([^"]+)"', text).group(1)))
    assert config["districts"][0]["name"] == '<b>"Ward" & 1</b>'
    table = text[text.index("Compare districts"):]
    header = re.findall(r'<th scope="col" class="num">([^<]+)</th>', table)
    assert header[-4:] == ["Ramps: Good", "Ramps: Poor", "Ramps: Not rated", "Curb ramps"]
    ward = re.search(r"&lt;/b&gt;</th>(.*?)</tr>", table, flags=re.S).group(1)
    cells = re.findall(r'<td class="num">([^<]*)</td>', ward)
    assert cells[-4:] == ["1", "2", "1", "4"]  # every ramp is inside the one ward: good, poor, not rated, total
