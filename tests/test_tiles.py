"""Vector tiles: what a map client receives, on both databases."""

from __future__ import annotations

import re

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import LineString, MultiLineString
from sqlmodel import Session

from app.layers.store import FeatureRecord, write_layer
from app.settings import Settings
from models.layers import LayerKind
from tests.layer_data import CENTRE, FAR, load_city, set_layer, tile_of

MVT = "application/vnd.mapbox-vector-tile"


@pytest.fixture
def city(session: Session) -> dict[str, list[int]]:
    return load_city(session)


def _decode(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    return mapbox_vector_tile.decode(response.content)


def _url(layer: str, z: int, lon_lat: tuple[float, float] = CENTRE) -> str:
    z, x, y = tile_of(*lon_lat, z)
    return f"/tiles/{layer}/{z}/{x}/{y}.mvt"


def test_pavement_tile_holds_the_contract_properties_of_features_in_it(client: TestClient, city) -> None:
    layers = _decode(client.get(_url("pavement", 14)))
    assert list(layers) == ["pavement"]
    features = {f["properties"]["id"]: f for f in layers["pavement"]["features"]}
    main, elm, oak, far = city["pavement"]
    assert set(features) == {main, elm, oak}  # nothing from the far tile
    assert features[main]["properties"] == {"id": main, "street": "MAIN ST", "pci": 73, "band": "satisfactory",
                                            "class": "arterial"}
    assert features[main]["id"] == main
    assert features[oak]["properties"] == {"id": oak, "street": "OAK AVE", "class": "collector"}  # no PCI: absent
    assert features[main]["geometry"]["type"] in ("LineString", "MultiLineString")
    # tile coordinates (4096 across, y up as decoded): the 160 m segment sits inside the tile
    xs = [x for x, _ in features[main]["geometry"]["coordinates"]]
    ys = {y for _, y in features[main]["geometry"]["coordinates"]}
    assert 0 <= min(xs) < max(xs) <= 4096 and len(ys) == 1 and 0 <= ys.pop() <= 4096
    assert 250 < max(xs) - min(xs) < 450  # 0.002° of longitude at z14 is about 373 units
    far_layers = _decode(client.get(_url("pavement", 14, FAR)))
    assert [f["properties"]["id"] for f in far_layers["pavement"]["features"]] == [far]


def test_every_layer_carries_exactly_its_contract(client: TestClient, city) -> None:
    sidewalk = _decode(client.get(_url("sidewalk", 15)))["sidewalk"]["features"]
    by_street = {f["properties"]["street"]: f["properties"] for f in sidewalk}
    assert by_street["MAIN ST"] == {"id": city["sidewalk"][0], "street": "MAIN ST", "condition": "fair", "gap": 0,
                                    "hazards": 2}
    assert by_street["ELM ST"]["gap"] == 1
    lights = _decode(client.get(_url("streetlight", 16)))["streetlight"]["features"]
    assert [f["properties"] for f in lights] == [
        {"id": city["streetlight"][0], "pole": "P-1", "status": "out", "owner": "city", "lamp": "LED"}]
    ramps = _decode(client.get(_url("ramp", 16)))["ramp"]["features"]
    assert [f["properties"] for f in ramps] == [{"id": city["ramp"][0], "condition": "poor"}]
    districts = _decode(client.get(_url("district", 9)))["district"]["features"]
    assert [f["properties"] for f in districts] == [{"id": city["district"][0], "name": "Ward 1", "code": "W1"}]
    tracts = _decode(client.get(_url("tract", 10)))["tract"]["features"]
    assert tracts[0]["properties"] == {"id": city["tract"][0], "name": "Tract 3501", "geoid": "25017350100",
                                       "poverty": pytest.approx(0.18)}
    assert tracts[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_below_a_layers_min_zoom_the_tile_is_empty_but_cacheable(client: TestClient, city) -> None:
    response = client.get(_url("pavement", 10))
    assert response.status_code == 204 and response.content == b""
    assert response.headers["ETag"] and "max-age" in response.headers["Cache-Control"]
    assert client.get(_url("pavement", 11)).status_code == 200  # the pavement layer starts at zoom 11
    assert client.get(_url("ramp", 14)).status_code == 204
    assert client.get(_url("ramp", 15)).status_code == 200


def test_a_tile_with_no_features_is_empty(client: TestClient, city) -> None:
    assert client.get("/tiles/pavement/14/0/0.mvt").status_code == 204


def test_features_per_tile_are_capped(client: TestClient, city, settings: Settings) -> None:
    settings.tiles.max_features = 2
    features = _decode(client.get(_url("pavement", 14)))["pavement"]["features"]
    assert sorted(f["properties"]["id"] for f in features) == sorted(city["pavement"][:2])


def test_etag_answers_304_until_the_layer_changes(client: TestClient, session: Session, city) -> None:
    url = _url("pavement", 14)
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    assert first.headers["Cache-Control"] == "public, max-age=60, must-revalidate"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get(_url("pavement", 14, FAR)).headers["ETag"] != etag  # per tile
    set_layer(session, LayerKind.pavement, 4, revision=2)
    session.commit()
    fresh = client.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
    assert mapbox_vector_tile.decode(fresh.content)["pavement"]["features"]


@pytest.mark.parametrize("path, message", [
    ("/tiles/pavement/23/0/0.mvt", "Zoom 23 is out of range"),
    ("/tiles/pavement/3/8/0.mvt", "x and y go from 0 to 7"),
    ("/tiles/pavement/3/0/-1.mvt", "does not exist"),
    ("/tiles/roads/3/0/0.mvt", "There is no layer 'roads'"),
])
def test_missing_tiles_and_layers_are_404_with_a_reason(client: TestClient, path: str, message: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert message in response.json()["detail"]


def test_tilejson_describes_the_layer(client: TestClient, city) -> None:
    response = client.get("/tiles/pavement.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["tilejson"] == "3.0.0"
    [template] = doc["tiles"]
    assert re.fullmatch(r"http://testserver/tiles/pavement/\{z\}/\{x\}/\{y\}\.mvt\?v=1-[0-9a-f]{12}", template)
    assert doc["minzoom"] == 11 and doc["maxzoom"] == 22
    assert doc["bounds"] == [-71.10, 42.32, -71.01, 42.39]
    [layer] = doc["vector_layers"]
    assert layer["id"] == "pavement" and set(layer["fields"]) == {"id", "street", "pci", "band", "class"}
    assert client.get("/tiles/pavement.json", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    assert client.get("/tiles/streets.json").status_code == 404


def test_after_an_import_a_stale_etag_gets_the_new_tile(client: TestClient, session: Session, city) -> None:
    url = _url("pavement", 14)
    stale = client.get(url).headers["ETag"]
    lon, lat = CENTRE
    write_layer(session=session, kind=LayerKind.pavement, source="resurvey.geojson", actor=None, records=[
        FeatureRecord(MultiLineString([LineString([(lon, lat), (lon + 0.002, lat)])]),
                      {"street_name": "MAIN ST", "functional_class": "arterial", "pci": 95.0})])
    fresh = client.get(url, headers={"If-None-Match": stale})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != stale
    [feature] = mapbox_vector_tile.decode(fresh.content)["pavement"]["features"]
    assert feature["properties"]["pci"] == 95 and feature["properties"]["band"] == "good"


def test_tilejson_bounds_of_a_due_east_west_street_have_height(client: TestClient, session: Session) -> None:
    lon, lat = CENTRE
    write_layer(session=session, kind=LayerKind.pavement, source="one-street.geojson", actor=None, records=[
        FeatureRecord(MultiLineString([LineString([(lon, lat), (lon + 0.01, lat)])]), {"street_name": "Flat St"})])
    west, south, east, north = client.get("/tiles/pavement.json").json()["bounds"]
    assert north - south == pytest.approx(0.001) and south < lat < north
    assert east - west == pytest.approx(0.01)
