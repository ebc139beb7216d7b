"""OGC API – Features at /ogc: what GIS clients and browsers get, on both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from models.layers import LayerKind
from tests.layer_data import CENTRE, load_city, set_layer

GEOJSON = "application/geo+json"


@pytest.fixture
def city(session: Session) -> dict[str, list[int]]:
    return load_city(session)


def _rels(document: dict) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in document["links"] if link["type"] != "text/html"}


def test_landing_page_and_conformance_lead_to_the_collections(client: TestClient) -> None:
    landing = client.get("/ogc")
    assert landing.status_code == 200 and landing.headers["content-type"] == "application/json"
    links = _rels(landing.json())
    assert links["self"] == "http://testserver/ogc"
    assert links["conformance"] == "http://testserver/ogc/conformance"
    assert links["data"] == "http://testserver/ogc/collections"
    assert client.get(links["service-desc"]).status_code == 200
    conforms = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conforms


def test_collections_are_the_layers_with_their_extent(client: TestClient, city) -> None:
    body = client.get("/ogc/collections").json()
    assert [c["id"] for c in body["collections"]] == ["pavement", "sidewalk", "ramp", "streetlight", "district",
                                                      "tract", "address", "delivery"]  # the ballot projects
    pavement = client.get("/ogc/collections/pavement").json()
    assert pavement["title"] == "Pavement condition" and pavement["itemType"] == "feature"
    assert pavement["extent"]["spatial"]["bbox"] == [[-71.10, 42.32, -71.01, 42.39]]
    items = [link for link in pavement["links"] if link["rel"] == "items" and link["type"] == GEOJSON]
    assert items[0]["href"] == "http://testserver/ogc/collections/pavement/items"
    response = client.get("/ogc/collections/roads")
    assert response.status_code == 404 and "There is no layer 'roads'" in response.json()["detail"]


def test_items_page_with_normalized_fields_and_original_attributes(client: TestClient, city) -> None:
    response = client.get("/ogc/collections/pavement/items")
    assert response.status_code == 200 and response.headers["content-type"] == GEOJSON
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 4 and body["numberReturned"] == 4
    first = body["features"][0]
    assert first["id"] == city["pavement"][0]
    assert first["geometry"]["type"] == "MultiLineString"
    assert first["properties"]["street_name"] == "MAIN ST"
    assert first["properties"]["pci"] == pytest.approx(72.6) and first["properties"]["band"] == "satisfactory"
    assert first["properties"]["src_OCI"] == pytest.approx(72.6) and first["properties"]["src_SEG"] == "A-1"
    assert "next" not in _rels(body)


def test_paging_follows_next_and_prev_links(client: TestClient, city) -> None:
    seen = []
    url = "/ogc/collections/pavement/items?limit=3"
    first = client.get(url).json()
    assert first["numberReturned"] == 3 and first["numberMatched"] == 4
    seen += [f["id"] for f in first["features"]]
    second = client.get(_rels(first)["next"]).json()
    assert _rels(first)["next"] == "http://testserver/ogc/collections/pavement/items?limit=3&offset=3"
    seen += [f["id"] for f in second["features"]]
    assert seen == city["pavement"]
    assert "next" not in _rels(second)
    assert _rels(second)["prev"] == "http://testserver/ogc/collections/pavement/items?limit=3"
    assert client.get("/ogc/collections/pavement/items?limit=5000").json()["numberReturned"] == 4  # capped at 1000


def test_bbox_and_property_filters(client: TestClient, city) -> None:
    lon, lat = CENTRE
    box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    near = client.get(f"/ogc/collections/pavement/items?bbox={box}").json()
    assert sorted(f["id"] for f in near["features"]) == sorted(city["pavement"][:3])
    assert near["numberMatched"] == 3
    main = client.get("/ogc/collections/pavement/items", params={"street": "main st"}).json()
    assert sorted(f["id"] for f in main["features"]) == sorted([city["pavement"][0], city["pavement"][3]])
    both = client.get("/ogc/collections/pavement/items", params={"street_name": "MAIN ST", "band": "poor"}).json()
    assert [f["id"] for f in both["features"]] == [city["pavement"][3]]
    near_main = client.get("/ogc/collections/pavement/items", params={"street": "MAIN ST", "bbox": box}).json()
    assert [f["id"] for f in near_main["features"]] == [city["pavement"][0]]
    gaps = client.get("/ogc/collections/sidewalk/items?gap=true").json()
    assert [f["id"] for f in gaps["features"]] == [city["sidewalk"][1]]
    out = client.get("/ogc/collections/streetlight/items?status=out").json()
    assert [f["properties"]["pole_id"] for f in out["features"]] == ["P-1"]


def test_single_item_and_missing_items(client: TestClient, city) -> None:
    feature_id = city["tract"][0]
    response = client.get(f"/ogc/collections/tract/items/{feature_id}")
    assert response.status_code == 200 and response.headers["content-type"] == GEOJSON
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == feature_id
    assert feature["properties"]["geoid"] == "25017350100"
    assert feature["properties"]["poverty_rate"] == pytest.approx(0.18)
    assert feature["geometry"]["type"] == "MultiPolygon"
    for path in ("/ogc/collections/tract/items/999999", "/ogc/collections/tract/items/abc",
                 "/ogc/collections/tract/items/99999999999", "/ogc/collections/tract/items/99999999999999999999",
                 "/ogc/collections/tract/items/²",
                 "/ogc/collections/roads/items/1"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("query, message", [
    ("bbox=1,2,3", "bbox must be four numbers"),
    ("bbox=a,b,c,d", "bbox must be numbers"),
    ("bbox=-71,42,-72,43", "minimum longitude and latitude before"),
    ("bbox=-200,42,-71,43", "within ±180"),
    ("limit=0", "limit must be at least 1"),
    ("limit=ten", "limit must be a whole number"),
    ("offset=-1", "offset must be at least 0"),
    ("offset=99999999999999999999999", "offset must be at most"),
    ("colour=red", "Unknown parameter 'colour'"),
    ("district_id=north", "district_id must be a whole number"),
    ("district=99999999999", "district_id 99999999999 is out of range"),
    ("f=xml", "f must be json or html"),
])
def test_bad_parameters_are_400_with_a_reason(client: TestClient, query: str, message: str) -> None:
    response = client.get(f"/ogc/collections/pavement/items?{query}")
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_items_revalidate_with_the_layer_revision(client: TestClient, session: Session, city) -> None:
    url = "/ogc/collections/pavement/items?limit=2"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/ogc/collections/pavement/items?limit=3").headers["ETag"] != etag
    set_layer(session, LayerKind.pavement, 4, revision=5)
    session.commit()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_browsers_get_html_tables(client: TestClient, city) -> None:
    html = {"Accept": "text/html,application/xhtml+xml"}
    landing = client.get("/ogc", headers=html)
    assert landing.headers["content-type"].startswith("text/html") and "OAPIF:" in landing.text
    collections = client.get("/ogc/collections?f=html")
    assert "Pavement condition" in collections.text and "Census tracts" in collections.text
    page = client.get("/ogc/collections/pavement/items?limit=2", headers=html)
    assert page.status_code == 200 and "<table" in page.text and "MAIN ST" in page.text
    assert "Showing 1–2 of 4." in page.text
    assert 'rel="next" href="http://testserver/ogc/collections/pavement/items?limit=2&amp;offset=2&amp;f=html"' \
        in page.text
    item = client.get(f"/ogc/collections/pavement/items/{city['pavement'][0]}?f=html")
    assert "src_SEG" in item.text and "A-1" in item.text
    collection = client.get("/ogc/collections/pavement?f=html")
    assert "street_name" in collection.text and "band" in collection.text
