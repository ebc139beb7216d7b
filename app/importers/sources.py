"""Reading a source into rows and geometries: GeoJSON, CSV, Shapefile (plain or zipped),
GeoPackage (with pyogrio/GDAL), and http(s) URLs (see ``remote``)."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from app.geometry import GeometryError, parse_crs
from app.importers import archives, csv_files, remote
from app.importers.report import ImportFailed
from app.settings import ImportSettings

GEOJSON = (".geojson", ".json")
READABLE = (".shp", ".gpkg", ".csv", *GEOJSON)


@dataclass
class SourceTable:
    """A source as read: its columns, one dict of values and one geometry (or None) per row."""

    name: str
    format: str  # geojson, csv, shapefile, geopackage
    columns: list[str]
    rows: list[dict[str, Any]]
    geometries: list[BaseGeometry | None]
    crs: CRS | None
    notes: list[str] = field(default_factory=list)


def read_source(source: str, *, work_dir: Path, settings: ImportSettings, layer: str | None = None,
                transport: httpx.BaseTransport | None = None, name: str | None = None) -> SourceTable:
    """Read a file path or an http(s) URL. Downloads and unpacked zips go under ``work_dir``;
    ``name`` is what reports call the source (default: the URL or the file's name)."""
    if source.startswith(("http://", "https://")):
        path, notes = remote.fetch(source, work_dir / "download", settings=settings, transport=transport)
        table = read_file(path, work_dir=work_dir, settings=settings, layer=layer, display_name=name or source)
        table.notes[:0] = notes
        return table
    return read_file(Path(source), work_dir=work_dir, settings=settings, layer=layer, display_name=name)


def read_file(path: Path, *, work_dir: Path, settings: ImportSettings, layer: str | None = None,
              display_name: str | None = None) -> SourceTable:
    name = display_name or path.name
    if not path.exists():
        raise ImportFailed(f"{path} does not exist.")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        files = archives.extract_zip(path, work_dir / "unzipped", max_bytes=settings.max_unzipped_mb * 1_000_000)
        data_file = choose_data_file(files, name, layer)
        inner_layer = None if layer in (data_file.stem, data_file.name) else layer
        return read_file(data_file, work_dir=work_dir, settings=settings, layer=inner_layer, display_name=name)
    if suffix == ".csv":
        columns, rows, geometries, notes = csv_files.read_csv(path)
        return SourceTable(name, "csv", columns, rows, geometries, None, notes)
    if suffix == ".shp":
        _check_shapefile(path, name)
    elif suffix not in READABLE:
        raise ImportFailed(f"{name}: cannot read {suffix or 'files without an extension'}; give a GeoJSON, CSV, "
                           "Shapefile (.shp or .zip) or GeoPackage (.gpkg).")
    return _read_with_gdal(path, name, layer)


def choose_data_file(files: list[Path], name: str, layer: str | None) -> Path:
    candidates = [f for f in files if f.suffix.lower() in READABLE and not f.name.startswith(("._", "."))]
    if layer:
        chosen = [f for f in candidates if f.stem == layer or f.name == layer]
        if chosen:
            return chosen[0]
    for kinds in ((".shp",), (".gpkg",), GEOJSON, (".csv",)):
        found = [f for f in candidates if f.suffix.lower() in kinds]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ImportFailed(f"{name} holds several data files ({', '.join(f.name for f in found)}); "
                               "choose one with --layer NAME.")
    listed = ", ".join(f.name for f in files[:20]) or "nothing"
    raise ImportFailed(f"{name} holds no Shapefile, GeoPackage, GeoJSON or CSV (it has {listed}).")


def _sibling(path: Path, extension: str) -> Path | None:
    for candidate in path.parent.glob(path.stem + ".*"):
        if candidate.suffix.lower() == extension:
            return candidate
    return None


def _check_shapefile(path: Path, name: str) -> None:
    for extension, what in ((".dbf", "attribute table"), (".shx", "shape index")):
        if _sibling(path, extension) is None:
            raise ImportFailed(f"{name} is missing its {extension} ({what}): a Shapefile needs its .shp, .shx and "
                               ".dbf side by side (zip them together with the .prj to upload).")


def _read_with_gdal(path: Path, name: str, layer: str | None) -> SourceTable:
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the M-coordinates warning is reported once, below
        try:
            layers = [str(row[0]) for row in pyogrio.list_layers(path) if row[1] is not None]
        except (DataSourceError, DataLayerError) as error:
            raise _unreadable(path, name, error) from error
    if layer is None and len(layers) > 1:
        raise ImportFailed(f"{name} has {len(layers)} layers ({', '.join(layers)}); choose one with --layer NAME.")
    if layer is not None and layer not in layers:
        raise ImportFailed(f"{name} has no layer {layer!r}; its layers are {', '.join(layers)}.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            info = pyogrio.read_info(path, layer=layer)
            meta, _, wkb, values = pyogrio.raw.read(path, layer=layer, datetime_as_string=True)
        except (DataSourceError, DataLayerError) as error:
            raise _unreadable(path, name, error) from error
    if any("Measured (M)" in str(w.message) for w in caught):
        notes.append("Measured (M) coordinates were dropped.")
    columns = [str(c) for c in meta["fields"]]
    lists = [_plain(array) for array in values]
    rows = [{column: lists[j][i] for j, column in enumerate(columns)} for i in range(len(wkb))]
    geometries = [g if isinstance(g, BaseGeometry) else None
                  for g in shapely.from_wkb(np.asarray(wkb, dtype=object), on_invalid="ignore")]
    if any(g is not None and g.has_z for g in geometries):
        notes.append("Z (height) coordinates were dropped; the map is 2-D.")
    crs = _crs(info.get("crs"), name)
    suffix = path.suffix.lower()
    kind = "shapefile" if suffix == ".shp" else "geopackage" if suffix == ".gpkg" else "geojson"
    return SourceTable(name, kind, columns, rows, geometries, crs, notes)


def _crs(value: str | None, name: str) -> CRS | None:
    if not value:
        return None
    try:
        return parse_crs(value)
    except GeometryError as error:
        raise ImportFailed(f"{name}: {error}") from error


def _plain(array: np.ndarray) -> list[Any]:
    """Python values for JSON: NaN becomes None, numpy scalars become numbers, bytes become text."""
    values = array.tolist()
    if array.dtype.kind == "f":
        return [None if v is None or math.isnan(v) else v for v in values]
    if array.dtype.kind == "O":
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else
                (None if isinstance(v, float) and math.isnan(v) else v) for v in values]
    return values


def _unreadable(path: Path, name: str, error: Exception) -> ImportFailed:
    if path.suffix.lower() in GEOJSON:
        try:
            with path.open(encoding="utf-8-sig") as handle:
                json.load(handle)
        except json.JSONDecodeError as bad:
            return ImportFailed(f"{name} is not valid JSON: {bad.msg} at line {bad.lineno}, column {bad.colno}.")
        except UnicodeDecodeError:
            return ImportFailed(f"{name} is not UTF-8 text, so it is not GeoJSON.")
        return ImportFailed(f"{name} is JSON but not GeoJSON that GDAL can read ({error}).")
    return ImportFailed(f"{name} could not be read: {error}")
