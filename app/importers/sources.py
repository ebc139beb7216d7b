"""Reading a source batch by batch: GeoJSON, CSV, Shapefile (plain or zipped), GeoPackage (with
pyogrio/GDAL, whose Arrow stream nanoarrow turns into Python values), and http(s) URLs (see
``remote``). A file is never held whole: imports run in bounded memory whatever the file's size."""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import nanoarrow as na
import numpy as np
import pyogrio
import pyogrio.raw
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
BATCH = 10_000  # features read at a time
MEASURED = "Measured (M) coordinates were dropped."
HEIGHTS = "Z (height) coordinates were dropped; the map is 2-D."


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
class Batch:
    """Some of a source's rows, in file order: ``start`` is the file index of the first."""

    rows: Rows
    geometries: list[BaseGeometry | None]  # one per row, as read (None for a missing geometry)
    start: int


@dataclass
class SourceTable:
    """A source opened for reading: what is known before its rows are read, and its rows as batches
    (read once, in file order). ``notes`` may grow as batches are read (the dropped Z or M
    coordinates are noted when found); ``estimated`` is about how many features there are, for a
    progress bar (None: unknown)."""

    name: str
    format: str  # geojson, csv, shapefile, geopackage
    columns: list[str]
    crs: CRS | None
    notes: list[str]
    estimated: int | None
    batches: Iterator[Batch]


@contextmanager
def open_source(source: str, *, work_dir: Path, settings: ImportSettings, layer: str | None = None,
                transport: httpx.BaseTransport | None = None, name: str | None = None,
                batch_size: int = BATCH) -> Iterator[SourceTable]:
    """Open a file path or an http(s) URL for reading in batches of ``batch_size`` features; the file
    stays open until the block ends. Downloads and unpacked zips go under ``work_dir``; ``name`` is
    what reports call the source (default: the URL or the file's name). Problems found while the
    batches are read (too many features, text that is not UTF-8) raise ImportFailed from the loop."""
    notes: list[str] = []
    path = Path(source)
    if source.startswith(("http://", "https://")):
        from app.importers import remote

        path, notes = remote.fetch(source, work_dir / "download", settings=settings, transport=transport)
        name = name or source
    with _open_file(path, work_dir=work_dir, settings=settings, layer=layer, name=name or path.name,
                    batch_size=batch_size) as table:
        table.notes[:0] = notes
        yield table


@contextmanager
def _open_file(path: Path, *, work_dir: Path, settings: ImportSettings, layer: str | None, name: str,
               batch_size: int) -> Iterator[SourceTable]:
    if not path.exists():
        raise ImportFailed(f"{path} does not exist.")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        files = archives.extract_zip(path, work_dir / "unzipped", max_bytes=settings.max_unzipped_mb * 1_000_000)
        data_file = choose_data_file(files, name, layer)
        inner_layer = None if layer in (data_file.stem, data_file.name) else layer
        with _open_file(data_file, work_dir=work_dir, settings=settings, layer=inner_layer, name=name,
                        batch_size=batch_size) as table:
            yield table
        return
    if suffix == ".csv":
        with _open_csv(path, name, settings, batch_size) as table:
            yield table
        return
    estimated = None
    if suffix == ".shp":
        _check_shapefile(path, name)
    elif suffix in GEOJSON:
        estimated = _scan_geojson(path, name, settings.max_json_depth)
        _check_declared_crs(path, name)
    elif suffix not in READABLE:
        raise ImportFailed(f"{name}: cannot read {suffix or 'files without an extension'}; give a GeoJSON, CSV, "
                           "Shapefile (.shp or .zip) or GeoPackage (.gpkg).")
    with _open_with_gdal(path, name, layer, settings, batch_size, estimated) as table:
        yield table


def _check_csv_bytes(path: Path, name: str) -> None:
    with path.open("rb") as handle:
        first = True
        while chunk := handle.read(_CHUNK):
            if first and chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise ImportFailed(f"{name} is UTF-16 text; save it as CSV (UTF-8) and try again.")
            first = False
            if b"\x00" in chunk:
                raise ImportFailed(f"{name} contains NUL bytes, so it is not a text CSV file (is it a spreadsheet "
                                   "saved as .csv?). Export it as CSV (UTF-8) and try again.")


@contextmanager
def _open_csv(path: Path, name: str, settings: ImportSettings, batch_size: int) -> Iterator[SourceTable]:
    _check_csv_bytes(path, name)
    try:
        with csv_files.open_csv(path) as (columns, notes, located):
            def batches() -> Iterator[Batch]:
                start = 0
                while True:
                    try:
                        chunk = list(itertools.islice(located, batch_size))
                    except csv.Error as error:  # e.g. a field over the csv module's size limit
                        raise ImportFailed(f"{name} could not be read as CSV: {error}.") from error
                    if not chunk:
                        return
                    if start + len(chunk) > settings.max_features:
                        _check_feature_count(start + len(chunk) + _count_rest(located, name), name, settings)
                    rows = Rows(columns, [[row[c] for row, _ in chunk] for c in columns], len(chunk))
                    yield Batch(rows, [geometry for _, geometry in chunk], start)
                    start += len(chunk)

            yield SourceTable(name, "csv", columns, None, notes, None, batches())
    except csv.Error as error:
        raise ImportFailed(f"{name} could not be read as CSV: {error}.") from error


def _count_rest(located: Iterator[Any], name: str) -> int:
    try:
        return sum(1 for _ in located)
    except csv.Error as error:
        raise ImportFailed(f"{name} could not be read as CSV: {error}.") from error


_CHUNK = 1 << 20
_FEATURE = b'"Feature"'


def _scan_geojson(path: Path, name: str, max_depth: int, *, chunk_size: int = _CHUNK) -> int:
    """Refuse JSON nested deeper than ``max_depth`` before any parser recurses into it, and count
    about how many features the file has (``"Feature"`` outside or inside strings: a progress total).
    The file is read ``chunk_size`` bytes at a time at C speed: escaped quotes and backslashes are
    blanked (an escape that ends a chunk blanks the next chunk's first byte), a bracket is in a string
    when an odd number of quotes comes before it, and the depth is a running sum of the brackets
    outside strings; a GeoJSON feature collection is about eight levels deep."""
    features, quotes, depth, escaping, tail = 0, 0, 0, False, b""
    with path.open("rb") as handle:
        while data := handle.read(chunk_size):
            seen = tail + data
            features += seen.count(_FEATURE)
            tail = seen[-(len(_FEATURE) - 1):]  # too short to hold a whole one: none is counted twice
            del seen
            if escaping:
                data = b"_" + data[1:]
            escaping = (len(data) - len(data.rstrip(b"\\"))) % 2 == 1
            if b"\\" in data:
                data = data.replace(b"\\\\", b"__").replace(b'\\"', b"__")
            chunk = np.frombuffer(data, dtype=np.uint8)
            folded = chunk | 0x20  # [ and ] fold onto { and }
            at = np.flatnonzero((folded == ord("{")) | (folded == ord("}")))
            found = np.flatnonzero(chunk == ord('"'))
            outside = at[(np.searchsorted(found, at) + quotes) % 2 == 0]
            quotes += len(found)
            if len(outside):
                steps = np.where(folded[outside] == ord("{"), 1, -1).cumsum() + depth
                if int(steps.max()) > max_depth:
                    raise ImportFailed(f"{name} is nested more than {max_depth} levels deep; GeoJSON needs about "
                                       "8. Nothing was imported.")
                depth = int(steps[-1])
    return features


_DECLARED_CRS = re.compile(rb'"crs"\s*:\s*\{[^{}]*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*"([^"]{1,200})"')


def _check_declared_crs(path: Path, name: str) -> None:
    """GDAL reads a GeoJSON whose ``crs`` it does not know as longitude/latitude without a word;
    refuse it instead, naming the CRS (the legacy ``crs`` member comes before the features)."""
    with path.open("rb") as handle:
        match = _DECLARED_CRS.search(handle.read(65_536))
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


@contextmanager
def _open_with_gdal(path: Path, name: str, layer: str | None, settings: ImportSettings, batch_size: int,
                    estimated: int | None) -> Iterator[SourceTable]:
    """``estimated``: a GeoJSON's count from the scan (GDAL parses a GeoJSON whole to count it, so it is
    counted exactly only when the scan finds more than the limit); a Shapefile or GeoPackage counts
    its features cheaply, so the limit is checked before any is read."""
    suffix = path.suffix.lower()
    if suffix in GEOJSON and layer is None:
        if estimated is not None and estimated > settings.max_features:
            _check_feature_count(_counted(path, name, layer), name, settings)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the M-coordinates warning is noted when the layer is opened
            try:
                layers = [str(row[0]) for row in pyogrio.list_layers(path) if row[1] is not None]
            except (DataSourceError, DataLayerError) as error:
                raise _unreadable(path, name, error) from error
            if layer is None and len(layers) > 1:
                raise ImportFailed(f"{name} has {len(layers)} layers ({', '.join(layers)}); choose one with "
                                   "--layer NAME.")
            if layer is not None and layer not in layers:
                raise ImportFailed(f"{name} has no layer {layer!r}; its layers are {', '.join(layers)}.")
            estimated = _counted(path, name, layer)
        _check_feature_count(estimated, name, settings)
    notes: list[str] = []
    with ExitStack() as stack:
        with warnings.catch_warnings(record=True) as caught:  # not held while the caller reads
            warnings.simplefilter("always")
            try:
                meta, stream = stack.enter_context(pyogrio.raw.open_arrow(
                    path, layer=layer, batch_size=batch_size, datetime_as_string=True))
            except (DataSourceError, DataLayerError) as error:
                raise _unreadable(path, name, error) from error
        _note_measured(caught, notes)
        columns = [str(c) for c in meta["fields"]]
        crs = _crs(meta.get("crs"), name)
        kind = "shapefile" if suffix == ".shp" else "geopackage" if suffix == ".gpkg" else "geojson"
        batches = _arrow_batches(na.ArrayStream(stream), meta, path, name, layer, settings, notes)
        yield SourceTable(name, kind, columns, crs, notes, estimated, batches)


def _counted(path: Path, name: str, layer: str | None) -> int:
    try:
        return int(pyogrio.read_info(path, layer=layer, force_feature_count=True).get("features") or 0)
    except (DataSourceError, DataLayerError) as error:
        raise _unreadable(path, name, error) from error


def _note_measured(caught: list[warnings.WarningMessage], notes: list[str]) -> None:
    if MEASURED not in notes and any("Measured (M)" in str(w.message) for w in caught):
        notes.append(MEASURED)


def _arrow_batches(stream: na.ArrayStream, meta: dict[str, Any], path: Path, name: str, layer: str | None,
                   settings: ImportSettings, notes: list[str]) -> Iterator[Batch]:
    columns = [str(c) for c in meta["fields"]]
    geometry_name = meta.get("geometry_name") or "wkb_geometry"
    start = 0
    arrays = iter(stream)
    while True:
        with warnings.catch_warnings(record=True) as caught:  # never held across a yield
            warnings.simplefilter("always")
            try:
                array = next(arrays, None)
                if array is None:
                    return
                if start + len(array) > settings.max_features:  # how many there are, for the message
                    _check_feature_count(max(start + len(array), _counted(path, name, layer)), name, settings)
                index = {f.name: i for i, f in enumerate(array.schema.fields)}
                rows = Rows(columns, [_values(array.child(index[c])) for c in columns], len(array))
                wkb = _binary(array.child(index[geometry_name]))
            except RuntimeError as error:  # pyogrio's errors, and nanoarrow's when GDAL fails mid-stream
                raise _unreadable(path, name, error) from error
            except UnicodeDecodeError as error:
                raise ImportFailed(f"{name} has text that is not UTF-8 ({error.reason} at byte {error.start}); "
                                   "save it as UTF-8 and try again.") from error
        _note_measured(caught, notes)
        found = _without_measures(shapely.from_wkb(np.array(wkb, dtype=object), on_invalid="ignore"), notes)
        del wkb
        if HEIGHTS not in notes and bool(shapely.has_z(found).any()):
            notes.append(HEIGHTS)
        yield Batch(rows, found.tolist(), start)
        start += len(rows)


def _crs(value: str | None, name: str) -> CRS | None:
    if not value:
        return None
    try:
        return parse_crs(value)
    except GeometryError as error:
        raise ImportFailed(f"{name}: {error}") from error


def _without_measures(found: np.ndarray, notes: list[str]) -> np.ndarray:
    """GDAL's Arrow stream keeps M coordinates, which the map has no use for: drop them (heights
    stay, for the Z note)."""
    measured = shapely.has_m(found)
    if not measured.any():
        return found
    if MEASURED not in notes:
        notes.append(MEASURED)
    heights = shapely.has_z(found)
    for dimension, which in ((3, measured & heights), (2, measured & ~heights)):
        if which.any():
            found[which] = shapely.from_wkb(shapely.to_wkb(found[which], output_dimension=dimension))
    return found


_NUMBERS = {na.Type.BOOL, na.Type.INT8, na.Type.INT16, na.Type.INT32, na.Type.INT64, na.Type.UINT8,
            na.Type.UINT16, na.Type.UINT32, na.Type.UINT64, na.Type.HALF_FLOAT, na.Type.FLOAT, na.Type.DOUBLE}


def _values(column: na.Array) -> list[Any]:
    """A column's Python values for JSON: nulls and NaN become None, dates ISO text, bytes text. A
    missing integer or true/false stays None beside whole numbers and booleans (so a batch's values do
    not depend on another batch's). Equal texts become one object (a street name, a ZIP code, a status
    repeats on thousands of rows). Numbers, texts and dates are read from the Arrow buffers with numpy
    (three times faster than nanoarrow's value iterator); other types (lists, binary) value by value."""
    kind = column.schema.type
    if kind in _NUMBERS:
        valid, data = column.to_pysequence(handle_nulls=na.nulls_separate())
        numbers = np.asarray(data)
        values = numbers.tolist()
        if numbers.dtype.kind == "f":
            values = [None if math.isnan(v) else v for v in values]
        return _nulled(values, None if valid is None else ~np.asarray(valid, dtype=bool))
    if kind == na.Type.STRING:
        return _nulled(_texts(column), _missing(column))
    if kind == na.Type.DATE32:
        offset, length = _span(column)
        days = np.asarray(column.buffers[1])[offset:offset + length].astype("datetime64[D]")
        shared: dict[str, str] = {}
        return _nulled([shared.setdefault(d, d) for d in np.datetime_as_string(days).tolist()], _missing(column))
    shared = {}
    return [shared.setdefault(v, v) if type(v) is str else _plain(v) for v in column.iter_py()]


def _span(column: na.Array) -> tuple[int, int]:
    found = na.c_array(column)
    return found.offset, found.length


def _missing(column: na.Array) -> np.ndarray | None:
    """Where a column has nulls (None when it has none), from its validity bitmap."""
    found = na.c_array(column)
    if found.null_count == 0:
        return None
    bits = np.frombuffer(column.buffers[0], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little")[found.offset:found.offset + found.length] == 0


def _nulled(values: list[Any], missing: np.ndarray | None) -> list[Any]:
    if missing is not None:
        for i in np.flatnonzero(missing).tolist():
            values[i] = None
    return values


def _binary(column: na.Array) -> list[bytes | None]:
    """A binary column's values (a geometry's WKB), cut from its buffer at its offsets."""
    offset, length = _span(column)
    ends = np.asarray(column.buffers[1])[offset:offset + length + 1].tolist()
    data = bytes(column.buffers[2])
    values: list[bytes | None] = [data[a:b] for a, b in zip(ends[:-1], ends[1:], strict=True)]
    del data
    return _nulled(values, _missing(column))


def _texts(column: na.Array) -> list[str]:
    """A text column's values, equal texts as one object: the column's bytes are decoded at once and
    cut at its offsets (when all are ASCII, byte and character offsets agree), else value by value."""
    offset, length = _span(column)
    ends = np.asarray(column.buffers[1])[offset:offset + length + 1].tolist()
    data = bytes(column.buffers[2])
    text = data.decode()
    shared: dict[str, str] = {}
    share = shared.setdefault
    if len(text) == len(data):
        return [share(t, t) for t in map(text.__getitem__, map(slice, ends[:-1], ends[1:]))]
    return [share(t, t) for t in (data[a:b].decode() for a, b in zip(ends[:-1], ends[1:], strict=True))]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, date):  # datetimes come as text already
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


_PARSED_FOR_ERRORS_MB = 50  # a GeoJSON GDAL cannot read is parsed again for a precise message up to this size


def _unreadable(path: Path, name: str, error: Exception) -> ImportFailed:
    if path.suffix.lower() in GEOJSON and path.stat().st_size <= _PARSED_FOR_ERRORS_MB * 1_000_000:
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
