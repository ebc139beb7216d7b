"""The versioned unit-cost catalog.

A ``CatalogVersion`` holds the markups (design/engineering, contingency, annual escalation
from ``base_year``) and its ``Treatment`` rows. Versions are immutable once written: editing
the catalog writes a new version (copy-on-write) and makes it current, so an estimate that
names its version can always be re-read and reproduced.

How a treatment applies to an asset (see docs/COSTS.md):

- pavement: ``min_pci <= PCI < max_pci`` (either bound may be open) and ``functional_class``
  (empty = any class); unit ``sq_yd``.
- sidewalk: ``conditions`` lists the conditions it treats; ``gap`` means missing sidewalk
  (priced per ``linear_ft``), others are repairs (per ``sq_ft``).
- ramp: ``conditions`` lists ramp conditions (e.g. ``poor``, ``missing``); unit ``each``.
- streetlight: ``conditions`` lists statuses (``out``, ``reported``) or ``non_led`` (a
  working light whose lamp is not LED, i.e. an LED retrofit); unit ``each``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, utcnow


class Unit(StrEnum):
    sq_yd = "sq_yd"
    linear_ft = "linear_ft"
    sq_ft = "sq_ft"
    each = "each"

    @property
    def label(self) -> str:
        return {"sq_yd": "sq yd", "linear_ft": "linear ft", "sq_ft": "sq ft", "each": "each"}[self.value]


class CatalogVersion(SQLModel, table=True):
    __tablename__ = "cost_catalog_version"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True, description="1, 2, 3 … in order of creation.")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    note: str = Field(default="", max_length=2000)
    is_current: bool = Field(default=False, index=True)
    design_engineering_bps: int = Field(default=0, ge=0, le=10_000)
    contingency_bps: int = Field(default=0, ge=0, le=10_000)
    escalation_bps: int = Field(default=0, ge=0, le=5_000, description="Per year, compounded.")
    base_year: int = Field(ge=1900, le=2200, description="The year the unit costs are in.")
    source: str = Field(default="", max_length=4000, description="Where the unit costs come from.")
    lane_width_mm: int = Field(default=3658, ge=1000, le=10_000,
                               description="Width of one lane, for segments with a lane count but no width.")
    class_widths_mm: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType,
                                            description="Default pavement width by functional class.")


class Treatment(SQLModel, table=True):
    __tablename__ = "cost_treatment"
    __table_args__ = (UniqueConstraint("catalog_version_id", "layer_kind", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    catalog_version_id: int = Field(foreign_key="cost_catalog_version.id", ondelete="CASCADE", index=True)
    layer_kind: str = Field(max_length=20, description="pavement, sidewalk, ramp, streetlight")
    key: str = Field(max_length=60)
    name: str = Field(max_length=200)
    name_es: str | None = Field(default=None, max_length=200, description="Spanish name; English when empty.")
    unit: str = Field(max_length=20, description="A Unit value.")
    unit_cost_cents: int = Field(ge=0)
    min_pci: float | None = Field(default=None, ge=0, le=100, description="Inclusive lower PCI bound.")
    max_pci: float | None = Field(default=None, ge=0, le=101, description="Exclusive upper PCI bound.")
    functional_class: str | None = Field(default=None, max_length=40, description="Empty = any class.")
    conditions: str | None = Field(default=None, max_length=200, description="Comma-separated.")
    low_bps: int = Field(default=-1500, ge=-10_000, le=0, description="Low end of the range, e.g. -1500 = -15 %.")
    high_bps: int = Field(default=2500, ge=0, le=100_000, description="High end, e.g. 2500 = +25 %.")
    sort_order: int = 0


class TreatmentPublic(SQLModel):
    layer_kind: str
    key: str
    name: str
    name_es: str | None = None
    unit: Unit
    unit_cost_cents: int
    min_pci: float | None
    max_pci: float | None
    functional_class: str | None
    conditions: list[str]
    low_bps: int
    high_bps: int


class CatalogVersionSummary(SQLModel):
    id: int
    number: int
    created_at: datetime
    note: str
    is_current: bool


class CatalogPublic(CatalogVersionSummary):
    """A catalog version as the API shows it. Unit costs in cents, markups in basis points."""

    base_year: int
    design_engineering_bps: int
    contingency_bps: int
    escalation_bps: int
    source: str
    lane_width_mm: int
    class_widths_mm: dict[str, int]
    treatments: list[TreatmentPublic]


class AssetRefIn(SQLModel):
    layer: str = Field(description="pavement, sidewalk, ramp or streetlight")
    id: int = Field(ge=1, le=2**31 - 1)


class OverrideIn(SQLModel):
    amount_cents: int = Field(ge=-(10**15), le=10**15)  # the sign is the estimate's to explain
    reason: str = Field(max_length=2000)


class EstimateRequest(SQLModel):
    assets: list[AssetRefIn] = Field(max_length=20_000)
    scheduled_year: int = Field(ge=1900, le=2200)
    catalog_version: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                        description="A version number; default the current one.")
    override: OverrideIn | None = None


class EstimateLinePublic(SQLModel):
    layer: str
    treatment_key: str
    treatment_name: str
    unit: Unit
    unit_cost_cents: int
    asset_ids: list[int]
    quantity: str = Field(description="Decimal with two places, in the unit.")
    subtotal_cents: int
    low_cents: int
    high_cents: int


class AssetNote(SQLModel):
    layer: str
    asset_id: int
    text: str


class EstimatePublic(SQLModel):
    """An estimate's full breakdown. ``final_cents`` is the override if given, else ``total_cents``."""

    catalog_version_id: int | None
    catalog_version_number: int | None
    base_year: int
    scheduled_year: int
    lines: list[EstimateLinePublic]
    construction_cents: int
    design_engineering_bps: int
    design_engineering_cents: int
    contingency_bps: int
    contingency_cents: int
    escalation_bps: int
    escalation_cents: int
    total_cents: int
    low_cents: int
    high_cents: int
    override_cents: int | None
    override_reason: str | None
    final_cents: int
    assumptions: list[AssetNote]
    unpriced: list[AssetNote]
