"""What each condition layer publishes: one ``LayerSpec`` per ``LayerKind``.

The spec is the single source for ``/tiles`` and ``/ogc``: the public id (the ``LayerKind``
value, also the layer's name inside every vector tile), its title, the zoom from which tiles
carry it, the few properties a tile holds (the map's contract; nothing else goes into a tile)
and the properties ``/ogc`` items may be filtered by.

Tile property contract (MVT layer name = layer id):

============  =================================================================
pavement      id, street, pci (integer; absent when not rated), band, class
sidewalk      id, street, condition, gap (0/1), hazards
ramp          id, condition
streetlight   id, pole, status, owner, lamp
district      id, name, code
tract         id, name, geoid, poverty (share in poverty, 0..1)
address       id, address, number, street, unit (from zoom 16)
============  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Integer, cast, func
from sqlalchemy.sql.elements import ColumnElement

from models.layers import FEATURE_TABLES, LayerKind

TileType = Literal["Number", "String"]
QueryableType = Literal["string", "integer", "boolean"]
GeometryName = Literal["Point", "MultiLineString", "MultiPolygon"]


@dataclass(frozen=True)
class TileProperty:
    """One property of a tile feature: its name in the tile and the column expression it comes from."""

    name: str
    type: TileType
    description: str
    column: str
    convert: Literal["as_is", "rounded", "flag"] = "as_is"

    def expression(self, table: Any) -> ColumnElement[Any]:
        column = table.c[self.column]
        if self.convert == "rounded":
            value: ColumnElement[Any] = cast(func.round(column), Integer)
        elif self.convert == "flag":
            value = cast(column, Integer)
        else:
            value = column
        return value.label(self.name)


@dataclass(frozen=True)
class Queryable:
    """A property ``/ogc`` items can be filtered by (``?band=poor``): equality, case-insensitive for text."""

    name: str  # the item property (a column)
    type: QueryableType
    description: str
    aliases: tuple[str, ...] = ()  # the tile property's name, so map and API filters read alike


@dataclass(frozen=True)
class LayerSpec:
    kind: LayerKind
    description: str
    geometry_type: GeometryName
    min_zoom: int
    tile_properties: tuple[TileProperty, ...]
    queryables: tuple[Queryable, ...]

    @property
    def id(self) -> str:
        return self.kind.value

    @property
    def title(self) -> str:
        return self.kind.title

    @property
    def model(self) -> type[Any]:
        return FEATURE_TABLES[self.kind]

    @property
    def table(self) -> Any:
        return self.model.__table__

    def queryable(self, name: str) -> Queryable | None:
        for q in self.queryables:
            if name == q.name or name in q.aliases:
                return q
        return None


_ID = TileProperty("id", "Number", "Groundwork's id of the feature (the /ogc item id).", "id")
_STREET = TileProperty("street", "String", "Street name.", "street_name")
_DISTRICT_Q = Queryable("district_id", "integer", "Id of the council district containing it.", ("district",))
_TRACT_Q = Queryable("tract_id", "integer", "Id of the census tract containing it.", ("tract",))
_STREET_Q = Queryable("street_name", "string", "Street name.", ("street",))

SPECS: dict[LayerKind, LayerSpec] = {spec.kind: spec for spec in (
    LayerSpec(
        LayerKind.pavement, "Street segments with their Pavement Condition Index (PCI) and condition band.",
        "MultiLineString", 11,
        (_ID, _STREET,
         TileProperty("pci", "Number", "Pavement Condition Index, 0–100 (absent when not rated).", "pci", "rounded"),
         TileProperty("band", "String", "Condition band from the PCI (e.g. good, fair, poor).", "band"),
         TileProperty("class", "String", "Functional class: arterial, collector or local.", "functional_class")),
        (_STREET_Q, Queryable("band", "string", "Condition band (e.g. good, fair, poor)."),
         Queryable("functional_class", "string", "arterial, collector or local.", ("class",)),
         _DISTRICT_Q, _TRACT_Q),
    ),
    LayerSpec(
        LayerKind.sidewalk, "Sidewalk segments and gaps with their condition and trip hazards.",
        "MultiLineString", 14,
        (_ID, _STREET,
         TileProperty("condition", "String", "Condition: excellent, good, fair or poor.", "condition"),
         TileProperty("gap", "Number", "1 where the sidewalk is missing, else 0.", "is_gap", "flag"),
         TileProperty("hazards", "Number", "Number of trip hazards recorded.", "trip_hazards")),
        (_STREET_Q, Queryable("condition", "string", "Condition: excellent, good, fair or poor."),
         Queryable("is_gap", "boolean", "true where the sidewalk is missing.", ("gap",)),
         _DISTRICT_Q, _TRACT_Q),
    ),
    LayerSpec(
        LayerKind.ramp, "Curb ramps at crossings and their condition.", "Point", 15,
        (_ID, TileProperty("condition", "String", "Condition: excellent, good, fair or poor.", "condition")),
        (Queryable("condition", "string", "Condition: excellent, good, fair or poor."),
         Queryable("street_name", "string", "Street name.", ("street",)), _DISTRICT_Q, _TRACT_Q),
    ),
    LayerSpec(
        LayerKind.streetlight, "Streetlight poles with their lamp, owner and working status.", "Point", 14,
        (_ID,
         TileProperty("pole", "String", "The pole's id.", "pole_id"),
         TileProperty("status", "String", "working, out or reported.", "status"),
         TileProperty("owner", "String", "Who owns the pole: city, utility or other.", "owner"),
         TileProperty("lamp", "String", "Lamp type (LED, HPS, MH, …).", "lamp_type")),
        (Queryable("status", "string", "working, out or reported."),
         Queryable("owner", "string", "city, utility or other."),
         Queryable("lamp_type", "string", "Lamp type (LED, HPS, MH, …).", ("lamp",)),
         Queryable("pole_id", "string", "The pole's id.", ("pole",)),
         Queryable("street_name", "string", "Street name.", ("street",)), _DISTRICT_Q, _TRACT_Q),
    ),
    LayerSpec(
        LayerKind.district, "Council district boundaries.", "MultiPolygon", 0,
        (_ID, TileProperty("name", "String", "District name.", "name"),
         TileProperty("code", "String", "Short code.", "code")),
        (Queryable("name", "string", "District name."), Queryable("code", "string", "Short code.")),
    ),
    LayerSpec(
        LayerKind.tract, "Census tract boundaries with their poverty rate (the equity measure).", "MultiPolygon", 0,
        (_ID, TileProperty("name", "String", "Tract name.", "name"),
         TileProperty("geoid", "String", "Census GEOID.", "geoid"),
         TileProperty("poverty", "Number", "Share of residents below the poverty line, 0–1.", "poverty_rate")),
        (Queryable("geoid", "string", "Census GEOID."), Queryable("name", "string", "Tract name.")),
    ),
    LayerSpec(
        LayerKind.address, "Address points: every street address with its house number, street, unit and ZIP code.",
        "Point", 16,
        (_ID, TileProperty("address", "String", "The full address.", "full_address"),
         TileProperty("number", "String", "House number.", "house_number"), _STREET,
         TileProperty("unit", "String", "Unit, apartment or suite.", "unit")),
        (_STREET_Q, Queryable("house_number", "string", "House number.", ("number",)),
         Queryable("full_address", "string", "The full address, as written.", ("address",)),
         Queryable("zip_code", "string", "ZIP or postal code.", ("zip",)), _DISTRICT_Q, _TRACT_Q),
    ),
)}


class UnknownLayer(LookupError):
    pass


def spec_for(layer_id: str) -> LayerSpec:
    """The spec for a public layer id; UnknownLayer names the ids there are."""
    try:
        return SPECS[LayerKind(layer_id)]
    except ValueError:
        raise UnknownLayer(f"There is no layer {layer_id!r}; the layers are {', '.join(k.value for k in LayerKind)}."
                           ) from None

