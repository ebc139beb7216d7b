"""Reading /ogc items: parameters checked, pages bounded, features as GeoJSON.

An item's properties are the layer's normalized columns, then every original attribute of the
source named ``src_<name>`` (as in the open-data downloads).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, TypeDecorator, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from app.layers.search import Box, intersects_box
from app.layers.specs import LayerSpec, Queryable
from app.opendata.datasets.layers import SOURCE_PREFIX
from models.layers import Layer, public_columns

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000_000
STANDARD_PARAMETERS = {"f", "bbox", "limit", "offset"}
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


class BadQuery(ValueError):
    """A parameter the client got wrong; the message says which and what is allowed."""


@dataclass(frozen=True)
class ItemsQuery:
    bbox: Box | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    filters: tuple[tuple[Queryable, Any], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Paging:
    number_matched: int
    query: ItemsQuery

    @property
    def number_returned(self) -> int:
        raise NotImplementedError

    @property
    def next_offset(self) -> int | None:
        end = self.query.offset + self.number_returned
        return end if end < self.number_matched else None

    @property
    def previous_offset(self) -> int | None:
        return max(self.query.offset - self.query.limit, 0) if self.query.offset > 0 else None


@dataclass(frozen=True)
class ItemsPage(_Paging):
    """A page of features as Python values (the HTML table)."""

    features: list[dict[str, Any]] = field(default_factory=list)

    @property
    def number_returned(self) -> int:
        return len(self.features)


@dataclass(frozen=True)
class ItemsText(_Paging):
    """A page of features as GeoJSON text written by the database, one string per feature."""

    features: list[str] = field(default_factory=list)

    @property
    def number_returned(self) -> int:
        return len(self.features)


def parse_query(spec: LayerSpec, params: Mapping[str, str]) -> ItemsQuery:
    """Check ``bbox``, ``limit``, ``offset`` and property filters; raise BadQuery naming the problem.
    A limit over the maximum is served as the maximum (as OGC API – Features asks)."""
    limit = _integer(params, "limit", DEFAULT_LIMIT, minimum=1)
    offset = _integer(params, "offset", 0, minimum=0)
    if offset > MAX_OFFSET:
        raise BadQuery(f"offset must be at most {MAX_OFFSET:,}.")
    filters = []
    for name, value in params.items():
        if name in STANDARD_PARAMETERS:
            continue
        queryable = spec.queryable(name)
        if queryable is None:
            names = ", ".join(q.name for q in spec.queryables)
            raise BadQuery(f"Unknown parameter {name!r}. {spec.title} can be filtered by: {names}.")
        filters.append((queryable, _filter_value(queryable, value)))
    return ItemsQuery(_bbox(params.get("bbox")), min(limit, MAX_LIMIT), offset, tuple(filters))


def _integer(params: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise BadQuery(f"{name} must be at least {minimum}, not {value}.")
    return value


def _bbox(raw: str | None) -> Box | None:
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise BadQuery("bbox must be four numbers: min longitude, min latitude, max longitude, max latitude.")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise BadQuery(f"bbox must be numbers separated by commas, not {raw!r}.") from None
    if not all(math.isfinite(n) for n in numbers):
        raise BadQuery("bbox must be finite numbers.")
    minx, miny, maxx, maxy = numbers if len(numbers) == 4 else (numbers[0], numbers[1], numbers[3], numbers[4])
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise BadQuery("bbox is longitude and latitude in WGS 84: longitudes within ±180, latitudes within ±90.")
    if minx > maxx or miny > maxy:
        raise BadQuery("bbox must give the minimum longitude and latitude before the maximum ones.")
    return minx, miny, maxx, maxy


def _filter_value(queryable: Queryable, raw: str) -> Any:
    if queryable.type == "integer":
        try:
            number = int(raw)
        except ValueError:
            raise BadQuery(f"{queryable.name} must be a whole number, not {raw!r}.") from None
        if abs(number) >= 2**31:
            raise BadQuery(f"{queryable.name} {raw} is out of range.")
        return number
    if queryable.type == "boolean":
        if raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
        raise BadQuery(f"{queryable.name} must be true or false, not {raw!r}.")
    return raw


def _conditions(session: Session, spec: LayerSpec, query: ItemsQuery) -> list[ColumnElement[bool]]:
    table = spec.table
    conditions: list[ColumnElement[bool]] = []
    if query.bbox is not None:
        conditions += intersects_box(dialect=session.get_bind().dialect.name, features=table, box=query.bbox)
    for queryable, value in query.filters:
        column = table.c[queryable.name]
        conditions.append(func.lower(column) == value.lower() if queryable.type == "string" else column == value)
    return conditions


def revision(*, session: Session, spec: LayerSpec) -> int:
    layer = session.get(Layer, spec.id)
    return layer.revision if layer else 0


def etag(*, spec: LayerSpec, revision: int, url: str) -> str:
    """Strong: the same revision and request give the same bytes."""
    return f'"ogc-{spec.id}-r{revision}-{hashlib.sha256(url.encode()).hexdigest()[:16]}"'


_MATCHED: dict[tuple[Any, ...], int] = {}
_MATCHED_KEPT = 1024


def _number_matched(session: Session, spec: LayerSpec, query: ItemsQuery,
                    conditions: list[ColumnElement[bool]]) -> int:
    """How many features the query matches, counted once per state of the layer (its revision and
    the database's key for it, which every write changes): on a large layer the count costs a good
    share of a page."""
    layer = session.get(Layer, spec.id)
    key = None if layer is None or layer.tile_key is None else (
        str(session.get_bind().engine.url), spec.id, layer.revision, layer.tile_key, query.bbox,
        tuple((queryable.name, value) for queryable, value in query.filters))
    if key is not None and key in _MATCHED:
        return _MATCHED[key]
    matched = int(session.execute(select(func.count()).select_from(spec.table).where(*conditions)).scalar_one())
    if key is not None:
        if len(_MATCHED) >= _MATCHED_KEPT:
            _MATCHED.clear()
        _MATCHED[key] = matched
    return matched


def items(*, session: Session, spec: LayerSpec, query: ItemsQuery) -> ItemsPage:
    table = spec.table
    conditions = _conditions(session, spec, query)
    matched = _number_matched(session, spec, query, conditions)
    rows = session.execute(_select(session, spec).where(*conditions).order_by(table.c.id)
                           .limit(query.limit).offset(query.offset)).all()
    return ItemsPage(matched, query, _features(spec, rows))


def items_text(*, session: Session, spec: LayerSpec, query: ItemsQuery) -> ItemsText:
    """The same page as ``items``, each feature written as GeoJSON by the database (PostGIS's
    ``ST_AsGeoJSON`` and ``to_json``, SpatiaLite's ``AsGeoJSON`` and JSON1): no row becomes Python values."""
    table = spec.table
    conditions = _conditions(session, spec, query)
    matched = _number_matched(session, spec, query, conditions)
    page = (select(table).where(*conditions).order_by(table.c.id).limit(query.limit).offset(query.offset)
            .subquery(FEATURE_ALIAS))  # the page's rows first: only they are written as JSON
    texts = session.execute(select(literal_column(feature_sql(spec, session.get_bind().dialect.name)))
                            .select_from(page).order_by(page.c.id)).scalars().all()
    return ItemsText(matched, query, list(texts))


def item(*, session: Session, spec: LayerSpec, feature_id: int) -> dict[str, Any] | None:
    row = session.execute(_select(session, spec).where(spec.table.c.id == feature_id)).first()
    return _features(spec, [row])[0] if row else None


def property_names(spec: LayerSpec) -> list[str]:
    """The normalized properties every item of the layer has (before its ``src_`` attributes)."""
    return [c.name for c in _columns(spec) if c.name != "id"]


def _columns(spec: LayerSpec) -> list[Any]:
    return public_columns(spec.table)


COORDINATE_DECIMALS = 7  # about 1 cm: more digits describe no survey


class GeoJSONText(str):
    """A geometry as GeoJSON text written by the database (ST_AsGeoJSON, SpatiaLite's AsGeoJSON):
    ``app.ogc.documents.encode`` puts it in the document as it is, never parsing it."""

    @property
    def type(self) -> str:  # for the HTML item page
        return str(json.loads(self)["type"])


def _select(session: Session, spec: LayerSpec) -> Any:
    table = spec.table
    as_geojson = func.AsGeoJSON if session.get_bind().dialect.name == "sqlite" else func.ST_AsGeoJSON
    return select(*_columns(spec), table.c.attributes,
                  as_geojson(table.c.geom, COORDINATE_DECIMALS).label("geojson"))


FEATURE_ALIAS = "feature"


def feature_sql(spec: LayerSpec, dialect: str) -> str:
    """SQL writing a row of ``spec.table`` (aliased ``feature``) as the GeoJSON Feature ``_features``
    makes of it: the same members in the same order, the same property types (a float keeps its
    decimal point), the source's attributes after the normalized columns as ``src_<name>``."""
    postgres = dialect == "postgresql"
    geojson = "ST_AsGeoJSON" if postgres else "AsGeoJSON"
    parts = [_sql_string('{"type":"Feature","id":'), _sql_value("id", Integer(), postgres),
             _sql_string(',"geometry":'), f"COALESCE({geojson}({FEATURE_ALIAS}.geom, {COORDINATE_DECIMALS}), 'null')",
             _sql_string(',"properties":{')]
    for index, c in enumerate(c for c in _columns(spec) if c.name != "id"):
        parts.append(_sql_string(("," if index else "") + json.dumps(c.name) + ":"))
        parts.append(_sql_value(c.name, c.type, postgres))
    parts += [_attributes_sql(postgres), "'}}'"]
    return "(" + " || ".join(parts) + ")"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_value(name: str, kind: Any, postgres: bool) -> str:
    """A column's value as JSON text: what ``_plain`` and ``json`` make of it in Python."""
    value = f"{FEATURE_ALIAS}.{name}"
    python = (kind.impl_instance if isinstance(kind, TypeDecorator) else kind).python_type
    if python is bool:
        return f"CASE WHEN {value} IS NULL THEN 'null' WHEN {value} THEN 'true' ELSE 'false' END"
    if python is float:
        return f"CASE WHEN {value} IS NULL THEN 'null' ELSE {_float_sql(value, postgres)} END"
    if python is int:
        return f"COALESCE(CAST({value} AS TEXT), 'null')"
    if python in (str, date):  # a date as its ISO text, like date.isoformat()
        return f"COALESCE(to_json({value})::text, 'null')" if postgres else f"COALESCE(json_quote({value}), 'null')"
    raise TypeError(f"{name}: the database does not write {python.__name__} columns as JSON here")


def _float_sql(value: str, postgres: bool) -> str:
    """A float as Python's ``repr`` writes it. PostgreSQL writes the shortest exact digits but drops
    ``.0`` from whole numbers; SQLite's JSON keeps only 15 digits, so the fewest of 15, 16 or 17
    digits that read back as the same number are written."""
    if postgres:
        return (f"CASE WHEN {value} = trunc({value}) AND abs({value}) < 1e15 THEN CAST({value} AS TEXT) || '.0' "
                f"ELSE CAST({value} AS TEXT) END")
    shortest = [f"printf('%!.{digits}g', {value})" for digits in (15, 16, 17)]
    return (f"CASE WHEN CAST({shortest[0]} AS REAL) = {value} THEN {shortest[0]} "
            f"WHEN CAST({shortest[1]} AS REAL) = {value} THEN {shortest[1]} ELSE {shortest[2]} END")


def _attributes_sql(postgres: bool) -> str:
    """``,"src_<name>":value`` for each of the source's attributes, in their stored order; a nested
    object or list becomes its JSON text, as ``_plain`` makes it (SpatiaLite's without the spaces
    after commas and colons: imports never nest, GDAL reads nested values as text). Attributes that
    are a JSON null are none at all, as in Python."""
    attributes = f"{FEATURE_ALIAS}.attributes"
    if postgres:
        return (f"COALESCE((SELECT string_agg(',' || to_json('{SOURCE_PREFIX}' || key)::text || ':' || "
                f"CASE WHEN jsonb_typeof(value) IN ('object', 'array') THEN to_json(value::text)::text "
                f"ELSE value::text END, '') FROM jsonb_each(CASE jsonb_typeof({attributes}) WHEN 'object' "
                f"THEN {attributes} END)), '')")
    real = _float_sql("atom", postgres=False)
    return (f"COALESCE((SELECT group_concat(',' || json_quote('{SOURCE_PREFIX}' || key) || ':' || "
            f"CASE type WHEN 'real' THEN {real} WHEN 'text' THEN json_quote(atom) "
            f"WHEN 'integer' THEN atom WHEN 'object' THEN json_quote(value) WHEN 'array' THEN json_quote(value) "
            f"ELSE type END, '') "
            f"FROM json_each(CASE json_type({attributes}) WHEN 'object' THEN {attributes} END)), '')")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _features(spec: LayerSpec, rows: Sequence[Any]) -> list[dict[str, Any]]:
    names = [c.name for c in _columns(spec)]
    features = []
    for row in rows:
        properties = {name: _plain(row[i]) for i, name in enumerate(names) if name != "id"}
        for key, value in (row.attributes or {}).items():
            properties.setdefault(SOURCE_PREFIX + key, _plain(value))
        geometry = GeoJSONText(row.geojson) if row.geojson is not None else None
        features.append({"type": "Feature", "id": row.id, "geometry": geometry, "properties": properties})
    return features
