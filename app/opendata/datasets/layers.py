"""The condition layers and address points as datasets: normalized fields, then the source's own columns.

Columns come from each layer's table (everything but the geometry, the raw attributes and
internal columns such as search keys);
the original attributes follow, flattened as ``src_<name>``. Features are read in keyset
pages of ``BATCH`` rows, so exporting the whole city never holds it in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from typing import Any

import shapely
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, func, select
from sqlmodel import Session

from app.opendata.registry import Dataset, DatasetField, DatasetState, ExportFeature, FieldType
from models.layers import FEATURE_TABLES, Layer, LayerKind, public_columns

BATCH = 2000
SOURCE_PREFIX = "src_"

_DESCRIPTIONS = {
    "id": "Groundwork's id for the feature (stable until the layer is re-imported).",
    "source_id": "The feature's id in the city's source data.",
    "district_id": "Id of the council district containing the feature (see the Districts dataset).",
    "tract_id": "Id of the census tract containing the feature (see the Census tracts dataset).",
    "street_name": "Street name.",
    "from_street": "Cross street where the segment starts.",
    "to_street": "Cross street where the segment ends.",
    "functional_class": "arterial, collector or local.",
    "width_m": "Width in metres.",
    "lanes": "Number of travel lanes.",
    "length_m": "Geodesic length in metres (WGS84 ellipsoid).",
    "area_m2": "Area in square metres (length × width for segments; geodesic for boundaries).",
    "pci": "Pavement Condition Index, 0 (failed) to 100 (new).",
    "band": "Condition band derived from the PCI (e.g. good, fair, poor).",
    "survey_date": "Date of the condition survey.",
    "side": "Side of the street.",
    "condition": "Condition rating (excellent … poor).",
    "is_gap": "True where the sidewalk is missing.",
    "trip_hazards": "Number of trip hazards recorded.",
    "pole_id": "The pole's id.",
    "fixture": "Fixture type.",
    "lamp_type": "Lamp type (LED, HPS, MH, …).",
    "wattage": "Lamp wattage.",
    "owner": "Who owns the pole: city, utility or other.",
    "status": "working, out or reported.",
    "name": "Name.",
    "name_es": "Name in Spanish (empty: the English name is shown).",
    "code": "Short code.",
    "population": "Residents.",
    "geoid": "Census GEOID.",
    "poverty_rate": "Share of residents below the poverty line (0–1).",
    "full_address": "The full street address, with its unit when it has one.",
    "house_number": "House number, with its prefix or suffix (12A, 12 1/2).",
    "unit": "Unit, apartment or suite.",
    "zip_code": "ZIP or postal code.",
}

_LAYER_DESCRIPTIONS = {
    LayerKind.pavement: "Every street segment with its pavement condition (PCI), band, width and length.",
    LayerKind.sidewalk: "Sidewalk segments and gaps with their condition, width and trip hazards.",
    LayerKind.ramp: "Curb ramps at crossings and their condition.",
    LayerKind.streetlight: "Streetlight poles with lamp type, wattage, owner and working status.",
    LayerKind.district: "Council district boundaries with their population.",
    LayerKind.tract: "Census tract boundaries with population and poverty rate (the equity measure).",
    LayerKind.address: "Address points: every street address with its house number, street, unit and ZIP code, "
                       "and the district and census tract it lies in.",
}

_GEOMETRY = {"MULTILINESTRING": "MultiLineString", "MULTIPOLYGON": "MultiPolygon", "POINT": "Point"}


def _field_type(column: Any) -> FieldType:
    kind = column.type
    if isinstance(kind, Boolean):
        return "boolean"
    if isinstance(kind, Integer):
        return "integer"
    if isinstance(kind, Float):
        return "number"
    if isinstance(kind, DateTime):
        return "datetime"
    if isinstance(kind, Date):
        return "date"
    return "string"


def _export_columns(kind: LayerKind) -> list[Any]:
    return public_columns(FEATURE_TABLES[kind].__table__)  # type: ignore[attr-defined]


def _fields(kind: LayerKind) -> tuple[DatasetField, ...]:
    return tuple(DatasetField(c.name, _field_type(c), _DESCRIPTIONS.get(c.name, "")) for c in _export_columns(kind))


def _state(kind: LayerKind, session: Session) -> DatasetState | None:
    layer = session.get(Layer, kind.value)
    if layer is None:
        return None
    bbox = None
    if None not in (layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat):
        bbox = (layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat)
    return DatasetState(revision=layer.revision, feature_count=layer.feature_count, modified=layer.imported_at,
                        source=layer.source, bbox=bbox)  # type: ignore[arg-type]


def _attribute_type(values: set[type]) -> FieldType:
    values.discard(type(None))
    if values and values <= {bool}:
        return "boolean"
    if values and values <= {int}:
        return "integer"
    if values and values <= {int, float}:
        return "number"
    return "string"


def _source_fields(kind: LayerKind, session: Session) -> list[DatasetField]:
    """The original attributes' names (first-seen order) and a type that holds every value."""
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    seen: dict[str, set[type]] = {}
    last_id = None
    while True:
        query = select(table.c.id, table.c.attributes).order_by(table.c.id).limit(BATCH)
        if last_id is not None:
            query = query.where(table.c.id > last_id)
        rows = session.execute(query).all()
        if not rows:
            break
        for _, attributes in rows:
            for key, value in (attributes or {}).items():
                seen.setdefault(key, set()).add(type(value))
        last_id = rows[-1][0]
    return [DatasetField(SOURCE_PREFIX + key, _attribute_type(types), f"“{key}” as in the source data.")
            for key, types in seen.items()]


def _flat(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _features(kind: LayerKind, session: Session) -> Iterator[ExportFeature]:
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    columns = _export_columns(kind)
    names = [c.name for c in columns]
    last_id = None
    while True:
        query = (select(*columns, table.c.attributes, func.ST_AsBinary(table.c.geom))
                 .order_by(table.c.id).limit(BATCH))
        if last_id is not None:
            query = query.where(table.c.id > last_id)
        rows = session.execute(query).all()
        if not rows:
            return
        geometries = shapely.from_wkb([bytes(row[-1]) if row[-1] is not None else None for row in rows])
        for row, geometry in zip(rows, geometries, strict=True):
            properties = dict(zip(names, row[:len(names)], strict=True))
            for key, value in (row[len(names)] or {}).items():
                properties.setdefault(SOURCE_PREFIX + key, _flat(value))
            yield ExportFeature(properties, geometry)
        last_id = rows[-1][0]


def _keywords(kind: LayerKind) -> tuple[str, ...]:
    if kind is LayerKind.address:
        return ("addresses", "address points", "geocoding")
    return ("infrastructure", "condition", kind.value)


def _dataset(kind: LayerKind, order: int) -> Dataset:
    return Dataset(
        id=kind.value, title=kind.title, description=_LAYER_DESCRIPTIONS[kind],
        geometry_type=_GEOMETRY[kind.storage_type],  # type: ignore[arg-type]
        fields=_fields(kind), state=partial(_state, kind), features=partial(_features, kind),
        extra_fields=partial(_source_fields, kind), keywords=_keywords(kind),
        order=order,
        extra_note="Then every column of the source data as imported, named src_<column>.",
    )


DATASETS = [_dataset(kind, order) for order, kind in enumerate(LayerKind)]

