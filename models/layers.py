"""Condition layers: pavement, sidewalks, curb ramps, streetlights, districts, census tracts;
and address points, which residents search to find a place on the map.

One table per kind with normalized, typed fields for the map, the cost model and the
dashboards; ``attributes`` keeps every original column as imported. Geometry is stored in
WGS84 (SRID 4326); geodesic quantities (metres, square metres) are computed at import.
A layer's public id (``LayerKind``) is the same in ``/ogc`` and ``/tiles``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import String
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime


class LayerKind(StrEnum):
    pavement = "pavement"
    sidewalk = "sidewalk"
    ramp = "ramp"
    streetlight = "streetlight"
    district = "district"
    tract = "tract"
    address = "address"

    @property
    def title(self) -> str:  # type: ignore[override]  # shadows str.title() on purpose: the layer's display name
        return _TITLES[self]

    @property
    def storage_type(self) -> str:
        """The geometry type its table stores."""
        if self in (LayerKind.pavement, LayerKind.sidewalk):
            return "MULTILINESTRING"
        if self in (LayerKind.district, LayerKind.tract):
            return "MULTIPOLYGON"
        return "POINT"

    @property
    def is_asset(self) -> bool:
        """Assets are what proposals cover; boundaries only group them, addresses only locate."""
        return self not in (LayerKind.district, LayerKind.tract, LayerKind.address)

    @property
    def in_areas(self) -> bool:
        """Its features carry the district and census tract they lie in (found at import)."""
        return self not in (LayerKind.district, LayerKind.tract)

    @property
    def on_condition_map(self) -> bool:
        """Drawn as a layer of the condition map (addresses are found by search instead)."""
        return self is not LayerKind.address


_TITLES = {
    LayerKind.pavement: "Pavement condition",
    LayerKind.sidewalk: "Sidewalks",
    LayerKind.ramp: "Curb ramps",
    LayerKind.streetlight: "Streetlights",
    LayerKind.district: "Districts",
    LayerKind.tract: "Census tracts",
    LayerKind.address: "Address points",
}

# The search key is compared byte by byte (prefix ranges on its index): PostgreSQL's "C" collation,
# SQLite's default BINARY one.
SEARCH_KEY_TYPE = String(300).with_variant(String(300, collation="C"), "postgresql")


class Layer(SQLModel, table=True):
    """What is loaded for one kind: its source, when and by whom, and its revision."""

    __tablename__ = "layer"

    kind: str = Field(primary_key=True, max_length=20, description="A LayerKind value.")
    title: str = Field(max_length=200)
    source: str = Field(default="", max_length=2000)
    source_crs: str | None = Field(default=None, max_length=200)
    imported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    imported_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    revision: int = Field(default=0, description="Changes on every write; tiles' ETags derive from it.")
    tile_key: str | None = Field(default=None, max_length=16,
                                 description="Set by the database on every new revision (migration 0013): "
                                             "cached tiles and tile URLs carry it.")
    feature_count: int = 0
    min_lon: float | None = None
    min_lat: float | None = None
    max_lon: float | None = None
    max_lat: float | None = None
    field_map: dict[str, str] | None = Field(default=None, sa_type=JSONType)
    band_scheme: str | None = Field(default=None, max_length=20)
    report: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


class _Feature(SQLModel):
    id: int | None = Field(default=None, primary_key=True)
    source_id: str | None = Field(default=None, max_length=120, description="The feature's id in its source.")
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class _InAreas(_Feature):
    """A feature whose district and census tract are found at import."""

    district_id: int | None = Field(default=None, foreign_key="district.id", index=True, ondelete="SET NULL")
    tract_id: int | None = Field(default=None, foreign_key="census_tract.id", index=True, ondelete="SET NULL")


class _Asset(_InAreas):
    """A feature that proposals cover."""


class PavementSegment(_Asset, table=True):
    __tablename__ = "pavement_segment"

    street_name: str | None = Field(default=None, max_length=200, index=True)
    from_street: str | None = Field(default=None, max_length=200)
    to_street: str | None = Field(default=None, max_length=200)
    functional_class: str = Field(default="local", max_length=40, description="arterial, collector, local")
    width_m: float | None = None
    lanes: int | None = None
    length_m: float = Field(description="Geodesic length (WGS84 ellipsoid).")
    area_m2: float | None = Field(default=None, description="length × width, when the width is known.")
    pci: float | None = Field(default=None, ge=0, le=100)
    band: str | None = Field(default=None, max_length=20, index=True)
    survey_date: date | None = None
    geom: Any = Field(sa_type=Geometry("MULTILINESTRING", srid=4326, spatial_index=True))


class SidewalkSegment(_Asset, table=True):
    __tablename__ = "sidewalk_segment"

    street_name: str | None = Field(default=None, max_length=200, index=True)
    side: str | None = Field(default=None, max_length=20)
    width_m: float | None = None
    condition: str | None = Field(default=None, max_length=20, index=True, description="excellent…poor")
    is_gap: bool = Field(default=False, description="A missing stretch of sidewalk.")
    trip_hazards: int = 0
    length_m: float
    area_m2: float | None = None
    geom: Any = Field(sa_type=Geometry("MULTILINESTRING", srid=4326, spatial_index=True))


class CurbRamp(_Asset, table=True):
    __tablename__ = "curb_ramp"

    street_name: str | None = Field(default=None, max_length=200)
    condition: str | None = Field(default=None, max_length=20, index=True)
    geom: Any = Field(sa_type=Geometry("POINT", srid=4326, spatial_index=True))


class Streetlight(_Asset, table=True):
    __tablename__ = "streetlight"

    pole_id: str | None = Field(default=None, max_length=80, index=True)
    street_name: str | None = Field(default=None, max_length=200)
    fixture: str | None = Field(default=None, max_length=80)
    lamp_type: str | None = Field(default=None, max_length=20, description="LED, HPS, MH, …")
    wattage: int | None = None
    owner: str | None = Field(default=None, max_length=20, description="city, utility, other")
    status: str = Field(default="working", max_length=20, index=True, description="working, out, reported")
    geom: Any = Field(sa_type=Geometry("POINT", srid=4326, spatial_index=True))


class District(_Feature, table=True):
    __tablename__ = "district"

    name: str = Field(max_length=200)
    name_es: str | None = Field(default=None, max_length=200,
                                description="Spanish name (imported or entered by staff); English when empty.")
    code: str | None = Field(default=None, max_length=40)
    population: int | None = None
    area_m2: float
    geom: Any = Field(sa_type=Geometry("MULTIPOLYGON", srid=4326, spatial_index=True))


class CensusTract(_Feature, table=True):
    __tablename__ = "census_tract"

    geoid: str | None = Field(default=None, max_length=20, index=True)
    name: str | None = Field(default=None, max_length=200)
    population: int | None = None
    poverty_rate: float | None = Field(default=None, ge=0, le=1, description="Share of residents in poverty.")
    area_m2: float
    geom: Any = Field(sa_type=Geometry("MULTIPOLYGON", srid=4326, spatial_index=True))


class AddressPoint(_InAreas, table=True):
    """A street address at its door or building: what residents type to find their place."""

    __tablename__ = "address_point"

    full_address: str = Field(max_length=300, description="As written, e.g. 12 Main St Unit 3.")
    house_number: str | None = Field(default=None, max_length=40, description="With its prefix or suffix: 12A, 12-14.")
    street_name: str | None = Field(default=None, max_length=200, index=True)
    unit: str | None = Field(default=None, max_length=60)
    zip_code: str | None = Field(default=None, max_length=20)
    search_key: str = Field(sa_type=SEARCH_KEY_TYPE, index=True, sa_column_kwargs={"info": {"internal": True}},
                            description="full_address normalized for prefix search (app.layers.addresses).")
    geom: Any = Field(sa_type=Geometry("POINT", srid=4326, spatial_index=True))


FEATURE_TABLES: dict[LayerKind, type[_Feature]] = {
    LayerKind.pavement: PavementSegment,
    LayerKind.sidewalk: SidewalkSegment,
    LayerKind.ramp: CurbRamp,
    LayerKind.streetlight: Streetlight,
    LayerKind.district: District,
    LayerKind.tract: CensusTract,
    LayerKind.address: AddressPoint,
}


def public_columns(table: Any) -> list[Any]:
    """A feature table's columns that exports and /ogc publish as properties: not the geometry, the
    raw attributes (published separately, as src_ columns) or internal columns such as search keys."""
    return [c for c in table.columns if c.name not in ("geom", "attributes") and not c.info.get("internal")]
