"""Address points: imported from the files cities publish (reprojected, parts put together, bad rows
refused by name), found by what residents type on the map, and published like every other layer."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box
from sqlalchemy import text
from sqlmodel import Session, func, select

from app.importers.checks import ImportOptions
from app.importers.report import ImportFailed
from app.importers.service import import_layer
from app.layers.addresses import find_addresses, query_prefixes, search_key
from app.layers.store import FeatureRecord, write_layer
from app.settings import ImportSettings, Settings
from models.layers import AddressPoint, District, Layer, LayerKind
from tests.conftest import csrf_of, make_settings, sign_in
from tests.import_jobs import run_import_jobs

CAMBRIDGE = Path(__file__).parent / "data" / "cambridge_address_points_2249.geojson"


def _import(session: Session, settings, source: Path, **options):  # type: ignore[no-untyped-def]
    return import_layer(session=session, source=str(source), options=ImportOptions(kind=LayerKind.address, **options),
                        actor=None, settings=settings.imports)


def _geojson(path: Path, features: list[tuple[object, dict]]) -> Path:  # type: ignore[type-arg]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": None if geom is None else shapely.geometry.mapping(geom)}
        for geom, props in features]}))
    return path


def _addresses(session: Session) -> dict[str, AddressPoint]:
    session.expire_all()  # a replaced layer may reuse ids: read the rows, not the objects already loaded
    return {a.source_id: a for a in session.exec(select(AddressPoint)).all()}


def _cambridge_districts(session: Session) -> None:
    write_layer(session=session, kind=LayerKind.district, source="neighbourhoods", actor=None, records=[
        FeatureRecord(MultiPolygon([box(-71.110, 42.360, -71.098, 42.372)]), {"name": "The Port"}, source_id="P"),
        FeatureRecord(MultiPolygon([box(-71.119, 42.378, -71.112, 42.385)]), {"name": "Neighborhood Nine"},
                      source_id="N")])


def test_cambridge_address_points_in_state_plane_import_reprojected(session: Session, settings):
    _cambridge_districts(session)
    result = _import(session, settings, CAMBRIDGE)
    report = result.report
    assert report.crs.startswith("EPSG:2249") and report.crs_origin == "from the file"
    assert report.field_map == {"full_address": "Full_Addr", "house_number": "StNm", "street_name": "StName",
                                "unit": "Unit", "source_id": "address_id"}
    assert result.layer.feature_count == 12 and result.layer.revision == 1 and report.rejected_count == 0
    found = _addresses(session)
    city_hall = found["10412"]
    assert city_hall.full_address == "795 Massachusetts Ave" and city_hall.house_number == "795"
    assert city_hall.street_name == "Massachusetts Ave" and city_hall.search_key == "795 massachusetts ave"
    point = shapely.from_wkb(bytes(session.execute(select(func.ST_AsBinary(AddressPoint.geom))
                                                   .where(AddressPoint.id == city_hall.id)).scalar_one()))
    assert point.x == pytest.approx(-71.10497, abs=1e-6) and point.y == pytest.approx(42.36706, abs=1e-6)
    assert city_hall.attributes["BldgID"] == "B133056A" and city_hall.attributes["TYPE"] == "BUILDING"
    # two units at one door: the unit joins the address, so each can be found
    assert (found["30245"].full_address, found["30246"].full_address) == ("20 Ellery St Unit 1", "20 Ellery St Unit 2")
    assert found["30246"].unit == "2"
    # a park: its address is a name; "0" is no house number
    assert found["60001"].full_address == "Cambridge Common" and found["60001"].house_number is None
    districts = {d.id: d.name for d in session.exec(select(District)).all()}
    assert districts[city_hall.district_id] == "The Port"
    assert districts[found["52330"].district_id] == "Neighborhood Nine"
    assert found["60001"].district_id is None  # outside both boxes
    # importing the same file again changes no row: the layer keeps its revision (and its cached tiles)
    assert _import(session, settings, CAMBRIDGE).layer.revision == 1
    assert session.exec(select(func.count()).select_from(AddressPoint)).one() == 12


def test_arcgis_hub_and_nena_columns_make_the_address(session: Session, settings, tmp_path):
    hub = _geojson(tmp_path / "Address_Points.geojson", [
        (Point(-83.38, 33.95), {"OBJECTID": 1, "FULLADDR": "150 W Hancock Ave", "ADD_NUMBER": 150,
                                "ST_PREDIR": "W", "ST_NAME": "Hancock", "ST_POSTYP": "Ave", "ZIP": 30601}),
        (Point(-83.381, 33.95), {"OBJECTID": 2, "FULLADDR": None, "ADD_NUMBER": 152.0, "ST_PREDIR": "W",
                                 "ST_NAME": "Hancock", "ST_POSTYP": "Ave", "ZIP": 2139}),
    ])
    result = _import(session, settings, hub)
    assert result.report.field_map["street_type"] == "ST_POSTYP" and result.report.field_map["zip_code"] == "ZIP"
    rows = _addresses(session)
    assert rows["1"].full_address == "150 W Hancock Ave" and rows["1"].zip_code == "30601"
    assert rows["2"].full_address == "152 W Hancock Ave" and rows["2"].house_number == "152"
    assert rows["2"].street_name == "W Hancock Ave" and rows["2"].zip_code == "02139"  # the leading zero is back

    nena = _geojson(tmp_path / "SiteStructureAddressPoint.geojson", [
        (Point(-83.38, 33.95), {"Site_NGUID": "SSAP-1@athens.ga.us", "Add_Number": 12, "AddNum_Suf": "A",
                                "St_PreDir": "North", "St_Name": "Main", "St_PosTyp": "Street", "Unit": "3",
                                "Post_Code": "30605"}),
        (Point(-83.382, 33.95), {"Site_NGUID": "SSAP-2@athens.ga.us", "Add_Number": 7, "St_Name": "Main Street",
                                 "St_PosTyp": "Street", "Post_Code": "30605"}),
    ])
    _import(session, settings, nena)
    rows = _addresses(session)
    first = rows["SSAP-1@athens.ga.us"]
    assert first.full_address == "12A North Main Street Unit 3" and first.house_number == "12A"
    assert first.street_name == "North Main Street" and first.unit == "3" and first.search_key == "12a n main st unit 3"
    assert rows["SSAP-2@athens.ga.us"].full_address == "7 Main Street"  # the type is not said twice


def test_lines_and_empty_addresses_are_refused_by_name_and_nothing_is_written(session: Session, settings, tmp_path):
    path = _geojson(tmp_path / "addresses.geojson", [
        (Point(-71.10, 42.37), {"address_id": 9000, "Full_Addr": "1 Broadway"}),
        (LineString([(-71.10, 42.37), (-71.09, 42.37)]), {"address_id": 9001, "Full_Addr": "2 Broadway"}),
        (Point(-71.10, 42.371), {"address_id": 9002, "Full_Addr": "  ", "StNm": None, "StName": None}),
        (Point(-71.10, 42.372), {"address_id": 9003, "Full_Addr": None, "StNm": "14", "StName": None}),
        (Point(-71.10, 42.373), {"address_id": 9004, "Full_Addr": None, "StNm": "16", "StName": "Broadway"}),
    ])
    with pytest.raises(ImportFailed) as refused:
        _import(session, settings, path)
    message = str(refused.value)
    assert message.startswith("3 of 5 rows cannot be imported: address_id 9001, geometry: expected a point, got a "
                              "LineString; address_id 9002, full_address: has no address")
    assert "address_id 9003, full_address: has house number 14 but no street name" in message
    assert "Nothing was written" in message
    assert session.exec(select(func.count()).select_from(AddressPoint)).one() == 0
    assert session.get(Layer, "address") is None

    kept = _import(session, settings, path, skip_invalid=True)
    assert kept.layer.feature_count == 2
    assert sorted(a.full_address for a in _addresses(session).values()) == ["1 Broadway", "16 Broadway"]


def test_a_file_of_lines_is_not_an_address_layer(session: Session, settings, tmp_path):
    path = _geojson(tmp_path / "centerlines.geojson", [
        (MultiLineString([LineString([(-71.10, 42.37), (-71.09, 42.37)])]), {"ID": 1, "Full_Addr": "Broadway"})])
    with pytest.raises(ImportFailed, match=r"Address points needs points, but centerlines.geojson has lines"):
        _import(session, settings, path)
    assert session.get(Layer, "address") is None


def test_the_import_command_takes_address_points(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = {"GROUNDWORK_DATABASE_URL": url, "PATH": "", "COLUMNS": "200"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[1], check=False)

    assert run("db", "upgrade").returncode == 0
    done = run("import", "address", str(CAMBRIDGE))
    assert done.returncode == 0, done.stderr
    assert "Imported 12 features into Address points" in done.stderr and "EPSG:2249" in done.stderr


def test_search_keys_spell_addresses_one_way():
    assert search_key("12 North Main Street, Apt. 3") == search_key("12 N MAIN ST #3") == "12 n main st unit 3"
    assert search_key("7 Peña Avenue") == "7 pena ave"
    assert query_prefixes("12 Main Stre") == ["12 main st"]  # still typing "Street"
    assert query_prefixes("12 main st a") == ["12 main st a", "12 main st unit"]  # "a…" may be "apt"
    assert query_prefixes("  ") == []
    assert search_key("12 First Street") == search_key("12 1st St") == "12 1st st"  # numbered streets
    assert search_key("40 Twelfth Ave") == "40 12th ave" and search_key("5 Twentieth St") == "5 20th st"
    assert "12 1st" in query_prefixes("12 fir")  # still typing "First"


def _cambridge(session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    _cambridge_districts(session)
    _import(session, settings, CAMBRIDGE)
    write_layer(session=session, kind=LayerKind.pavement, source="streets", actor=None, records=[
        FeatureRecord(MultiLineString([LineString([(-71.1052, 42.3668), (-71.1040, 42.3662)])]),
                      {"street_name": "Massachusetts Ave", "pci": 71.0}, source_id="M1")])


def test_find_addresses_case_and_abbreviations(session: Session, settings):
    _cambridge(session, settings)

    def found(query: str) -> list[str]:
        return [m.address for m in find_addresses(session=session, query=query)]

    assert found("795 MASSACHUSETTS AVENUE") == found("795 mass") == ["795 Massachusetts Ave"]
    assert found("12 prospect street") == ["12 Prospect St"]
    assert found("20 Ellery St") == ["20 Ellery St Unit 1", "20 Ellery St Unit 2"]
    assert found("20 ellery street apt 2") == found("20 Ellery St #2") == ["20 Ellery St Unit 2"]
    assert found("10") == ["100 Inman St", "102 Inman St"] and found("1") == []  # two characters or more
    assert found("100 Inman St, Cambridge MA 02139") == ["100 Inman St"]
    assert found("9") == [] and found("%") == [] and found("_") == [] and found("") == []
    assert [m.address for m in find_addresses(session=session, query="10", limit=1)] == ["100 Inman St"]
    match = find_addresses(session=session, query="795 mass")[0]
    assert match.district == "The Port" and match.point_text == "-71.104970,42.367060"


def test_the_search_key_index_answers_prefix_searches(session: Session, settings, database):
    _cambridge(session, settings)
    prefix = "795 mass"
    if database.kind == "postgis":  # a dozen rows: make the planner show the index it can use
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = session.execute(text("EXPLAIN SELECT id FROM address_point WHERE search_key >= :lo AND search_key < "
                                    ":hi ORDER BY search_key LIMIT 8"), {"lo": prefix, "hi": prefix[:-1] + "t"})
    else:
        plan = session.execute(text("EXPLAIN QUERY PLAN SELECT id FROM address_point WHERE search_key >= :lo AND "
                                    "search_key < :hi ORDER BY search_key LIMIT 8"),
                               {"lo": prefix, "hi": prefix[:-1] + "t"})
    assert "ix_address_point_search_key" in " ".join(str(row[-1]) for row in plan)


def test_find_a_place_returns_addresses_and_works_without_javascript(client, session: Session, settings):
    _cambridge(session, settings)
    partial = client.get("/map/streets?q=795+massachusetts+avenue", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert 'data-place-point="-71.104970,42.367060"' in partial.text
    assert 'href="/map?address=795%20Massachusetts%20Ave"' in partial.text and "The Port" in partial.text
    streets_too = client.get("/map/streets?q=mass", headers={"HX-Request": "true"}).text
    assert "data-street-bounds" in streets_too and "data-place-point" not in streets_too
    assert "No street or address matches" in client.get("/map/streets?q=zz9", headers={"HX-Request": "true"}).text
    page = client.get("/map/streets?q=20+ellery")  # the form's results page, no JavaScript needed
    assert "<html" in page.text and "<h1>Find a street or address</h1>" in page.text
    assert "20 Ellery St Unit 1" in page.text and "/map?address=20%20Ellery%20St%20Unit%202" in page.text
    map_page = client.get("/map?address=20+ellery+street+%232").text  # any spelling of the address
    assert 'data-place="{&#34;lat&#34;: 42.37118' in map_page
    assert "&#34;name&#34;: &#34;20 Ellery St Unit 2&#34;}" in map_page
    assert 'value="20 Ellery St Unit 2"' in map_page
    assert "Find a street or address" in map_page
    assert "data-place=" not in client.get("/map?address=1+Nowhere+Rd").text


def test_without_address_points_the_box_still_says_street(client, session: Session):
    write_layer(session=session, kind=LayerKind.pavement, source="streets", actor=None, records=[
        FeatureRecord(MultiLineString([LineString([(-83.40, 33.95), (-83.39, 33.95)])]), {"street_name": "Oak St"})])
    assert "Find a street or address" not in client.get("/map").text
    assert "No street matches" in client.get("/map/streets?q=12+oak", headers={"HX-Request": "true"}).text


def test_address_points_are_published_like_every_layer(client, session: Session, settings):
    _cambridge(session, settings)
    collections = client.get("/ogc/collections").json()["collections"]
    address = next(c for c in collections if c["id"] == "address")
    assert address["title"] == "Address points" and "extent" in address
    items = client.get("/ogc/collections/address/items?street=ellery%20st").json()
    assert items["numberMatched"] == 2
    properties = items["features"][0]["properties"]
    assert properties["full_address"].startswith("20 Ellery St") and properties["src_BldgID"] == "B152007A"
    assert "search_key" not in properties
    tilejson = client.get("/tiles/address.json").json()
    assert tilejson["minzoom"] == 16 and set(tilejson["vector_layers"][0]["fields"]) == {
        "id", "address", "number", "street", "unit"}
    x, y = _tile(-71.10497, 42.36706, 17)  # City Hall's tile
    tile = mapbox_vector_tile.decode(client.get(f"/tiles/address/17/{x}/{y}.mvt").content)
    assert "795 Massachusetts Ave" in {f["properties"]["address"] for f in tile["address"]["features"]}
    rows = list(csv.DictReader(io.StringIO(client.get("/data/address.csv").text)))
    assert len(rows) == 12 and "full_address" in rows[0] and "search_key" not in rows[0]
    assert {r["full_address"] for r in rows} >= {"795 Massachusetts Ave", "20 Ellery St Unit 2"}
    assert "Address points" in client.get("/data").text
    assert "address" not in {layer["id"] for layer in _map_config(client.get("/map").text)["layers"]}


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def _map_config(page: str) -> dict:  # type: ignore[type-arg]
    return json.loads(html.unescape(re.search(r'data-config="([^"]+)"', page).group(1)))  # type: ignore[union-attr]


@pytest.fixture
def settings(database, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(database.url, imports=ImportSettings(work_dir=str(tmp_path / "imports")))


def test_staff_import_address_points_from_the_import_page(client, session: Session, staff, settings):
    sign_in(client, staff.email)
    assert '<option value="address">Address points</option>' in client.get("/staff/import").text
    uploaded = client.post("/staff/import", data={"kind": "address", "csrf_token": csrf_of(client, "/staff/import")},
                           files=[("files", (CAMBRIDGE.name, CAMBRIDGE.read_bytes(), "application/geo+json"))])
    assert uploaded.status_code == 303
    preview = client.get("/staff/import/preview").text
    assert '<option value="StNm" selected>StNm</option>' in preview and "EPSG:2249" in preview
    assert session.get(Layer, "address") is None  # a preview writes nothing
    done = client.post("/staff/import/confirm", data={"csrf_token": csrf_of(client, "/staff/import/preview"),
                                                     "action": "import"})
    assert done.status_code == 303
    run_import_jobs(session, settings)
    assert "Imported 12 features into Address points (revision 1)" in client.get(done.headers["location"]).text


def test_the_api_finds_addresses_for_other_sites(client, session: Session, settings):
    _cambridge(session, settings)
    found = client.get("/api/v1/addresses", params={"q": "20 ellery street"})
    assert found.status_code == 200
    body = found.json()
    assert body["query"] == "20 ellery street"
    assert [m["address"] for m in body["matches"]] == ["20 Ellery St Unit 1", "20 Ellery St Unit 2"]
    assert set(body["matches"][0]) == {"id", "address", "zip_code", "district", "lon", "lat"}
    one = client.get("/api/v1/addresses", params={"q": "795 mass", "limit": 1}).json()["matches"]
    assert [(m["address"], m["district"], m["lon"], m["lat"]) for m in one] == [
        ("795 Massachusetts Ave", "The Port", -71.10497, 42.36706)]
    assert client.get("/api/v1/addresses", params={"q": "1 Nowhere Rd"}).json()["matches"] == []
    assert client.get("/api/v1/addresses", params={"q": "x" * 201}).status_code == 422
    assert client.get("/api/v1/addresses", params={"q": "12", "limit": 500}).status_code == 422
    assert "/api/v1/addresses" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("kind", ["spatialite", "postgis"])
def test_upgrading_respells_stored_address_keys(kind, tmp_path):
    import uuid

    from app import migrate
    from app.db import make_engine
    from tests.conftest import _postgres_url, create_postgres_database, drop_postgres_database

    if kind == "spatialite":
        url, remove = f"sqlite:///{tmp_path / 'old.sqlite'}", None
    else:
        base = _postgres_url()
        if not base:
            pytest.skip("PostGIS tests need GROUNDWORK_TEST_POSTGRES_URL")
        name = f"gw_test_{uuid.uuid4().hex[:10]}"
        url, remove = create_postgres_database(base, name), (base, name)
    try:
        migrate.upgrade(url, "0006_address_points")  # keys as the previous release spelled them
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO address_point (full_address, search_key, attributes, geom) VALUES "
                "('12 First Street', '12 first st', '{}', ST_GeomFromText('POINT(-83.4 33.95)', 4326)), "
                "('3 Main St', '3 main st', '{}', ST_GeomFromText('POINT(-83.4 33.95)', 4326))"))
        migrate.upgrade(url)
        with Session(engine) as session:
            assert sorted(session.exec(select(AddressPoint.full_address, AddressPoint.search_key)).all()) == [
                ("12 First Street", "12 1st st"), ("3 Main St", "3 main st")]
            assert [m.address for m in find_addresses(session=session, query="12 1st")] == ["12 First Street"]
        engine.dispose()
    finally:
        if remove is not None:
            drop_postgres_database(*remove)
