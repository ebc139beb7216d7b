"""After the vote: the referendum's result and the delivery of each ballot project.

Delivery lives beside the published list, never in it: ``published_list`` and ``published_item``
are never written here. A delivery project is keyed by the ballot proposal; its estimate is read
from the item as published. Money is integer cents.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, utcnow


class DeliveryPhase(StrEnum):
    """The default phases, in order. Staff may rename, reorder and add phases
    (``DeliveryPhaseDefinition``); *complete* is always the last one and keeps its meaning."""

    design = "design"
    procurement = "procurement"
    construction = "construction"
    complete = "complete"


class DeliveryPhaseDefinition(SQLModel, table=True):
    """A delivery phase as staff configured it: its key (what projects, dates and updates store),
    its names, its place and the progress a project without milestones shows in it."""

    __tablename__ = "delivery_phase"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=80)
    name_es: str = Field(default="", max_length=80)
    sort_order: int = 0
    progress: int = Field(default=0, ge=0, le=100)


class VoteResult(SQLModel, table=True):
    """The referendum's result, as staff recorded it (one row; corrections are audited)."""

    __tablename__ = "vote_result"

    id: int | None = Field(default=None, primary_key=True)
    held_on: date
    passed: bool
    yes_votes: int = Field(ge=0)
    no_votes: int = Field(ge=0)
    source_url: str = Field(default="", max_length=500, description="Where the official count is published.")
    list_version: int = Field(description="The ballot list version that was on the ballot.")
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryProject(SQLModel, table=True):
    """A ballot project being delivered. ``completed`` holds each treated asset's condition before
    and after, once staff confirmed the work done (the layers were updated then)."""

    __tablename__ = "delivery_project"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", unique=True, ondelete="CASCADE")
    phase: str = Field(default=DeliveryPhase.design.value, max_length=20, index=True)
    completed_on: date | None = None
    completed: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    version: int = Field(default=1, description="Bumped on every change; the staff page's edit lock.")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryPhaseDates(SQLModel, table=True):
    __tablename__ = "delivery_phase_dates"
    __table_args__ = (UniqueConstraint("project_id", "phase"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="delivery_project.id", index=True, ondelete="CASCADE")
    phase: str = Field(max_length=20)
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None


class DeliveryMilestone(SQLModel, table=True):
    __tablename__ = "delivery_milestone"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="delivery_project.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    planned_on: date | None = None
    done_on: date | None = None


class DeliverySpending(SQLModel, table=True):
    """Money spent on a project; ``reason`` is required once the total goes past the high end of
    the published estimate's range. Contract awards are ``DeliveryAward`` rows, not spending."""

    __tablename__ = "delivery_spending"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="delivery_project.id", index=True, ondelete="CASCADE")
    spent_on: date
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    description: str = Field(max_length=300)
    reason: str = Field(default="", max_length=2000)
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryAward(SQLModel, table=True):
    """A contract awarded for a project: a commitment, not money spent (never added to spending).
    ``reason`` is required once the awards' total goes past the high end of the estimate's range.
    ``contractor`` is empty only on awards moved out of spending by migration 0019."""

    __tablename__ = "delivery_award"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="delivery_project.id", index=True, ondelete="CASCADE")
    awarded_on: date
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    contractor: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=300)
    reason: str = Field(default="", max_length=2000)
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RevenueCollection(SQLModel, table=True):
    """The program's revenue collected in one year, as staff entered it (corrections are audited)."""

    __tablename__ = "revenue_collection"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True, ge=1900, le=2200)
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    note: str = Field(default="", max_length=500)
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryUpdate(SQLModel, table=True):
    """A public note on a project's progress; followers are mailed."""

    __tablename__ = "delivery_update"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="delivery_project.id", index=True, ondelete="CASCADE")
    body: str = Field(max_length=4000)
    phase: str = Field(max_length=20)
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class DeliveryPhoto(SQLModel, table=True):
    """A photo of an update, re-encoded (metadata stripped) and stored under the photo directory."""

    __tablename__ = "delivery_photo"

    id: int | None = Field(default=None, primary_key=True)
    update_id: int = Field(foreign_key="delivery_update.id", index=True, ondelete="CASCADE")
    stored_name: str = Field(max_length=80, unique=True)
    alt_text: str = Field(max_length=300)
    width: int
    height: int
    size_bytes: int


class DeliveryFollow(SQLModel, table=True):
    __tablename__ = "delivery_follow"
    __table_args__ = (UniqueConstraint("project_id", "user_id", name="uq_delivery_follow_once"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="delivery_project.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
