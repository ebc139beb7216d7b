"""/ogc items written by the database: coordinates to 7 decimals (about 1 cm), on both databases."""

from __future__ import annotations

import json
import re
from datetime import date
from urllib.parse import parse_qsl

from fastapi.testclient import TestClient
from shapely.geometry import LineString, MultiLineString
from sqlalchemy import update
from sqlmodel import Session

from app.layers.specs import spec_for
from app.layers.store import FeatureRecord, write_layer
from app.ogc.documents import encode, items_document
from app.ogc.features import items, items_text, layer_state, parse_query
from models.layers import FEATURE_TABLES, LayerKind


def test_items_and_an_item_carry_coordinates_to_seven_decimals(client: TestClient, session: Session) -> None:
    line = MultiLineString([LineString([(-71.092512345678912, 42.383012345678912), (-71.0905, 42.383)])])
    write_layer(session=session, kind=LayerKind.pavement, source="survey.geojson", actor=None, records=[
        FeatureRecord(line, {"street_name": "MAIN ST", "pci": 70.0}, {"SEG": "A-1"}, "A-1")])
    response = client.get("/ogc/collections/pavement/items?limit=5")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/geo+json")
    numbers = re.findall(r"-?\d+\.\d+", json.dumps(response.json()["features"][0]["geometry"]))
    assert numbers and all(len(n.split(".")[1]) <= 7 for n in numbers)
    [feature] = response.json()["features"]
    first = feature["geometry"]["coordinates"][0][0]
    assert first == [-71.0925123, 42.3830123]
    assert feature["properties"]["street_name"] == "MAIN ST" and feature["properties"]["src_SEG"] == "A-1"
    one = client.get(f"/ogc/collections/pavement/items/{feature['id']}").json()
    assert one["geometry"] == feature["geometry"] and one["links"]
    assert client.get(f"/ogc/collections/pavement/items/{feature['id']}?f=html").text.count("MultiLineString")


def _same_text(document: object) -> str:
    """The document's JSON with every value's type showing (1.0 and 1 differ)."""
    return json.dumps(document, ensure_ascii=False)


def test_items_written_by_the_database_are_what_python_writes(client: TestClient, session: Session) -> None:
    """The JSON page is built by the database; the HTML page and single items by Python: same content,
    same property types (a whole float keeps its decimal point), same order, every link."""
    lines = [MultiLineString([LineString([(-71.0925 + i / 1000, 42.383), (-71.0905 + i / 1000, 42.383)])])
             for i in range(5)]
    records = [
        FeatureRecord(lines[0], {"street_name": 'O\'BRIEN "THE" ST', "pci": 0.1 + 0.2, "width_m": 10.0,
                                 "lanes": 2, "survey_date": date(2024, 5, 1)},
                      {"SEG": "A-1", "OCI": 72.6, "WHOLE": 100.0, "N": 7, "OK": True, "NO": False, "NONE": None,
                       "Calle ñandú": "línea\ttab\u0001"}, "A-1"),
        FeatureRecord(lines[1], {"street_name": "ELM ST", "pci": 12.345678, "width_m": 7.25}, {}, "A-2"),
        FeatureRecord(lines[2], {"street_name": None, "pci": None, "functional_class": "arterial"},
                      {"SEG": "A-3", "TINY": 1e-05, "BIG": 123456789.123}, None),
        FeatureRecord(lines[3], {"street_name": "OAK AVE", "pci": 100.0}, {"SEG": "A-4"}, "A-4"),
        FeatureRecord(lines[4], {"street_name": "MAIN ST", "pci": 55.5}, {"SEG": "A-5"}, "A-5"),
    ]
    write_layer(session=session, kind=LayerKind.pavement, source="survey.geojson", actor=None, records=records)
    write_layer(session=session, kind=LayerKind.sidewalk, source="walks.geojson", actor=None, records=[
        FeatureRecord(lines[0], {"is_gap": True, "trip_hazards": 3, "width_m": 1.5}, {"GAP": "yes"}, "S-1"),
        FeatureRecord(lines[1], {"is_gap": False}, {}, "S-2")])
    walks = FEATURE_TABLES[LayerKind.sidewalk].__table__  # type: ignore[attr-defined]
    session.execute(update(walks).where(walks.c.source_id == "S-2").values(attributes=None))  # JSON null
    session.commit()
    for url in ("/ogc/collections/pavement/items?limit=2&offset=1", "/ogc/collections/pavement/items",
                "/ogc/collections/sidewalk/items", "/ogc/collections/pavement/items?street_name=MAIN%20ST"):
        page = client.get(url).json()
        for feature in page["features"]:
            one = client.get(f"{url.split('?')[0]}/{feature['id']}").json()
            assert _same_text(feature) == _same_text({k: v for k, v in one.items() if k != "links"}), url
        spec = spec_for(url.split("/")[3])
        query = parse_query(spec, dict(client.get(url).request.url.params))
        python = items_document(spec=spec, page=items(session=session, spec=spec, query=query),
                                base="http://testserver", params=dict(parse_qsl(url.partition("?")[2])),
                                time_stamp=page["timeStamp"])
        assert _same_text(page) == _same_text(json.loads(b"".join(encode(python)))), url
    first = client.get("/ogc/collections/pavement/items?limit=1").json()["features"][0]
    assert first["properties"]["width_m"] == 10.0 and isinstance(first["properties"]["width_m"], float)
    assert first["properties"]["src_WHOLE"] == 100.0 and isinstance(first["properties"]["src_WHOLE"], float)
    assert first["properties"]["survey_date"] == "2024-05-01" and first["properties"]["src_OK"] is True


def _database_and_python_pages(client: TestClient, session: Session, url: str) -> tuple[str, str]:
    page = client.get(url).json()
    spec = spec_for(url.split("/")[3])
    query = parse_query(spec, dict(client.get(url).request.url.params))
    python = items_document(spec=spec, page=items(session=session, spec=spec, query=query),
                            base="http://testserver", params=dict(parse_qsl(url.partition("?")[2])),
                            time_stamp=page["timeStamp"])
    return _same_text(page), _same_text(json.loads(b"".join(encode(python))))


def test_src_attributes_named_differently_feature_by_feature_come_out_as_stored(client: TestClient,
                                                                                  session: Session) -> None:
    """Attributes written by name on PostGIS (the names the layer uses, found once per layer state):
    features lacking some names, lists and objects kept as their JSON text, names SQL would choke on.
    (SpatiaLite writes a list or object's text without spaces, so it gets none here.)"""
    lines = [MultiLineString([LineString([(-71.0925 + i / 1000, 42.383), (-71.0905 + i / 1000, 42.383)])])
             for i in range(4)]
    odd = "it's 100% :done"
    postgres = session.get_bind().dialect.name == "postgresql"
    nested = {"LIST": [1, "two"], "OBJ": {"a": {"b": None}}} if postgres else {"LIST": "[1]", "OBJ": "{}"}
    write_layer(session=session, kind=LayerKind.pavement, source="survey.geojson", actor=None, records=[
        FeatureRecord(lines[0], {"pci": 50.0}, {"SEG": "A-1", **nested}, "A-1"),
        FeatureRecord(lines[1], {"pci": 60.0}, {odd: 1.5, "Z": "z"}, "A-2"),
        FeatureRecord(lines[2], {"pci": 70.0}, {}, "A-3"),
        FeatureRecord(lines[3], {"pci": 80.0}, {"LIST": "not a list", "SEG": "A-4"}, "A-4")])
    for url in ("/ogc/collections/pavement/items", "/ogc/collections/pavement/items?limit=2&offset=1"):
        database, python = _database_and_python_pages(client, session, url)
        assert database == python, url
    first, second = client.get("/ogc/collections/pavement/items?limit=2").json()["features"]
    if postgres:
        assert first["properties"]["src_LIST"] == '[1, "two"]'
        assert first["properties"]["src_OBJ"] == '{"a": {"b": null}}'
    stored_order = ["src_Z", f"src_{odd}"] if postgres else [f"src_{odd}", "src_Z"]  # jsonb: shorter names first
    assert list(second["properties"])[-2:] == stored_order and second["properties"][f"src_{odd}"] == 1.5


def test_a_page_read_as_the_layer_changes_has_every_attribute(client: TestClient, session: Session) -> None:
    """The names are those of the layer's state when the page was asked for; a page read after a new
    import landed still writes the new attributes (the query sees the layer changed)."""
    line = MultiLineString([LineString([(-71.0925, 42.383), (-71.0905, 42.383)])])
    write_layer(session=session, kind=LayerKind.pavement, source="survey.geojson", actor=None, records=[
        FeatureRecord(line, {"pci": 50.0}, {"SEG": "A-1"}, "A-1")])
    spec = spec_for("pavement")
    before = layer_state(session=session, spec=spec)
    query = parse_query(spec, {})
    assert '"src_SEG":"A-1"' in items_text(session=session, spec=spec, query=query, state=before).features[0]
    write_layer(session=session, kind=LayerKind.pavement, source="survey.geojson", actor=None, records=[
        FeatureRecord(line, {"pci": 50.0}, {"SEG": "A-1", "NEW": "yes"}, "A-1")])
    [text] = items_text(session=session, spec=spec, query=query, state=before).features
    assert json.loads(text)["properties"]["src_NEW"] == "yes"
    assert client.get("/ogc/collections/pavement/items").json()["features"][0]["properties"]["src_NEW"] == "yes"
