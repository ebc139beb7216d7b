"""Checking every row of a source for a layer kind: its coordinate system, geometry and fields.

Problems with the whole file (no coordinate system, mixed or wrong geometry types, a mapping
naming a missing column) raise ``ImportFailed`` — except a few lines or polygons among address
points, which are rejected row by row. Problems with a row reject that row, named by
its id and field, in the report; whether the rest is imported is the user's choice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from app.geometry import (
    WGS84,
    GeometryError,
    linear_unit_metres,
    parse_crs,
    reproject,
    to_storable,
    transformer,
)
from app.importers import addresses, fields
from app.importers.fields import ValueProblem, ValueWarning
from app.importers.report import ImportFailed, ImportReport
from app.importers.sources import Batch, Rows, SourceTable, column_values
from app.layers.store import FeatureRecord
from models.layers import LayerKind

Units = Literal["feet", "metres"]
METRES_PER = {"feet": 0.3048, "metres": 1.0}
_FAMILIES = {"Point": "points", "MultiPoint": "points", "LineString": "lines", "MultiLineString": "lines",
             "Polygon": "polygons", "MultiPolygon": "polygons"}
_EXPECTED = {"POINT": "points", "MULTILINESTRING": "lines", "MULTIPOLYGON": "polygons"}
Progress = Callable[[int, int], None]
# An address file is an export of the city's address database: a line or polygon among its points
# is one bad record (rejected by its id), not a file of the wrong kind.
ROW_LEVEL_GEOMETRY = frozenset({LayerKind.address})


@dataclass
class ImportOptions:
    kind: LayerKind
    mapping: dict[str, str] = field(default_factory=dict)  # field -> column, overriding detection
    constants: dict[str, str] = field(default_factory=dict)  # field -> value for every row (e.g. owner=utility)
    crs: str | None = None
    units: Units | None = None  # of widths
    length_units: str | None = None  # of a mapped surveyed length: feet, metres, miles or kilometres
    layer: str | None = None
    append: bool = False
    skip_invalid: bool = False
    band_scheme: str | None = None


class Checker:
    """Checks a source batch by batch (``check``), so a large file is never held whole: what concerns the whole
    file (its columns and mapping, coordinate system, units) is settled when the checker is made, from the
    source's header; the geometry types are tallied as the batches come and judged on each (a wrong or mixed
    type stops the row checks, the rest of the file is only counted, and ``finish`` refuses it with the whole
    file's counts). Keys (``source_id``) are judged once every row is staged (``keys_usable``)."""

    def __init__(self, table: SourceTable, options: ImportOptions, *, progress: Progress | None = None) -> None:
        self.table, self.options, self.kind, self.progress = table, options, options.kind, progress
        kind = options.kind
        self.report = report = ImportReport(source=table.name, kind=kind.value)
        for note in table.notes:
            report.note(note)
        try:
            mapping = fields.detect_mapping(kind, table.columns, options.mapping)
        except ValueError as error:
            raise ImportFailed(str(error), report) from error
        report.field_map = dict(mapping)
        self.mapping = mapping
        self.constants = _constants(kind, options.constants, report)
        self.crs, self.crs_assumed = _source_crs(table, options, report)
        self.metres_per_width_unit = _width_units(mapping, self.crs, options, report)
        self.readers = {spec.name: spec for spec in fields.specs(kind)}
        self.own_export = fields.is_own_export(table.columns)
        if self.own_export:
            report.note("This is a Groundwork export: its source_id column keeps every feature's identity and its "
                        "src_ columns are the source's own attributes.")
        self.families: Counter[str] = Counter()  # in the order the file first has each (as ties are listed)
        self.wrong_types = False
        self.fields_seen: set[str] = set()  # every field some record has (what the impact compares)

    def check(self, batch: Batch) -> list[FeatureRecord]:
        """The batch's valid records (its problems go in the report); none once the file's types are wrong."""
        report, kind, mapping = self.report, self.kind, self.mapping
        report.rows_read += len(batch.rows)
        if self.crs_assumed:
            _check_longitude_latitude(self.table, batch.geometries, report)
        _tally_geometry_types(batch.geometries, self.families)
        self.wrong_types = self.wrong_types or _types_refused(self.families, kind) is not None
        if self.wrong_types and kind not in ROW_LEVEL_GEOMETRY:
            return []
        ready = _storable_at_once(batch.geometries, self.crs, kind)
        # Each mapped field read a column at a time (a value seen before is read once), then applied row by row
        # in the file's order, so every rejection and warning is reported as reading each row would.
        read = {name: _read_column(spec, column_values(batch.rows, mapping[name]))
                for name, spec in self.readers.items() if name not in self.constants and mapping.get(name) is not None}
        id_column = mapping.get("source_id")
        ids = column_values(batch.rows, id_column) if id_column else None
        attributes = _attribute_rows(batch.rows, self.table.columns, self.table.format, self.own_export)
        records: list[FeatureRecord] = []
        total = max(self.table.estimated or 0, batch.start + len(batch.rows))
        for at, geometry in enumerate(batch.geometries):
            index = batch.start + at
            label = _label_of(ids[at] if ids is not None else None, id_column, index)
            record = _check_row(kind, at, read, geometry, label, mapping, self.readers, self.constants, self.crs,
                                self.metres_per_width_unit, report, storable=ready[at])
            if record is not None:
                record.attributes = next(attributes)
                record.source_id = _source_id_of(ids[at]) if ids is not None else None
                records.append(record)
                self.fields_seen.update(record.fields)
            else:
                next(attributes)
            if self.progress and (index % 500 == 0 or at == len(batch.geometries) - 1):
                self.progress(index + 1, total)
        report.valid += len(records)
        return records

    def finish(self) -> None:
        """The whole file's verdicts: its geometry types, and the notes the reader found on the way."""
        refused = _types_refused(self.families, self.kind)
        if refused is not None:
            raise ImportFailed(refused.format(name=self.table.name), self.report)
        found = [note for note in self.table.notes if note not in self.report.notes]
        self.report.notes[:0] = found


def keys_usable(counts: KeyCounts, column: str | None, report: ImportReport) -> bool:
    """Whether every record has an id of its own from the source. When not, the import matches
    features to the layer's current ones by geometry instead, and says why. ``counts``: how many rows have
    no id, and the ids given most often (up to three, with their counts, those given more than once)."""
    if column is None:
        report.note("The source has no id column; features are matched to the current layer by geometry "
                    "(same place, similar shape, same street name).")
        return False
    blank, repeated = counts
    if not blank and not repeated:
        return True
    why = []
    if blank:
        why.append(f"{blank:,} rows have no {column}")
    if repeated:
        why.append(", ".join(f"{column} {key} appears {n:,} times" for key, n in repeated))
    report.note(f"{'; '.join(why)}, so {column} cannot tell features apart: features are matched to the current "
                "layer by geometry instead (same place, similar shape, same street name).")
    return False


KeyCounts = tuple[int, list[tuple[str, int]]]


def _constants(kind: LayerKind, given: dict[str, str], report: ImportReport) -> dict[str, Any]:
    readers = {spec.name: spec for spec in fields.specs(kind)}
    values: dict[str, Any] = {}
    for name, text in given.items():
        if name not in readers:
            raise ImportFailed(f"--set {name}={text}: {kind.value} has no field {name!r}; its fields are "
                               f"{', '.join(readers)}.", report)
        try:
            values[name] = readers[name].read(text)
        except (ValueProblem, ValueWarning) as error:
            raise ImportFailed(f"--set {name}={text}: {error}", report) from error
        report.note(f"Every row's {name} is set to {values[name]!r}.")
    return values


def _source_crs(table: SourceTable, options: ImportOptions, report: ImportReport) -> tuple[CRS, bool]:
    """The source's coordinate system, and whether it was assumed to be longitude/latitude (then each batch's
    coordinates are checked to be in range: ``_check_longitude_latitude``)."""
    given = None
    if options.crs:
        try:
            given = parse_crs(options.crs)
        except GeometryError as error:
            raise ImportFailed(str(error), report) from error
    assumed = False
    if given is not None:
        if table.crs is not None and table.crs != given:
            report.note(f"The file says its coordinate system is {_crs_name(table.crs)}; --crs "
                        f"{options.crs} was used instead.")
        crs, origin = given, "given with --crs"
    elif table.crs is not None:
        crs, origin = table.crs, "from the file"
    elif table.format == "shapefile":
        raise ImportFailed(f"{table.name} has no coordinate system (its .prj file is missing); give it with "
                           "--crs, e.g. --crs EPSG:2249 for Massachusetts State Plane in US feet.", report)
    else:
        crs, origin, assumed = WGS84, "assumed longitude/latitude (WGS84)", True
    report.crs, report.crs_origin = _crs_name(crs), origin
    return crs, assumed


def _check_longitude_latitude(table: SourceTable, geometries: list[BaseGeometry | None], report: ImportReport) -> None:
    present = [g for g in geometries if g is not None and not g.is_empty]
    if present:
        minx, miny, maxx, maxy = shapely.total_bounds(present)
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise ImportFailed(f"{table.name} has no coordinate system and its coordinates are not "
                               "longitude/latitude; give it with --crs, e.g. --crs EPSG:2249.", report)


def _crs_name(crs: CRS) -> str:
    code = crs.to_epsg(min_confidence=70)
    return f"EPSG:{code} {crs.name}" if code else crs.name


def _tally_geometry_types(geometries: list[BaseGeometry | None], families: Counter[str]) -> None:
    """Add a batch's geometries to ``families`` (points, lines, polygons, …), each family counted in the order
    the file first has it."""
    found = np.asarray(geometries, dtype=object)
    present = found[~shapely.is_missing(found) & ~shapely.is_empty(found)] if len(found) else found
    types, first, counts = np.unique(shapely.get_type_id(present), return_index=True, return_counts=True)
    for _, type_id, count in sorted(zip(first.tolist(), types.tolist(), counts.tolist(), strict=True)):
        name = _TYPE_NAMES[type_id]
        families[_FAMILIES.get(name, name)] += count


def _types_refused(families: Counter[str], kind: LayerKind) -> str | None:
    """Why the file's geometry types cannot be this layer's (``{name}``: the file's name), or None."""
    expected = _EXPECTED[kind.storage_type]
    if kind in ROW_LEVEL_GEOMETRY and families[expected]:
        return None  # each stray line or polygon is rejected as its own row
    if len(families) > 1:
        found = ", ".join(f"{count:,} {family}" for family, count in families.most_common())
        return ("{name} mixes geometry types (" + found + "); a layer holds one type. Split the file by type "
                "and import the right part.")
    if families and next(iter(families)) != expected:
        return f"{kind.title} needs {expected}, but {{name}} has {next(iter(families))}. Check the layer kind."
    return None


def _width_units(mapping: dict[str, str], crs: CRS, options: ImportOptions, report: ImportReport) -> float:
    column = mapping.get("width")
    if "width" not in {spec.name for spec in fields.specs(options.kind)}:
        return 1.0  # this kind has no widths
    if options.units:
        report.units = f"{options.units} (given with --units)"
        return METRES_PER[options.units]
    by_name = fields.width_unit_from_name(column) if column else None
    if by_name:
        report.units = f"{by_name} (from the column name {column!r})"
        return METRES_PER[by_name]
    factor = linear_unit_metres(crs)
    if factor:
        name = crs.axis_info[0].unit_name if crs.axis_info else "unit"
        report.units = f"{name} (from the coordinate system)"
        return factor
    report.units = "feet (assumed: give --units metres if the widths are in metres)"
    if column:
        report.note(f"Widths in {column!r} were read as feet; the source does not say its units.")
    return METRES_PER["feet"]


def _label_of(value: Any, column: str | None, index: int) -> str:
    return f"{column} {value}" if value not in (None, "") else f"row {index + 1}"


def _source_id_of(value: Any) -> str | None:
    if isinstance(value, float) and value == int(value):
        value = int(value)
    if value is None or not str(value).strip():
        return None
    return str(value).strip()[:120]


_TYPE_NAMES = ["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
               "GeometryCollection"]  # by shapely.get_type_id
_TYPE_IDS = {"POINT": 0, "MULTILINESTRING": 5, "MULTIPOLYGON": 6}  # shapely.get_type_id


def _storable_at_once(geometries: list[BaseGeometry | None], crs: CRS, kind: LayerKind) -> list[BaseGeometry | None]:
    """Each geometry as ``to_storable(reproject(...))`` makes it, for all the rows that need nothing
    but reprojecting and dropping Z and M (already the layer's type, valid, in range), in a few
    vectorized calls; None for the rest, which are checked one by one (with their repairs and reasons)."""
    found = np.asarray(geometries, dtype=object)
    if not len(found):
        return []
    ready = ~shapely.is_missing(found) & ~shapely.is_empty(found)
    ready &= shapely.get_type_id(found) == _TYPE_IDS[kind.storage_type]
    made = np.full(len(found), None, dtype=object)
    if crs != WGS84:
        made[ready] = shapely.transform(found[ready], transformer(crs).transform, interleaved=False)
    else:  # only the geometries with Z or M need a 2-D copy
        flat = found[ready]
        high = shapely.has_z(flat) | shapely.has_m(flat)
        if high.any():
            flat[high] = shapely.force_2d(flat[high])
        made[ready] = flat
    if kind.storage_type == "MULTILINESTRING":
        parts, owner = shapely.get_parts(made[ready], return_index=True)
        ready[np.flatnonzero(ready)[owner[~(shapely.length(parts) > 0)]]] = False
    elif kind.storage_type == "MULTIPOLYGON":
        ready[ready] = shapely.is_valid(made[ready])
    bounds = shapely.bounds(made[ready])
    ready[ready] = ((bounds[:, 0] >= -180) & (bounds[:, 2] <= 180) & (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90))
    return [geometry if ok else None for geometry, ok in zip(made, ready, strict=True)]


class _Failed:
    """A value's reader raised ``error`` (kept to be raised again for every row with that value)."""

    __slots__ = ("error",)

    def __init__(self, error: ValueProblem | ValueWarning) -> None:
        self.error = error


def _read_column(spec: fields.FieldSpec, values: list[Any]) -> list[Any]:
    """``spec.read`` of every value (or ``_Failed``), each distinct value read once. Floats are read
    one by one (0.0 and -0.0 are equal keys but not the same value)."""
    seen: dict[tuple[type, Any], Any] = {}
    read = spec.read
    out = []
    for value in values:
        kind = type(value)
        key = (kind, value)
        try:
            done = seen[key] if kind is not float else _MISSING
        except KeyError:
            done = _MISSING
        except TypeError:  # an unhashable value (a list): read it as it comes
            done = _MISSING
            key = None  # type: ignore[assignment]
        if done is _MISSING:
            try:
                done = read(value)
            except (ValueProblem, ValueWarning) as error:
                done = _Failed(error)
            if key is not None and kind is not float:
                seen[key] = done
        out.append(done)
    return out


_MISSING = object()


def _attribute_rows(rows: Sequence[dict[str, Any]], columns: list[str], format: str,
                    own_export: bool) -> Iterator[dict[str, Any]]:
    """Each row's attributes as the layer keeps them: a Groundwork export's ``src_`` columns under their
    own names, else every column as read."""
    if isinstance(rows, Rows):
        if own_export:
            kept = [(c[len(fields.OWN_SOURCE_PREFIX):], fields.own_column(rows.column(c), from_text=format == "csv"))
                    for c in columns if c.startswith(fields.OWN_SOURCE_PREFIX)]
            names = [name for name, _ in kept]
            for values in zip(*(values for _, values in kept), strict=True):
                yield dict(zip(names, values, strict=True))
            if not kept:
                for _ in range(len(rows)):
                    yield {}
            return
        for values in zip(*rows.values, strict=True):
            yield dict(zip(rows.columns, values, strict=True))
        if not rows.columns:
            for _ in range(len(rows)):
                yield {}
        return
    for row in rows:
        yield fields.own_attributes(row, from_text=format == "csv") if own_export else dict(row)


def _check_row(kind: LayerKind, index: int, read: dict[str, list[Any]], geometry: BaseGeometry | None, label: str,
               mapping: dict[str, str], readers: dict[str, fields.FieldSpec], constants: dict[str, Any],
               crs: CRS, metres_per_width_unit: float, report: ImportReport, *,
               storable: BaseGeometry | None = None) -> FeatureRecord | None:
    """Row ``index``'s record, or None with the reasons in ``report``; ``read``: each mapped field's values
    as read (``_read_column``); ``storable``: its geometry made storable already (``_storable_at_once``)."""
    if storable is None:
        if geometry is None or geometry.is_empty:
            report.reject(label, "has no geometry (empty or missing)", "geometry")
            return None
        try:
            storable, repair = to_storable(reproject(geometry, crs), kind.storage_type)
        except GeometryError as error:
            report.reject(label, str(error), "geometry")
            return None
        if repair:
            report.warn(label, repair, "geometry")
    values: dict[str, Any] = {}
    rejected = False
    for name, spec in readers.items():
        if name in constants:
            values[name] = constants[name]
            continue
        column = mapping.get(name)
        if column is None:
            if spec.default is not None:
                values[name] = spec.default
            continue
        value = read[name][index]
        if type(value) is _Failed:
            if isinstance(value.error, ValueProblem):
                report.reject(label, f"{value.error} (column {column})", name)
                rejected = True
            else:
                report.warn(label, str(value.error), name)
                values[name] = spec.default
        else:
            values[name] = value
        if values.get(name) is None and spec.default is not None:
            values[name] = spec.default
    if rejected:
        return None
    try:
        _finish(kind, values, metres_per_width_unit, label)
    except ValueProblem as problem:
        report.reject(label, str(problem), "full_address" if kind is LayerKind.address else None)
        return None
    return FeatureRecord(storable, values)  # the row's attributes are added by ``check``


def _finish(kind: LayerKind, values: dict[str, Any], metres_per_width_unit: float, label: str) -> None:
    """Fields made from other fields; ValueProblem rejects the row."""
    width = values.pop("width", None)
    if kind in (LayerKind.pavement, LayerKind.sidewalk):
        values["width_m"] = width * metres_per_width_unit if width else None
    if kind is LayerKind.district and not values.get("name"):
        values["name"] = values.get("code") or label
    if kind is LayerKind.address:
        addresses.assemble(values)
