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

from sqlalchemy import func, select
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
class ItemsPage:
    features: list[dict[str, Any]]
    number_matched: int
    query: ItemsQuery

    @property
    def number_returned(self) -> int:
        return len(self.features)

    @property
    def next_offset(self) -> int | None:
        end = self.query.offset + self.number_returned
        return end if end < self.number_matched else None

    @property
    def previous_offset(self) -> int | None:
        return max(self.query.offset - self.query.limit, 0) if self.query.offset > 0 else None


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


def items(*, session: Session, spec: LayerSpec, query: ItemsQuery) -> ItemsPage:
    table = spec.table
    conditions = _conditions(session, spec, query)
    matched = session.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one()
    rows = session.execute(_select(session, spec).where(*conditions).order_by(table.c.id)
                           .limit(query.limit).offset(query.offset)).all()
    return ItemsPage(_features(spec, rows), int(matched), query)


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
