"""CSV sources: points from latitude/longitude columns, or any geometry from a WKT column.

The encoding is detected: UTF-8 (with or without a byte-order mark), else Windows-1252/Latin-1,
which the report mentions. Values stay text (a formula such as ``=SUM(A1)`` is stored as text,
never evaluated); the field mapping reads numbers from them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from app.importers.report import ImportFailed

LATITUDE = ("lat", "latitude", "y", "point_y", "lat_dd")
LONGITUDE = ("lon", "lng", "long", "longitude", "x", "point_x", "lon_dd")
WKT = ("wkt", "geometry", "the_geom", "geom", "shape", "wkt_geom")
_WKT_STARTS = ("POINT", "MULTIPOINT", "LINESTRING", "MULTILINESTRING", "POLYGON", "MULTIPOLYGON")


def decode(raw: bytes, name: str) -> tuple[str, str | None]:
    """The text and, when it was not UTF-8, a note saying which encoding was used."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), f"{name} is not UTF-8; it was read as Windows-1252 (Latin-1)."
    except UnicodeDecodeError:
        return raw.decode("latin-1"), f"{name} is not UTF-8; it was read as Latin-1 (ISO-8859-1)."


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str | None]], list[BaseGeometry | None], list[str]]:
    """Columns, rows, geometries (None where a row has none) and notes."""
    text, note = decode(path.read_bytes(), path.name)
    notes = [note] if note else []
    try:
        dialect = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    columns = [c for c in (reader.fieldnames or []) if c is not None]
    if not columns:
        raise ImportFailed(f"{path.name} is empty or has no header row.")
    rows = [{c: (row.get(c) or None) for c in columns} for row in reader]
    by_lower = {c.strip().lower(): c for c in columns}
    lat = next((by_lower[n] for n in LATITUDE if n in by_lower), None)
    lon = next((by_lower[n] for n in LONGITUDE if n in by_lower), None)
    if lat and lon:
        notes.append(f"Coordinates from the columns {lon!r} (longitude) and {lat!r} (latitude).")
        return columns, rows, [_point(row.get(lon), row.get(lat)) for row in rows], notes
    wkt = next((by_lower[n] for n in WKT if n in by_lower), None) or _wkt_column(columns, rows)
    if wkt:
        notes.append(f"Geometry from the WKT column {wkt!r}.")
        return columns, rows, [_from_wkt(row.get(wkt)) for row in rows], notes
    raise ImportFailed(
        f"{path.name} has no coordinate columns: give latitude and longitude columns (lat/latitude/y and "
        f"lon/lng/long/longitude/x) or a WKT column (wkt/geometry). Its columns are {', '.join(columns)}.")


def _wkt_column(columns: list[str], rows: list[dict[str, str | None]]) -> str | None:
    for column in columns:
        sample = next((r[column] for r in rows[:50] if r.get(column)), None)
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
