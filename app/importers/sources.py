"""Reading a source into rows and geometries: GeoJSON, CSV, Shapefile (plain or zipped),
GeoPackage (with pyogrio/GDAL), and http(s) URLs (see ``remote``)."""

from __future__ import annotations

import csv
import json
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from app.geometry import GeometryError, parse_crs
from app.importers import archives, csv_files
from app.importers.report import ImportFailed
from app.settings import ImportSettings

if TYPE_CHECKING:  # httpx is loaded only to fetch a URL
    import httpx

GEOJSON = (".geojson", ".json")
READABLE = (".shp", ".gpkg", ".csv", *GEOJSON)


class Rows(Sequence[dict[str, Any]]):
    """A table's rows kept as its columns (one list of values each); a row's dict is made only when
    it is asked for, so reading a large file holds one Python list per column, not a dict per row."""

    def __init__(self, columns: list[str], values: list[list[Any]], count: int) -> None:
        self.columns, self.values, self.size = columns, values, count
        self._by_name = dict(zip(columns, values, strict=True))

    def column(self, name: str) -> list[Any]:
        """Every row's value of ``name`` (None for a column the table does not have)."""
        found = self._by_name.get(name)
        return found if found is not None else [None] * self.size

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.size))]
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(index)
        return {column: values[index] for column, values in zip(self.columns, self.values, strict=True)}


def column_values(rows: Sequence[dict[str, Any]], name: str) -> list[Any]:
    """Every row's value of column ``name`` (None where a row lacks it)."""
    if isinstance(rows, Rows):
        return rows.column(name)
    return [row.get(name) for row in rows]


@dataclass
class SourceTable:
    """A source as read: its columns, one dict of values (``Rows``: made when asked for) and one
    geometry (or None) per row."""

    name: str
    format: str  # geojson, csv, shapefile, geopackage
    columns: list[str]
    rows: Sequence[dict[str, Any]]
    geometries: list[BaseGeometry | None]
    crs: CRS | None
    notes: list[str] = field(default_factory=list)


def read_source(source: str, *, work_dir: Path, settings: ImportSettings, layer: str | None = None,
                transport: httpx.BaseTransport | None = None, name: str | None = None) -> SourceTable:
    """Read a file path or an http(s) URL. Downloads and unpacked zips go under ``work_dir``;
    ``name`` is what reports call the source (default: the URL or the file's name)."""
    if source.startswith(("http://", "https://")):
        from app.importers import remote

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
    objects = None
    if suffix == ".zip":
        files = archives.extract_zip(path, work_dir / "unzipped", max_bytes=settings.max_unzipped_mb * 1_000_000)
        data_file = choose_data_file(files, name, layer)
        inner_layer = None if layer in (data_file.stem, data_file.name) else layer
        return read_file(data_file, work_dir=work_dir, settings=settings, layer=inner_layer, display_name=name)
    if suffix == ".csv":
        data = path.read_bytes()
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ImportFailed(f"{name} is UTF-16 text; save it as CSV (UTF-8) and try again.")
        if b"\x00" in data:
            raise ImportFailed(f"{name} contains NUL bytes, so it is not a text CSV file (is it a spreadsheet "
                               "saved as .csv?). Export it as CSV (UTF-8) and try again.")
        try:
            columns, rows, geometries, notes = csv_files.read_csv(path)
        except csv.Error as error:  # e.g. a field over the csv module's size limit
            raise ImportFailed(f"{name} could not be read as CSV: {error}.") from error
        _check_feature_count(len(rows), name, settings)
        return SourceTable(name, "csv", columns, rows, geometries, None, notes)
    if suffix == ".shp":
        _check_shapefile(path, name)
    elif suffix in GEOJSON:
        data = path.read_bytes()
        _check_json_depth(data, name, settings.max_json_depth)
        _check_declared_crs(data, name)
        objects = data.count(b"{")  # features are objects: no more features than this
        del data  # GDAL reads the file itself
    elif suffix not in READABLE:
        raise ImportFailed(f"{name}: cannot read {suffix or 'files without an extension'}; give a GeoJSON, CSV, "
                           "Shapefile (.shp or .zip) or GeoPackage (.gpkg).")
    return _read_with_gdal(path, name, layer, settings, objects=objects)


_INNERMOST = re.compile(rb"\[\]|\{\}")


_CHUNK = 1 << 20


def _check_json_depth(data: bytes, name: str, max_depth: int) -> None:
    """Refuse JSON nested deeper than ``max_depth`` before any parser recurses into it. The brackets
    outside strings are kept (escaped quotes and backslashes blanked, then a bracket is in a string
    when an odd number of quotes comes before it; all at C speed, a megabyte at a time so the scan
    needs little memory), then innermost pairs peeled off one level per pass; a GeoJSON feature
    collection is about eight levels deep."""
    if b"\\" in data:
        data = data.replace(b"\\\\", b"__").replace(b'\\"', b"__")
    text = np.frombuffer(data, dtype=np.uint8)
    kept, quotes = [], 0
    for start in range(0, len(text), _CHUNK):
        chunk = text[start:start + _CHUNK]
        folded = chunk | 0x20  # [ and ] fold onto { and }
        at = np.flatnonzero((folded == ord("{")) | (folded == ord("}")))
        found = np.flatnonzero(chunk == ord('"'))
        kept.append(chunk[at[(np.searchsorted(found, at) + quotes) % 2 == 0]].tobytes())
        quotes += len(found)
    brackets = b"".join(kept)
    del kept
    for _ in range(max_depth):
        peeled = _INNERMOST.sub(b"", brackets)
        if not peeled or peeled == brackets:
            return  # within the limit, or unbalanced: the reader reports malformed JSON
        brackets = peeled
    raise ImportFailed(f"{name} is nested more than {max_depth} levels deep; GeoJSON needs about 8. "
                       "Nothing was imported.")


_DECLARED_CRS = re.compile(rb'"crs"\s*:\s*\{[^{}]*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*"([^"]{1,200})"')


def _check_declared_crs(data: bytes, name: str) -> None:
    """GDAL reads a GeoJSON whose ``crs`` it does not know as longitude/latitude without a word;
    refuse it instead, naming the CRS (the legacy ``crs`` member comes before the features)."""
    match = _DECLARED_CRS.search(data[:65_536])
    if match:
        declared = match.group(1).decode("utf-8", "replace")
        try:
            parse_crs(declared)
        except GeometryError as error:
            raise ImportFailed(f"{name} declares the coordinate reference system {declared!r}, which is not "
                               "known; give it with --crs (e.g. EPSG:2249) or export the file as "
                               "longitude/latitude (EPSG:4326).") from error


def _check_feature_count(count: int, name: str, settings: ImportSettings) -> None:
    if count > settings.max_features:
        raise ImportFailed(f"{name} has {count:,} features, more than the limit of {settings.max_features:,} "
                           "(GROUNDWORK_IMPORTS__MAX_FEATURES). Split it, or raise the limit. Nothing was imported.")


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
    projection = _sibling(path, ".prj")
    if projection is not None:
        text = projection.read_bytes()[:65_536].decode("utf-8", "replace").strip()
        try:
            parse_crs(text)
        except GeometryError as error:
            raise ImportFailed(f"{name}: its .prj declares a coordinate system that is not known ({text[:80]!r}); "
                               "it is never read as longitude/latitude. Fix or remove the .prj and give the "
                               "coordinate system with --crs (e.g. EPSG:2249), or export the file as EPSG:4326.") \
                from error


def _read_with_gdal(path: Path, name: str, layer: str | None, settings: ImportSettings, *,
                    objects: int | None = None) -> SourceTable:
    """``objects``: about as many as the file's features, or more (a GeoJSON's braces; a Shapefile's or
    GeoPackage's count), so the reader does not set aside room for the whole feature limit (it fills that
    room before reading a feature); a file with more features than that is read again up to the limit."""
    notes: list[str] = []
    # GDAL parses a whole GeoJSON file each time it opens one: read it once, counting as it reads.
    one_layer = path.suffix.lower() in GEOJSON and layer is None
    if not one_layer:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the M-coordinates warning is reported once, below
            try:
                layers = [str(row[0]) for row in pyogrio.list_layers(path) if row[1] is not None]
            except (DataSourceError, DataLayerError) as error:
                raise _unreadable(path, name, error) from error
        if layer is None and len(layers) > 1:
            raise ImportFailed(f"{name} has {len(layers)} layers ({', '.join(layers)}); choose one with "
                               "--layer NAME.")
        if layer is not None and layer not in layers:
            raise ImportFailed(f"{name} has no layer {layer!r}; its layers are {', '.join(layers)}.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if not one_layer:
                objects = int(pyogrio.read_info(path, layer=layer, force_feature_count=True).get("features") or 0)
                _check_feature_count(objects, name, settings)
                objects = objects + 1 if objects > 0 else None
            cap = settings.max_features + 1
            bound = cap if objects is None else max(1, min(cap, objects))
            meta, _, wkb, values = pyogrio.raw.read(path, layer=layer, datetime_as_string=True, max_features=bound)
            if len(wkb) == bound < cap:  # more features than counted: read them all, up to the limit
                meta, _, wkb, values = pyogrio.raw.read(path, layer=layer, datetime_as_string=True,
                                                        max_features=cap)
            if len(wkb) > settings.max_features:  # how many there are, for the message
                _check_feature_count(int(pyogrio.read_info(path, layer=layer, force_feature_count=True)
                                         .get("features") or 0), name, settings)
        except (DataSourceError, DataLayerError) as error:
            raise _unreadable(path, name, error) from error
        except UnicodeDecodeError as error:
            raise ImportFailed(f"{name} has text that is not UTF-8 ({error.reason} at byte {error.start}); "
                               "save it as UTF-8 and try again.") from error
    if any("Measured (M)" in str(w.message) for w in caught):
        notes.append("Measured (M) coordinates were dropped.")
    columns = [str(c) for c in meta["fields"]]
    rows = Rows(columns, [_plain(array) for array in values], len(wkb))
    del values
    found = shapely.from_wkb(np.asarray(wkb, dtype=object), on_invalid="ignore")
    del wkb
    geometries = found.tolist()
    if bool(shapely.has_z(found).any()):
        notes.append("Z (height) coordinates were dropped; the map is 2-D.")
    crs = _crs(meta.get("crs"), name)
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
    """Python values for JSON: NaN becomes None, numpy scalars become numbers, bytes become text. Equal
    texts of a column become one object (a street name, a ZIP code, a status repeats on thousands of rows:
    GDAL hands each row its own copy, which is most of a large file's memory)."""
    values = array.tolist()
    if array.dtype.kind == "f":
        return [None if v is None or math.isnan(v) else v for v in values]
    if array.dtype.kind == "O":
        shared: dict[str, str] = {}
        return [shared.setdefault(v, v) if type(v) is str else v.decode("utf-8", "replace") if isinstance(v, bytes)
                else (None if isinstance(v, float) and math.isnan(v) else v) for v in values]
    return values


def _unreadable(path: Path, name: str, error: Exception) -> ImportFailed:
    if path.suffix.lower() in GEOJSON:
        try:
            with path.open(encoding="utf-8-sig") as handle:
                json.load(handle)
        except json.JSONDecodeError as bad:
            return ImportFailed(f"{name} is not valid JSON: {bad.msg} at line {bad.lineno}, column {bad.colno}.")
        except RecursionError:
            return ImportFailed(f"{name} is nested too deeply to be GeoJSON.")
        except UnicodeDecodeError:
            return ImportFailed(f"{name} is not UTF-8 text, so it is not GeoJSON.")
        return ImportFailed(f"{name} is JSON but not GeoJSON that GDAL can read ({_without_path(error, path, name)}).")
    return ImportFailed(f"{name} could not be read: {_without_path(error, path, name)}")


def _without_path(error: Exception, path: Path, name: str) -> str:
    """GDAL's message with the server's file path replaced by the file's name."""
    return str(error).replace(f"'{path}'", name).replace(str(path), name)
