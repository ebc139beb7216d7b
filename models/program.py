"""The referendum program: revenue, categories ("buckets"), tiers, district minimum shares, phases.

Money is integer cents (BIGINT: a $144.5M program is 14,450,000,000 cents); shares are integer
basis points (10,000 = 100 %). There is one program per installation.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

BPS_WHOLE = 10_000
"""Basis points in 100 %."""


class PhaseKey(StrEnum):
    """The program's phases, in order."""

    drafting = "drafting"
    accepting_proposals = "accepting_proposals"
    staff_review = "staff_review"
    whittling = "whittling"
    published = "published"
    vote = "vote"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Program(SQLModel, table=True):
    __tablename__ = "program"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    expected_revenue_cents: int = Field(default=0, ge=0, sa_column=Column(BigInteger, nullable=False))
    collection_years: int = Field(default=5, ge=1, le=50)
    program_management_bps: int = Field(default=0, ge=0, le=BPS_WHOLE,
                                        description="Share kept for program management, e.g. 300 = 3 %.")
    band_scheme: str = Field(default="astm7", max_length=20)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revision: int = Field(default=1, description="Changes on every save.")


class Category(SQLModel, table=True):
    """A "bucket" of the program, with an optional cap and floor."""

    __tablename__ = "program_category"
    __table_args__ = (UniqueConstraint("program_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=40)
    name: str = Field(max_length=200)
    name_es: str | None = Field(default=None, max_length=200, description="Spanish name; English when empty.")
    cap_cents: int | None = Field(default=None, ge=0, sa_column=Column(BigInteger, nullable=True))
    floor_cents: int | None = Field(default=None, ge=0, sa_column=Column(BigInteger, nullable=True))
    sort_order: int = 0


class Tier(SQLModel, table=True):
    """Tier 1 is funded from expected revenue; Tier 2 only if revenue exceeds the forecast."""

    __tablename__ = "program_tier"
    __table_args__ = (UniqueConstraint("program_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", ondelete="CASCADE", index=True)
    number: int = Field(ge=1)
    name: str = Field(max_length=120)
    share_bps: int = Field(ge=0, le=BPS_WHOLE)
    funded_only_if_revenue_exceeds: bool = False


class DistrictShare(SQLModel, table=True):
    """A district's minimum share of the program (matched by district code, else name)."""

    __tablename__ = "program_district_share"
    __table_args__ = (UniqueConstraint("program_id", "district"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", ondelete="CASCADE", index=True)
    district: str = Field(max_length=200, description="District code or name.")
    min_share_bps: int = Field(ge=0, le=BPS_WHOLE)


class Phase(SQLModel, table=True):
    """A dated phase; days are inclusive at both ends."""

    __tablename__ = "program_phase"
    __table_args__ = (UniqueConstraint("program_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=30, description="A PhaseKey value.")
    starts_on: date
    ends_on: date


class CategoryPublic(SQLModel):
    key: str
    name: str
    name_es: str | None = None
    cap_cents: int | None
    floor_cents: int | None


class TierPublic(SQLModel):
    number: int
    name: str
    share_bps: int
    amount_cents: int = Field(description="The tier's share of the budget.")
    funded_only_if_revenue_exceeds: bool


class DistrictSharePublic(SQLModel):
    district: str
    min_share_bps: int


class PhasePublic(SQLModel):
    key: PhaseKey
    starts_on: date
    ends_on: date


class ProgramPublic(SQLModel):
    """The program as the API shows it. Money in integer cents, shares in basis points."""

    name: str
    expected_revenue_cents: int
    program_management_bps: int
    budget_cents: int = Field(description="Expected revenue less the program-management share.")
    collection_years: int
    band_scheme: str
    revision: int
    current_phase: PhaseKey | None
    accepting_proposals: bool
    categories: list[CategoryPublic]
    tiers: list[TierPublic]
    district_shares: list[DistrictSharePublic]
    phases: list[PhasePublic]
