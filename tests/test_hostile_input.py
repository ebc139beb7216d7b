"""A hostile-input corpus: malformed and oversized geodata, unknown and wrong CRS, non-UTF-8,
archives that would escape or explode, deep nesting, formula cells, SQL metacharacters and
Unicode tricks. Each case gets a clear message (never a traceback or a 500) and changes nothing:
every table's row count and every layer's revision are the same before and after."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from app.importers.checks import ImportOptions
from app.importers.report import ImportFailed
from app.importers.service import import_layer
from models.layers import Layer, LayerKind
from tests.conftest import csrf_of, sign_in

LINE = [[-71.10, 42.37], [-71.10, 42.371]]


def _collection(features: list[dict]) -> bytes:  # type: ignore[type-arg]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _street(i: int = 0, *, pci: object = 70, name: str = "Elm St", coordinates: object = None) -> dict:  # type: ignore[type-arg]
    return {"type": "Feature", "properties": {"ID": f"S{i}", "Street": name, "PCI": pci},
            "geometry": {"type": "LineString",
                         "coordinates": coordinates or [[x + i * 0.001, y] for x, y in LINE]}}


def _deep(depth: int, inner: str = "0") -> str:
    return "[" * depth + inner + "]" * depth


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with zipfile.ZipFile(path, "w", compression=compression) as zipped:
            for name, data in entries.items():
                zipped.writestr(name, data)
    return write


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    write: Callable[[Path], None]
    message: str  # a regular expression the message must match
    kind: str = "pavement"
    options: dict | None = None  # type: ignore[type-arg]
    imports: dict | None = None  # type: ignore[type-arg]


GOOD = _collection([_street(0), _street(1)])
CORPUS = [
    Case("deep-properties", "deep.geojson", _bytes(
        ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":' + _deep(50_000)
         + '},"geometry":{"type":"Point","coordinates":[-71.1,42.37]}}]}').encode()),
         r"deep.geojson is nested more than 40 levels deep"),
    Case("deep-coordinates", "deep.geojson", _bytes(
        ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
         '"geometry":{"type":"LineString","coordinates":' + _deep(100_000) + '}}]}').encode()),
         r"nested more than 40 levels deep"),
    Case("deep-just-over-the-limit", "deep.geojson", _bytes(
        ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":' + _deep(41)
         + '},"geometry":null}]}').encode()), r"nested more than 40 levels deep"),
    Case("truncated-json", "streets.geojson", _bytes(GOOD[:-7]), r"streets.geojson is not valid JSON"),
    Case("empty-file", "streets.geojson", _bytes(b""), r"streets.geojson is not valid JSON: Expecting value at line 1"),
    Case("json-but-not-geojson", "streets.geojson", _bytes(b"[1, 2, 3]"), r"streets.geojson is JSON but not GeoJSON"),
    Case("binary-garbage", "streets.geojson", _bytes(bytes(range(256)) * 40),
         r"streets.geojson is not UTF-8 text, so it is not GeoJSON"),
    Case("non-utf8-geojson", "streets.geojson", _bytes(GOOD.replace(b"Elm St", b"Elm \xff\xfe St")),
         r"streets.geojson has text that is not UTF-8 \(invalid start byte at byte \d+\); save it as UTF-8"),
    Case("utf16-geojson", "streets.geojson", _bytes(GOOD.decode().encode("utf-16")),
         r"streets.geojson is not UTF-8 text"),
    Case("unknown-crs", "streets.geojson", _bytes(json.dumps({
        "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:99999"}},
        "features": [_street(0)]}).encode()),
         r"streets.geojson declares the coordinate reference system 'EPSG:99999', which is not known"),
    Case("wrong-crs-projected-metres-as-degrees", "streets.geojson",
         _bytes(_collection([_street(0, coordinates=[[327000.0, 4690000.0], [327050.0, 4690020.0]])])),
         r"are not longitude/latitude"),
    Case("latitude-out-of-range", "streets.geojson",
         _bytes(_collection([_street(0, coordinates=[[-71.1, 142.37], [-71.1, 142.38]])])),
         r"are not longitude/latitude"),
    Case("nan-coordinates", "streets.geojson", _bytes(
        GOOD.replace(b"[-71.1, 42.37]", b"[NaN, Infinity]")),
         r"1 of 2 rows cannot be imported: ID S0, geometry"),
    Case("points-as-pavement", "streets.geojson", _bytes(_collection([
        {"type": "Feature", "properties": {"PCI": 70}, "geometry": {"type": "Point", "coordinates": [-71.1, 42.37]}}])),
         r"Pavement condition needs lines, but streets.geojson has points"),
    Case("no-features", "streets.geojson", _bytes(_collection([])),
         r"streets.geojson has no features; nothing was changed"),
    Case("too-many-features", "streets.geojson", _bytes(_collection([_street(i) for i in range(5)])),
         r"streets.geojson has 5 features, more than the limit of 3", imports={"max_features": 3}),
    Case("too-many-csv-rows", "lights.csv", _bytes(b"PoleID,Latitude,Longitude\n" + b"".join(
        f"P{i},42.37,-71.1{i}\n".encode() for i in range(5))), r"lights.csv has 5 features, more than the limit",
         kind="streetlight", imports={"max_features": 3}),
    Case("formula-in-a-number", "streets.geojson", _bytes(_collection([_street(0, pci='=1+1'),
                                                                         _street(1, pci="=HYPERLINK(\"x\")")])),
         r"'=1\+1' is not a number \(column PCI\)"),
    Case("csv-huge-field", "lights.csv", _bytes(b"PoleID,Latitude,Longitude,Note\nP1,42.37,-71.1,"
                                                + b"x" * 300_000 + b"\n"),
         r"lights.csv could not be read as CSV: field larger than field limit", kind="streetlight"),
    Case("csv-nul-bytes", "lights.csv", _bytes(b"PoleID,Latitude,Longitude\nP\x001,42.37,-71.1\n"),
         r"lights.csv contains NUL bytes, so it is not a text CSV file", kind="streetlight"),
    Case("csv-header-only", "lights.csv", _bytes(b"PoleID,Latitude,Longitude\n"), r"lights.csv has no features",
         kind="streetlight"),
    Case("csv-utf16", "lights.csv", _bytes("PoleID,Latitude,Longitude\nP1,42.37,-71.1\n".encode("utf-16")),
         r"lights.csv is UTF-16 text; save it as CSV \(UTF-8\)", kind="streetlight"),
    Case("zip-parent-path", "streets.zip", _zip({"../../escaped.geojson": GOOD}), r"unsafe path"),
    Case("zip-absolute-path", "streets.zip", _zip({"/tmp/escaped.geojson": GOOD}), r"unsafe path"),
    Case("zip-bomb", "bomb.zip", _zip({"streets.geojson": b" " * 3_000_000}, zipfile.ZIP_DEFLATED),
         r"bomb.zip would expand to 3 MB, over the limit of 2 MB", imports={"max_unzipped_mb": 2}),
    Case("zip-with-nothing-readable", "streets.zip", _zip({"readme.txt": b"hello"}),
         r"holds no Shapefile, GeoPackage, GeoJSON or CSV"),
    Case("zip-with-two-data-files", "streets.zip", _zip({"a.geojson": GOOD, "b.geojson": GOOD}),
         r"holds several data files"),
    Case("not-a-zip", "streets.zip", _bytes(b"PK\x03\x04 not really a zip"), r"streets.zip is not a readable zip file"),
    Case("geopackage-that-is-text", "streets.gpkg", _bytes(b"hello, I am not SQLite"),
         r"streets.gpkg could not be read: streets.gpkg not recognized"),
    Case("shapefile-alone", "streets.shp", _bytes(b"\x00\x00\x27\x0a" + b"\x00" * 96), r"missing its .dbf"),
    Case("executable", "streets.exe", _bytes(b"MZ\x90\x00"), r"cannot read .exe"),
    Case("unicode-extension-trick", "streets\u202enosj\u200b.exe", _bytes(GOOD), r"cannot read"),
    Case("sql-in-the-layer-name", "streets.gpkg", _bytes(b"not sqlite"), r"streets.gpkg could not be read",
         options={"layer": "x'; DROP TABLE user_account; --"}),
    Case("sql-in-the-crs", "streets.geojson", _bytes(GOOD), r"Unknown coordinate reference system",
         options={"crs": "EPSG:4326'; DROP TABLE layer; --"}),
]


def _state(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """Row counts of every table, and every layer's revision."""
    tables = [t for t in inspect(session.connection()).get_table_names()
              if not t.startswith(("spatial", "geometry_columns", "sqlite", "views_", "virts_", "idx_",
                                   "spatialite", "sql_statements", "data_licenses", "ElementaryGeometries",
                                   "KNN", "SE_", "rl2", "vector_layers", "wms_", "topologies", "networks",
                                   "raster_", "geom_cols", "alembic", "spatial_ref_sys"))]
    counts = {t: session.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}
    revisions = {layer.kind: layer.revision for layer in session.exec(select(Layer))}
    return counts, revisions


@pytest.fixture
def existing(session: Session, settings, tmp_path: Path) -> None:
    """A pavement layer already loaded, so 'nothing changed' covers replacing live data too."""
    good = tmp_path / "good.geojson"
    good.write_bytes(GOOD)
    import_layer(session=session, source=str(good), options=ImportOptions(kind=LayerKind.pavement), actor=None,
                 settings=settings.imports)


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_hostile_file_gets_a_clear_message_and_changes_nothing(session: Session, settings, tmp_path: Path,
                                                              existing, case: Case):
    path = tmp_path / "in" / case.file
    path.parent.mkdir()
    case.write(path)
    imports = settings.imports.model_copy(update={"work_dir": str(tmp_path / "work"), **(case.imports or {})})
    before = _state(session)
    with pytest.raises(ImportFailed) as failed:
        import_layer(session=session, source=str(path),
                     options=ImportOptions(kind=LayerKind(case.kind), **(case.options or {})),
                     actor=None, settings=imports)
    message = str(failed.value)
    assert re.search(case.message, message), message
    assert str(tmp_path) not in message  # no server paths
    session.rollback()
    assert _state(session) == before
    assert not (tmp_path / "escaped.geojson").exists() and not Path("/tmp/escaped.geojson").exists()


def test_a_deeply_nested_upload_gets_a_message_on_the_preview_page(client, session: Session, staff):
    sign_in(client, staff.email)
    before = _state(session)
    nested = ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":' + _deep(100_000)
              + '},"geometry":null}]}').encode()
    uploaded = client.post("/staff/import", data={"kind": "pavement", "csrf_token": csrf_of(client, "/staff/import")},
                           files=[("files", ("deep.geojson", nested, "application/geo+json"))])
    assert uploaded.status_code < 500
    preview = client.get("/staff/import/preview")
    assert preview.status_code < 500
    assert "deep.geojson is nested more than 40 levels deep" in preview.text
    assert 'value="import"' not in preview.text
    assert _state(session) == before


@pytest.mark.parametrize("query", ["' OR 1=1 --", "%", "_", "\\", "'; DROP TABLE address_point; --",
                                   "\u202eTS MLE", "Elm\u200bSt", "<script>alert(1)</script>"])
def test_street_search_takes_sql_metacharacters_and_unicode_tricks_as_text(client, session: Session, query):
    before = _state(session)
    response = client.get("/map/streets", params={"q": query}, headers={"accept": "application/json"})
    assert response.status_code in (200, 422)
    assert "<script>alert(1)</script>" not in response.text
    assert _state(session) == before
