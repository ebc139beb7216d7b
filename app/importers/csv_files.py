"""CSV sources: points from latitude/longitude columns, or any geometry from a WKT column.

The encoding is detected: UTF-8 (with or without a byte-order mark), else Windows-1252/Latin-1,
which the report mentions. Values stay text (a formula such as ``=SUM(A1)`` is stored as text,
never evaluated); the field mapping reads numbers from them. Rows are read one at a time, so a
large file is never held whole.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from app.importers.report import ImportFailed

LATITUDE = ("lat", "latitude", "y", "point_y", "lat_dd")
LONGITUDE = ("lon", "lng", "long", "longitude", "x", "point_x", "lon_dd")
WKT = ("wkt", "geometry", "the_geom", "geom", "shape", "wkt_geom")
_WKT_STARTS = ("POINT", "MULTIPOINT", "LINESTRING", "MULTILINESTRING", "POLYGON", "MULTIPOLYGON")

Located = tuple[dict[str, Any], BaseGeometry | None]  # a row and its geometry
_CHUNK = 1 << 20


def encoding_of(path: Path, name: str) -> tuple[str, str | None]:
    """The file's text encoding and, when it is not UTF-8, a note saying which was used. The file is
    read a megabyte at a time (a large CSV is never held whole)."""
    for encoding, note in (("utf-8-sig", None),
                           ("cp1252", f"{name} is not UTF-8; it was read as Windows-1252 (Latin-1).")):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding, note
    return "latin-1", f"{name} is not UTF-8; it was read as Latin-1 (ISO-8859-1)."


@contextmanager
def open_csv(path: Path) -> Iterator[tuple[list[str], list[str], Iterator[Located]]]:
    """Columns, notes and the rows one at a time, each with its geometry (None where a row has none).
    The coordinate columns are found from the header (or, for WKT, the first 50 rows) before any row is
    handed on."""
    name = path.name
    encoding, note = encoding_of(path, name)
    notes = [note] if note else []
    with path.open(encoding=encoding, newline="") as handle:
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(handle.read(20_000), delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        handle.seek(0)
        reader = csv.DictReader(handle, dialect=dialect)
        columns = [c for c in (reader.fieldnames or []) if c is not None]
        if not columns:
            raise ImportFailed(f"{name} is empty or has no header row.")
        rows: Iterator[dict[str, Any]] = ({c: (row.get(c) or None) for c in columns} for row in reader)
        by_lower = {c.strip().lower(): c for c in columns}
        lat = next((by_lower[n] for n in LATITUDE if n in by_lower), None)
        lon = next((by_lower[n] for n in LONGITUDE if n in by_lower), None)
        if lat and lon:
            notes.append(f"Coordinates from the columns {lon!r} (longitude) and {lat!r} (latitude).")
            yield columns, notes, ((row, _point(row.get(lon), row.get(lat))) for row in rows)
            return
        first = list(itertools.islice(rows, 50))
        rows = itertools.chain(first, rows)
        wkt = next((by_lower[n] for n in WKT if n in by_lower), None) or _wkt_column(columns, first)
        if wkt:
            notes.append(f"Geometry from the WKT column {wkt!r}.")
            yield columns, notes, ((row, _from_wkt(row.get(wkt))) for row in rows)
            return
    raise ImportFailed(
        f"{name} has no coordinate columns: give latitude and longitude columns (lat/latitude/y and "
        f"lon/lng/long/longitude/x) or a WKT column (wkt/geometry). Its columns are {', '.join(columns)}.")


def _wkt_column(columns: list[str], rows: list[dict[str, str | None]]) -> str | None:
    for column in columns:
        sample = next((r[column] for r in rows if r.get(column)), None)
        if sample and sample.lstrip().upper().startswith(_WKT_STARTS):
            return column
    return None


def _point(lon: str | None, lat: str | None) -> BaseGeometry | None:
    try:
        return Point(float(str(lon).strip()), float(str(lat).strip()))
    except (TypeError, ValueError):
        return None


def _from_wkt(text: str | None) -> BaseGeometry | None:
    if not text:
        return None
    geometry = shapely.from_wkt(text, on_invalid="ignore")
    return geometry if isinstance(geometry, BaseGeometry) else None
