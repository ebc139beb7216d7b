"""Reading a source batch by batch (``open_source``) gives what reading it whole gave: the same
columns, rows, geometries and notes, the same refusals, and values as pyogrio's own reader gives
them; and it holds one batch at a time, however large the file."""

from __future__ import annotations

import json
import math
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely

from app.importers.report import ImportFailed
from app.importers.sources import Batch, SourceTable, _scan_geojson, open_source
from app.settings import ImportSettings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CITY_FILES = [DATA / "cambridge" / "BOUNDARY_CDDNeighborhoods.geojson",
              DATA / "cambridge" / "TRANS_Centerlines.geojson",
              DATA / "cambridge" / "INFRA_StreetLightsNotCityOwned.geojson",
              DATA / "somerville-2015-pavement" / "BL_SEGMENTS_2015.shp"]
needs_city_files = pytest.mark.skipif(not all(f.exists() for f in CITY_FILES), reason="../shared/data is not here")
pytestmark = pytest.mark.filterwarnings("ignore:Measured \\(M\\) geometry types:UserWarning")


def _settings(**imports: Any) -> ImportSettings:
    return ImportSettings(**imports)


def _read(path: Path, tmp_path: Path, batch_size: int, **imports: Any) -> tuple[SourceTable, list[Batch]]:
    with open_source(str(path), work_dir=tmp_path / "work", settings=_settings(**imports),
                     batch_size=batch_size) as table:
        return table, list(table.batches)


def _joined(batches: list[Batch]) -> tuple[list[dict[str, Any]], list[bytes | None]]:
    rows = [row for batch in batches for row in batch.rows]
    geometries = [None if g is None else g.wkb for batch in batches for g in batch.geometries]
    return rows, geometries


def _geopackage(path: Path) -> Path:
    """Every field type a GeoPackage holds, with missing values, and one 3-D point."""
    n = 23
    points = shapely.points(np.arange(n) * 0.001 - 71.1, np.full(n, 42.37))
    wkb = np.array([shapely.to_wkb(p) for p in points], dtype=object)
    wkb[4] = None
    wkb[9] = shapely.to_wkb(shapely.from_wkt("POINT Z (-71.1 42.37 12)"), output_dimension=3)
    dates = np.array([f"2024-01-{i % 28 + 1:02d}" for i in range(n)], dtype="datetime64[D]")
    dates[3] = np.datetime64("NaT")
    moments = np.array([f"2024-02-03T04:05:{i:02d}" for i in range(n)], dtype="datetime64[ms]")
    moments[5] = np.datetime64("NaT")
    floats = np.linspace(0.1, 9.9, n)
    floats[6] = np.nan
    fields = {"count": np.arange(n, dtype=np.int32), "big": np.arange(n, dtype=np.int64) * 2**33,
              "small": np.arange(n, dtype=np.int16), "pci": floats, "width": floats.astype(np.float32),
              "lit": np.arange(n) % 3 == 0, "street": np.array([None if i == 7 else f"{'Elm Ñ' if i % 2 else 'Oak'} St"
                                                                 for i in range(n)], dtype=object),
              "empty": np.array([""] * n, dtype=object), "inspected": dates, "updated": moments}
    pyogrio.raw.write(path, wkb, geometry_type="Unknown", field_data=list(fields.values()), fields=list(fields),
                      crs="EPSG:4326", driver="GPKG")
    return path


def _as_read_whole(path: Path) -> tuple[list[str], list[list[Any]], list[bytes | None]]:
    """What pyogrio.raw.read gives, made plain the way the reader always has: NaN is None, bytes are
    text (a missing integer makes pyogrio's column floats: 1.0 == 1, so the values still compare)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meta, _, wkb, values = pyogrio.raw.read(path, datetime_as_string=True)
    plain = [[None if (isinstance(v, float) and math.isnan(v)) else v.decode() if isinstance(v, bytes) else v
              for v in array.tolist()] for array in values]
    found = shapely.from_wkb(np.asarray(wkb, dtype=object))
    heights = shapely.has_z(found)
    found[heights] = shapely.force_3d(found[heights])  # pyogrio's reader drops M, keeps Z
    return [str(c) for c in meta["fields"]], plain, [None if g is None else g.wkb for g in found.tolist()]


@needs_city_files
@pytest.mark.parametrize("path", CITY_FILES, ids=lambda p: p.name)
def test_small_batches_read_what_one_batch_reads_and_what_pyogrio_reads(path: Path, tmp_path: Path):
    whole, [one] = _read(path, tmp_path, 1_000_000)
    table, batches = _read(path, tmp_path, 7)
    assert [b.start for b in batches] == list(range(0, len(one.rows), 7))
    assert (table.columns, table.notes, table.format, table.crs) == (whole.columns, whole.notes, whole.format,
                                                                      whole.crs)
    assert table.estimated == len(one.rows)
    assert _joined(batches) == _joined([one])
    columns, values, geometries = _as_read_whole(path)
    assert table.columns == columns
    assert [one.rows.column(c) for c in columns] == values
    assert [None if g is None else g.wkb for g in one.geometries] == geometries


@needs_city_files
def test_the_shapefile_says_its_measures_were_dropped_and_its_lines_are_flat(tmp_path: Path):
    table, batches = _read(CITY_FILES[-1], tmp_path, 100)
    assert table.notes == ["Measured (M) coordinates were dropped."]
    geometries = [g for b in batches for g in b.geometries]
    assert not any(shapely.has_m(geometries)) and not any(shapely.has_z(geometries))
    assert batches[0].rows[0]["Inspection"] == "2012-09-28"  # a date reads as its ISO text


def test_every_geopackage_field_type_reads_as_pyogrio_reads_it(tmp_path: Path):
    path = _geopackage(tmp_path / "lights.gpkg")
    table, batches = _read(path, tmp_path, 5)
    columns, values, geometries = _as_read_whole(path)
    rows, found = _joined(batches)
    assert table.columns == columns and table.format == "geopackage" and table.estimated == 23
    assert [[row[c] for row in rows] for c in columns] == values
    assert found == geometries
    assert table.notes == ["Z (height) coordinates were dropped; the map is 2-D."]  # once, found in batch 2
    first = rows[0]
    assert [type(first[c]) for c in columns] == [int, int, int, float, float, bool, str, str, str, str]
    assert (rows[3]["inspected"], rows[5]["updated"], rows[6]["pci"], rows[7]["street"]) == (None, None, None, None)
    assert rows[1]["updated"] == "2024-02-03T04:05:01"
    assert rows[1]["street"] is rows[3]["street"]  # equal texts are one object


def test_a_missing_integer_is_none_beside_whole_numbers(tmp_path: Path):
    """pyogrio's reader turned the whole column into floats (7.0); a batch cannot know another
    batch's gaps, so integers stay integers."""
    path = tmp_path / "lights.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"POLE": i if i != 2 else None, "LIT": i != 1 if i != 3 else None},
         "geometry": {"type": "Point", "coordinates": [-71.1, 42.37]}} for i in range(5)]}))
    _, batches = _read(path, tmp_path, 2)
    rows, _ = _joined(batches)
    assert [row["POLE"] for row in rows] == [0, 1, None, 3, 4]
    assert all(type(row["POLE"]) is int for row in rows if row["POLE"] is not None)
    assert [row["LIT"] for row in rows] == [True, False, True, None, True]


def _lights_csv(path: Path, n: int, *, wkt_from: int = 0) -> Path:
    lines = ["PoleID,Status,Shape"] + [f"P{i},{'On' if i % 2 else ''},{'POINT (-71.1 42.3)' if i >= wkt_from else ''}"
                                       for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_csv_reads_in_batches_and_finds_its_wkt_column_past_the_first_batch(tmp_path: Path):
    path = _lights_csv(tmp_path / "lights.csv", 40, wkt_from=20)
    whole, [one] = _read(path, tmp_path, 1000)
    table, batches = _read(path, tmp_path, 7)
    assert table.notes == whole.notes == ["Geometry from the WKT column 'Shape'."]
    assert [b.start for b in batches] == [0, 7, 14, 21, 28, 35]
    assert _joined(batches) == _joined([one])
    assert one.rows[0] == {"PoleID": "P0", "Status": None, "Shape": None} and one.geometries[25] is not None


def test_a_latin1_csv_reads_and_says_so(tmp_path: Path):
    path = tmp_path / "lights.csv"
    path.write_bytes("PoleID,Street,Latitude,Longitude\nP1,Peña St,42.37,-71.1\n".encode("cp1252"))
    table, [batch] = _read(path, tmp_path, 7)
    assert batch.rows[0]["Street"] == "Peña St"
    assert table.notes[0] == "lights.csv is not UTF-8; it was read as Windows-1252 (Latin-1)."


def test_the_limit_names_the_real_count_when_the_stream_passes_it(tmp_path: Path):
    """``\\u0046eature`` is "Feature" to GDAL but not to the scan, so the scan estimates no features
    and the stream finds the limit passed."""
    path = tmp_path / "streets.geojson"
    feature = '{"type":"\\u0046eature","properties":{"ID":1},"geometry":{"type":"Point","coordinates":[-71.1,42.37]}}'
    path.write_text('{"type":"FeatureCollection","features":[' + ",".join([feature] * 12) + "]}")
    with open_source(str(path), work_dir=tmp_path, settings=_settings(max_features=5), batch_size=2) as table:
        assert table.estimated == 0
        read = []
        with pytest.raises(ImportFailed, match=r"^streets.geojson has 12 features, more than the limit of 5 "):
            for batch in table.batches:
                read.append(batch)
    assert len(read) == 2  # refused on the batch that passes the limit


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".csv"])
def test_a_file_over_the_limit_is_refused_with_its_count(suffix: str, tmp_path: Path):
    path = tmp_path / f"lights{suffix}"
    if suffix == ".csv":
        _lights_csv(path, 12)
    else:
        wkb = shapely.to_wkb(shapely.points(np.full(12, -71.1), np.full(12, 42.37)))
        pyogrio.raw.write(path, wkb, geometry_type="Point", field_data=[np.arange(12)], fields=["ID"],
                          crs="EPSG:4326", driver="GPKG" if suffix == ".gpkg" else "GeoJSON")
    with pytest.raises(ImportFailed, match=r"^lights\.\w+ has 12 features, more than the limit of 5 \(GROUNDWORK_IMP"):
        _read(path, tmp_path, 2, max_features=5)


GOOD = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"Street": "Elm St"}, "geometry": {"type": "Point", "coordinates": [-71.1, 42.3]}}
] * 3}).encode()


@pytest.mark.parametrize(("file", "data", "message"), [
    ("streets.geojson", GOOD[:-7], r"streets.geojson is not valid JSON"),
    ("streets.geojson", b"[1, 2, 3]", r"streets.geojson is JSON but not GeoJSON"),
    ("streets.geojson", GOOD.replace(b"Elm St", b"Elm \xff\xfe St"),
     r"streets.geojson has text that is not UTF-8 \(invalid start byte at byte \d+\); save it as UTF-8"),
    ("streets.geojson", GOOD.decode().encode("utf-16"), r"streets.geojson is not UTF-8 text"),
    ("streets.geojson", GOOD.replace(b'{"type": "Feature"', b'{"crs": {"type": "name", "properties": '
                                     b'{"name": "EPSG:99999"}}, "type": "Feature"', 1).replace(
        b'"FeatureCollection", ', b'"FeatureCollection", "crs": {"type": "name", "properties": '
                                  b'{"name": "EPSG:99999"}}, '),
     r"declares the coordinate reference system 'EPSG:99999', which is not known"),
    ("streets.geojson", b'{"a":' + b"[" * 41 + b"]" * 41 + b"}", r"streets.geojson is nested more than 40 levels deep"),
    ("lights.csv", b"PoleID,Latitude,Longitude,Note\n" + b"P0,42.37,-71.1,x\n" * 30 + b"P1,42.37,-71.1,"
     + b"x" * 300_000 + b"\n", r"lights.csv could not be read as CSV: field larger than field limit"),
    ("lights.csv", b"PoleID,Latitude,Longitude\nP\x001,42.37,-71.1\n", r"lights.csv contains NUL bytes"),
    ("lights.csv", "PoleID,Latitude,Longitude\nP1,42.37,-71.1\n".encode("utf-16"), r"lights.csv is UTF-16 text"),
    ("lights.csv", b"PoleID,Note\nP1,x\n", r"lights.csv has no coordinate columns"),
    ("streets.exe", b"MZ", r"streets.exe: cannot read .exe"),
])
def test_bad_files_get_the_same_messages(file: str, data: bytes, message: str, tmp_path: Path):
    path = tmp_path / file
    path.write_bytes(data)
    with pytest.raises(ImportFailed, match=message):
        _read(path, tmp_path, 2, max_json_depth=40)


def _tricky_json(depth: int) -> bytes:
    """Strings full of brackets, quotes, backslashes and escapes around lists ``depth`` deep (the
    properties object adds four levels)."""
    texts = ['[[[[' * 20, 'x\\', '\\"[{', '"' * 5 + '[', '\\' * 7, 'é[\\\\"]', "Feature"]
    nested: Any = texts
    for _ in range(depth - 4 - 1):
        nested = [nested, "[" * 3]
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"a": nested, "b": texts}, "geometry": None}] * 2}).encode()


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 8, 13, 64, 1 << 20])
def test_the_depth_check_reads_in_chunks_without_losing_strings_or_escapes(chunk_size: int, tmp_path: Path):
    path = tmp_path / "deep.geojson"
    path.write_bytes(_tricky_json(40))
    assert _scan_geojson(path, "deep.geojson", 40, chunk_size=chunk_size) == 6  # two features, four "Feature" texts
    path.write_bytes(_tricky_json(41))
    with pytest.raises(ImportFailed, match="deep.geojson is nested more than 40 levels deep"):
        _scan_geojson(path, "deep.geojson", 40, chunk_size=chunk_size)


def test_a_200k_feature_file_is_read_holding_one_batch(tmp_path: Path):
    n = 200_000
    path = tmp_path / "addresses.shp"
    wkb = shapely.to_wkb(shapely.points(np.linspace(-71.2, -71.0, n), np.full(n, 42.37)))
    pyogrio.raw.write(path, wkb, geometry_type="Point", field_data=[np.arange(n, dtype=np.int32)], fields=["ID"],
                      crs="EPSG:4326", driver="ESRI Shapefile")
    settings = _settings()
    tracemalloc.start()
    try:
        with open_source(str(path), work_dir=tmp_path, settings=settings, batch_size=20_000) as table:
            first = next(table.batches)
            held = tracemalloc.get_traced_memory()[0]
        del first, table
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        read = 0
        with open_source(str(path), work_dir=tmp_path, settings=settings, batch_size=5_000) as table:
            for batch in table.batches:
                read += len(batch.rows)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert read == n
    whole = held * n / 20_000  # reading it whole holds ten such batches
    assert peak < whole / 10, (peak, whole)
