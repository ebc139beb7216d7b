"""Writers for the three download formats, all streaming from a dataset's features.

GeoJSON (RFC 7946: WGS84 lon/lat, no ``crs`` member) and CSV are produced as text chunks of
``BATCH`` features, so a response starts at once and memory stays flat. GeoPackage is written
with pyogrio into a file, one appended batch at a time.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyogrio.raw import write as ogr_write

from app.opendata.registry import DatasetField, ExportFeature
from app.spreadsheet import safe_cell

BATCH = 1000


class ExportFormat(StrEnum):
    geojson = "geojson"
    csv = "csv"
    gpkg = "gpkg"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def label(self) -> str:
        return {"geojson": "GeoJSON", "csv": "CSV", "gpkg": "GeoPackage"}[self.value]


_MEDIA_TYPES = {
    ExportFormat.geojson: "application/geo+json",
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.gpkg: "application/geopackage+sqlite3",
}


@dataclass(frozen=True)
class ExportHeader:
    """What a writer needs besides the features."""

    name: str
    title: str
    columns: list[DatasetField]
    geometry_type: str | None


def _batches(features: Iterable[ExportFeature], size: int = BATCH) -> Iterator[list[ExportFeature]]:
    iterator = iter(features)
    while batch := list(islice(iterator, size)):
        yield batch


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def geojson_chunks(header: ExportHeader, features: Iterable[ExportFeature]) -> Iterator[str]:
    """A FeatureCollection, one chunk per batch of features (RFC 7946)."""
    yield '{"type":"FeatureCollection","name":' + json.dumps(header.name) + ',"features":[\n'
    first = True
    for batch in _batches(features):
        shapes = np.array([f.geometry for f in batch], dtype=object)
        if header.geometry_type and "Polygon" in header.geometry_type:
            shapes = shapely.orient_polygons(shapes)  # RFC 7946 §3.1.6: exterior rings counterclockwise
        geometries = shapely.to_geojson(shapes)
        parts = []
        for feature, geometry in zip(batch, geometries, strict=True):
            properties = {key: _json_value(value) for key, value in feature.properties.items()}
            identifier = feature.properties.get("id")
            parts.append('{"type":"Feature",' + (f'"id":{json.dumps(identifier)},' if identifier is not None else "")
                         + '"geometry":' + (geometry or "null") + ',"properties":'
                         + json.dumps(properties, ensure_ascii=False, default=str) + "}")
        yield ("" if first else ",\n") + ",\n".join(parts)
        first = False
    yield "\n]}\n"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, str):
        return _safe_text(value)
    return value


def _safe_text(value: str) -> object:
    """A text cell: safe_cell, and a leading plus is kept as text too ("+1" is a street's
    name here, not the number 1); a plain negative number such as "-3.5" stays a number."""
    return "'" + value if value.startswith("+") else safe_cell(value)


def csv_columns(header: ExportHeader) -> list[str]:
    names = [column.name for column in header.columns]
    if header.geometry_type == "Point":
        return names[:1] + ["lon", "lat"] + names[1:] + ["wkt"]
    return names + ["wkt"] if header.geometry_type else names


def csv_chunks(header: ExportHeader, features: Iterable[ExportFeature]) -> Iterator[str]:
    """UTF-8 with a byte-order mark (Excel then reads accents right), geometry as WKT (and
    lon/lat for points), every text cell protected from formula injection."""
    names = [column.name for column in header.columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_columns(header))
    yield "\ufeff" + buffer.getvalue()
    for batch in _batches(features):
        buffer.seek(0)
        buffer.truncate()
        geometries = [f.geometry for f in batch]
        wkts = shapely.to_wkt(np.array(geometries, dtype=object), rounding_precision=-1)
        for feature, geometry, wkt in zip(batch, geometries, wkts, strict=True):
            values = [_csv_value(feature.properties.get(name)) for name in names]
            if header.geometry_type == "Point":
                lonlat = [repr(geometry.x), repr(geometry.y)] if geometry is not None else ["", ""]
                values = values[:1] + lonlat + values[1:]
            if header.geometry_type:
                values.append(wkt or "")
            writer.writerow(values)
        yield buffer.getvalue()


_NUMPY_TYPES = {"integer": "int64", "number": "float64", "boolean": "bool"}


def _gpkg_array(column: DatasetField, batch: list[ExportFeature]) -> tuple[np.ndarray, np.ndarray | None]:
    values = [feature.properties.get(column.name) for feature in batch]
    missing = np.array([value is None for value in values], dtype=bool)
    if column.type in _NUMPY_TYPES:
        filler = {"integer": 0, "number": math.nan, "boolean": False}[column.type]
        data = np.array([filler if value is None else value for value in values], dtype=_NUMPY_TYPES[column.type])
        return data, (missing if column.type != "number" else None)
    if column.type in ("date", "datetime"):
        unit = "datetime64[D]" if column.type == "date" else "datetime64[ms]"
        moments = [None if v is None else (v.replace(tzinfo=None) if isinstance(v, datetime) else v) for v in values]
        return np.array(moments, dtype=unit), None
    text = [None if value is None else (value.isoformat() if isinstance(value, date | datetime) else str(value))
            for value in values]
    return np.array(text, dtype=object), None


def _distinct_ignoring_case(names: list[str]) -> list[str]:
    """GeoPackage columns are case-insensitive: a source with both "Name" and "name" gets "name_2"."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate.lower())
        result.append(candidate)
    return result


def write_gpkg(path: Path, header: ExportHeader, features: Iterable[ExportFeature]) -> int:
    """Write a GeoPackage layer named after the dataset; returns the number of features."""
    count = 0
    names = _distinct_ignoring_case([column.name for column in header.columns])
    for batch in _batches(features, 5 * BATCH):
        arrays = [_gpkg_array(column, batch) for column in header.columns]
        geometry = (shapely.to_wkb(np.array([f.geometry for f in batch], dtype=object))
                    if header.geometry_type else None)
        ogr_write(str(path), geometry, [a for a, _ in arrays], names, field_mask=[m for _, m in arrays],
                  layer=header.name, driver="GPKG", geometry_type=header.geometry_type or None, crs="EPSG:4326",
                  promote_to_multi=False, append=count > 0, layer_metadata={"title": header.title})
        count += len(batch)
    return count
