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

from sqlalchemy import Integer, Select, TypeDecorator, case, func, literal_column, select, text, true
from sqlalchemy.sql.elements import ColumnElement, TextClause
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


@dataclass(frozen=True)
class LayerState:
    """One state of a layer's data: its revision and the key the database gives each revision
    (``tile_key``, migration 0013), which every write changes."""

    revision: int = 0
    tile_key: str | None = None


_LAYER = Layer.__table__  # type: ignore[attr-defined]


def layer_state(*, session: Session, spec: LayerSpec) -> LayerState:
    row = session.execute(select(_LAYER.c.revision, _LAYER.c.tile_key).where(_LAYER.c.kind == spec.id)).first()
    return LayerState(row.revision, row.tile_key) if row else LayerState()


def revision(*, session: Session, spec: LayerSpec) -> int:
    return layer_state(session=session, spec=spec).revision


def etag(*, spec: LayerSpec, revision: int, url: str) -> str:
    """Strong: the same revision and request give the same bytes."""
    return f'"ogc-{spec.id}-r{revision}-{hashlib.sha256(url.encode()).hexdigest()[:16]}"'


_MATCHED: dict[tuple[Any, ...], int] = {}
_MATCHED_KEPT = 1024


def _number_matched(session: Session, spec: LayerSpec, query: ItemsQuery,
                    conditions: list[ColumnElement[bool]], state: LayerState) -> int:
    """How many features the query matches, counted once per state of the layer (its revision and
    the database's key for it, which every write changes): on a large layer the count costs a good
    share of a page."""
    key = None if state.tile_key is None else (
        str(session.get_bind().engine.url), spec.id, state.revision, state.tile_key, query.bbox,
        tuple((queryable.name, value) for queryable, value in query.filters))
    if key is not None and key in _MATCHED:
        return _MATCHED[key]
    matched = int(session.execute(select(func.count()).select_from(spec.table).where(*conditions)).scalar_one())
    if key is not None:
        if len(_MATCHED) >= _MATCHED_KEPT:
            _MATCHED.clear()
        _MATCHED[key] = matched
    return matched


def _page(spec: LayerSpec, query: ItemsQuery, conditions: list[ColumnElement[bool]], rows: Select[Any]) -> Select[Any]:
    """The page's rows in id order. Deep pages start from the id the offset lands on, found in the
    primary key's index alone, so the rows skipped are never read from the table."""
    table = spec.table
    rows = rows.where(*conditions)
    if query.offset:
        first = (select(table.c.id).where(*conditions).order_by(table.c.id).offset(query.offset).limit(1)
                 .scalar_subquery())
        rows = rows.where(table.c.id >= first)
    return rows.order_by(table.c.id).limit(query.limit)


def items(*, session: Session, spec: LayerSpec, query: ItemsQuery, state: LayerState | None = None) -> ItemsPage:
    conditions = _conditions(session, spec, query)
    state = state or layer_state(session=session, spec=spec)
    matched = _number_matched(session, spec, query, conditions, state)
    rows = session.execute(_page(spec, query, conditions, _select(session, spec))).all()
    return ItemsPage(matched, query, _features(spec, rows))


def items_text(*, session: Session, spec: LayerSpec, query: ItemsQuery,
               state: LayerState | None = None) -> ItemsText:
    """The same page as ``items``, each feature written as GeoJSON by the database (PostGIS's
    ``ST_AsGeoJSON`` and ``to_json``, SpatiaLite's ``AsGeoJSON`` and JSON1): no row becomes Python values."""
    conditions = _conditions(session, spec, query)
    state = state or layer_state(session=session, spec=spec)
    matched = _number_matched(session, spec, query, conditions, state)
    page = _page(spec, query, conditions, select(spec.table)).subquery(FEATURE_ALIAS)  # only its rows are written
    dialect = session.get_bind().dialect.name
    keys = _source_keys(session, spec, state) if dialect == "postgresql" else None
    written: Any = (literal_column(feature_sql(spec, dialect)) if keys is None
                    else _feature_naming_keys(spec, keys, state))
    texts = session.execute(select(written).select_from(page).order_by(page.c.id)).scalars().all()
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


def feature_sql(spec: LayerSpec, dialect: str, attributes: str | None = None) -> str:
    """SQL writing a row of ``spec.table`` (aliased ``feature``) as the GeoJSON Feature ``_features``
    makes of it: the same members in the same order, the same property types (a float keeps its
    decimal point), the source's attributes after the normalized columns as ``src_<name>``
    (``attributes``: SQL writing them, ``_attributes_sql``'s by default)."""
    postgres = dialect == "postgresql"
    geojson = "ST_AsGeoJSON" if postgres else "AsGeoJSON"
    parts = [_sql_string('{"type":"Feature","id":'), _sql_value("id", Integer(), postgres),
             _sql_string(',"geometry":'), f"COALESCE({geojson}({FEATURE_ALIAS}.geom, {COORDINATE_DECIMALS}), 'null')",
             _sql_string(',"properties":{')]
    for index, c in enumerate(c for c in _columns(spec) if c.name != "id"):
        parts.append(_sql_string(("," if index else "") + json.dumps(c.name) + ":"))
        parts.append(_sql_value(c.name, c.type, postgres))
    parts += [attributes or _attributes_sql(postgres), "'}}'"]
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


_KEYS: dict[tuple[str, str, str], tuple[tuple[str, bool], ...] | None] = {}
_KEYS_NAMED = 64  # a source with more attribute names than this is written by jsonb_each


def _source_keys(session: Session, spec: LayerSpec, state: LayerState) -> tuple[tuple[str, bool], ...] | None:
    """Every name the layer's source attributes use, in jsonb's order (shorter names first), each with
    whether any feature's value for it is an object or a list; found once per state of the layer
    (PostgreSQL). None when the layer has no known state, has changed since ``state`` or names too many."""
    if state.tile_key is None:
        return None
    cache_key = (str(session.get_bind().engine.url), spec.id, state.tile_key)
    if cache_key in _KEYS:
        return _KEYS[cache_key]
    table = spec.table
    each = (func.jsonb_each(case((func.jsonb_typeof(table.c.attributes) == "object", table.c.attributes)))
            .table_valued("key", "value").lateral("each"))
    per_key = (select(each.c.key, func.bool_or(func.jsonb_typeof(each.c.value).in_(("object", "array")))
                      .label("nested"))
               .select_from(table).join(each, true()).group_by(each.c.key).subquery())
    named = select(func.jsonb_object_agg(per_key.c.key, per_key.c.nested)).scalar_subquery()
    row = session.execute(select(_LAYER.c.tile_key, named).where(_LAYER.c.kind == spec.id)).first()
    if row is None or row[0] != state.tile_key:  # written since: the next request finds the new names
        return None
    keys = tuple((row[1] or {}).items())  # a jsonb object's keys come out in jsonb's order
    if len(_KEYS) >= _MATCHED_KEPT:
        _KEYS.clear()
    _KEYS[cache_key] = keys if len(keys) <= _KEYS_NAMED else None
    return _KEYS[cache_key]


def _feature_naming_keys(spec: LayerSpec, keys: tuple[tuple[str, bool], ...], state: LayerState) -> TextClause:
    """``feature_sql`` with the source attributes written by name (``attributes -> 'SEG_ID'``, in the
    order jsonb keeps them), not by ``jsonb_each`` on every row, which costs more than all the rest
    of the feature. The names are those of ``state``: the query checks that the layer is still in
    that state when it reads the page, and writes the page with ``jsonb_each`` if it is not."""
    attributes = f"{FEATURE_ALIAS}.attributes"
    written, names = [], {"layer_kind": spec.id, "layer_tile_key": state.tile_key}
    for index, (key, nested) in enumerate(keys):
        value = f"({attributes} -> CAST(:src_key_{index} AS TEXT))"
        value_json = (f"CASE WHEN jsonb_typeof({value}) IN ('object', 'array') THEN to_json({value}::text)::text "
                      f"ELSE {value}::text END") if nested else f"{value}::text"
        written.append(f"CAST(:src_name_{index} AS TEXT) || {value_json}")  # NULL (left out) where the key is not
        names[f"src_key_{index}"] = key
        names[f"src_name_{index}"] = "," + json.dumps(SOURCE_PREFIX + key, ensure_ascii=False) + ":"
    by_name = f"concat({', '.join(written)})" if written else "''"
    same_state = "(SELECT layer.tile_key FROM layer WHERE layer.kind = :layer_kind) = :layer_tile_key"
    return text(feature_sql(spec, "postgresql", attributes=f"CASE WHEN {same_state} THEN {by_name} "
                                                           f"ELSE {_attributes_sql(postgres=True)} END")
                ).bindparams(**names)


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
