"""/ogc items written by the database: coordinates to 7 decimals (about 1 cm), on both databases."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from shapely.geometry import LineString, MultiLineString
from sqlmodel import Session

from app.layers.store import FeatureRecord, write_layer
from models.layers import LayerKind


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
