"""Staff triage and whittling: reviews, staff estimates, the scoring rubric, reviewers' scores,
links between overlapping proposals, scenarios and the published ballot list.

``triage_review.version`` is the review's optimistic lock (``UPDATE … WHERE version = ?``).
Published lists and their items are written once and never updated.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, utcnow


class TriageReview(SQLModel, table=True):
    """Staff's working notes on one proposal. Internal notes are never shown outside staff."""

    __tablename__ = "triage_review"

    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True, ondelete="CASCADE")
    reviewer_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    internal_notes: str = Field(default="", max_length=10_000)
    public_notes: str = Field(default="", max_length=4000)
    version: int = Field(default=1)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffEstimate(SQLModel, table=True):
    """Staff's revision of a group's estimate (quantities or unit costs), with the reason."""

    __tablename__ = "staff_estimate"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    total_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    reason: str = Field(max_length=4000)


class CriterionKind(StrEnum):
    condition_need = "condition_need"
    equity = "equity"
    cost_effectiveness = "cost_effectiveness"
    support = "support"
    manual = "manual"

    @property
    def computed(self) -> bool:
        return self is not CriterionKind.manual


class RubricCriterion(SQLModel, table=True):
    __tablename__ = "rubric_criterion"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=30, description="A CriterionKind value.")
    weight: int = Field(default=1, ge=0, le=100)
    scale_max: int = Field(default=5, ge=1, le=100, description="Manual scores run 0…scale_max.")
    sort_order: int = 0


class ReviewerScore(SQLModel, table=True):
    __tablename__ = "reviewer_score"
    __table_args__ = (UniqueConstraint("proposal_id", "criterion_id", "reviewer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    criterion_id: int = Field(foreign_key="rubric_criterion.id", index=True, ondelete="CASCADE")
    reviewer_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    value: int = Field(ge=0)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LinkKind(StrEnum):
    alternates = "alternates"  # at most one of them on a list
    merged_into = "merged_into"  # proposal_id was merged into other_id (and withdrawn)


class ProposalLink(SQLModel, table=True):
    __tablename__ = "proposal_link"
    __table_args__ = (UniqueConstraint("proposal_id", "other_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    other_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Scenario(SQLModel, table=True):
    """A named working list."""

    __tablename__ = "scenario"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    target_share_bps: int = Field(default=10_000, ge=1, le=100_000)
    respect_cash_flow: bool = Field(default=False, description="The optimizer keeps spending to date within "
                                    "revenue to date plus the borrowing limit.")
    borrowing_limit_cents: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    version: int = Field(default=1)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScenarioItem(SQLModel, table=True):
    """A proposal on the scenario's list (tier set) and/or locked in or out of it."""

    __tablename__ = "scenario_item"
    __table_args__ = (UniqueConstraint("scenario_id", "proposal_id"),)

    id: int | None = Field(default=None, primary_key=True)
    scenario_id: int = Field(foreign_key="scenario.id", index=True, ondelete="CASCADE")
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    tier: int | None = Field(default=None, description="The tier it is placed in; None: not on the list.")
    lock: str | None = Field(default=None, max_length=20, description="must_include | must_exclude")
    year: int | None = Field(default=None, description="The year staff scheduled it in (cash flow); fixed.")
    planned_year: int | None = Field(default=None, description="The year the optimizer last scheduled it in.")


class PublishedList(SQLModel, table=True):
    """The frozen ballot list. ``export`` is the canonical JSON text whose SHA-256 is ``content_hash``."""

    __tablename__ = "published_list"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True)
    scenario_id: int | None = Field(default=None, foreign_key="scenario.id", ondelete="SET NULL")
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    content_hash: str = Field(max_length=64)
    export: str = Field(description="Canonical JSON (sorted keys, no whitespace, integer cents).")
    total_cents: int = Field(sa_column=Column(BigInteger, nullable=False))


class PublishedItem(SQLModel, table=True):
    __tablename__ = "published_item"
    __table_args__ = (UniqueConstraint("published_list_id", "proposal_id"),)

    id: int | None = Field(default=None, primary_key=True)
    published_list_id: int = Field(foreign_key="published_list.id", index=True, ondelete="CASCADE")
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE")
    title: str = Field(max_length=200)
    category_key: str | None = Field(default=None, max_length=40)
    district: str | None = Field(default=None, max_length=200)
    tier: int
    cost_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    score: float = 0.0
    snapshot: dict[str, Any] | None = Field(default=None, sa_type=JSONType,
                                            description="The item as published, with its assets; never updated.")
