"""Proposals: a group's costed project, its selected assets, its states and its edit history.

A proposal's location is drawn (line, polygon or point, WGS84) or built from condition assets
(``proposal_asset``: layer kind + asset id), or both. ``version`` is the optimistic lock: every
save is ``UPDATE … WHERE id = ? AND version = ?``. Each save also writes a ``proposal_revision``
with a JSON snapshot; each change of state writes a ``proposal_transition``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, utcnow


class ProposalState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    under_review = "under_review"
    needs_info = "needs_info"
    feasible = "feasible"
    not_feasible = "not_feasible"
    shortlisted = "shortlisted"
    on_ballot = "on_ballot"
    not_selected = "not_selected"
    withdrawn = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def group_may_edit(self) -> bool:
        """Groups edit drafts, and submitted proposals only when staff asked for more information."""
        return self in (ProposalState.draft, ProposalState.needs_info)

    @property
    def is_final(self) -> bool:
        return self in (ProposalState.not_feasible, ProposalState.on_ballot, ProposalState.not_selected,
                        ProposalState.withdrawn)


class Proposal(SQLModel, table=True):
    __tablename__ = "proposal"
    __table_args__ = (Index("uq_proposal_group_position", "group_id", "position", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="community_group.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=10_000)
    category_key: str | None = Field(default=None, max_length=40, description="A program category's key.")
    scheduled_year: int | None = Field(default=None, ge=1900, le=2200)
    geom: Any = Field(default=None, sa_type=Geometry("GEOMETRY", srid=4326, spatial_index=True, nullable=True),
                      nullable=True)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True, ondelete="SET NULL")
    state: str = Field(default=ProposalState.draft.value, max_length=20, index=True)
    version: int = Field(default=1, description="Optimistic lock: bumped on every save.")
    position: int = Field(default=0, description="Order within the group's list.")
    alternate_of_id: int | None = Field(default=None, foreign_key="proposal.id", index=True, ondelete="SET NULL",
                                        description="A cheaper alternate of that proposal; only one can be funded.")
    estimate: dict[str, Any] | None = Field(default=None, sa_type=JSONType,
                                            description="The estimate's full breakdown when last priced.")
    estimate_catalog_version_id: int | None = Field(default=None, foreign_key="cost_catalog_version.id",
                                                    ondelete="SET NULL")
    estimate_total_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    estimate_low_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    estimate_high_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    override_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    override_reason: str | None = Field(default=None, max_length=2000)
    submitted_snapshot: dict[str, Any] | None = Field(default=None, sa_type=JSONType,
                                                      description="Frozen at submission.")
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    asset_snapshot: dict[str, Any] | None = Field(
        default=None, sa_type=JSONType,
        description="The assets as submitted (app.proposals.snapshots): geometry, condition, cost inputs.")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def final_cents(self) -> int | None:
        """What the proposal costs for the budget: the override if any, else the estimate."""
        return self.override_cents if self.override_cents is not None else self.estimate_total_cents


class ProposalAsset(SQLModel, table=True):
    """An asset a proposal covers. ``source_key`` is the asset's stable identity from its source
    (the layer's ``source_id``): re-imports keep ``asset_id`` pointing at the same asset through it.
    ``missing`` is set when an import no longer has the asset; the link stays (the proposal still
    says what it covered) and comes back to life if a later import brings the asset back."""

    __tablename__ = "proposal_asset"
    __table_args__ = (UniqueConstraint("proposal_id", "layer", "asset_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    layer: str = Field(max_length=20, description="pavement, sidewalk, ramp or streetlight")
    asset_id: int = Field(index=True)
    source_key: str | None = Field(default=None, max_length=120, index=True,
                                   description="The asset's source_id when it was linked.")
    missing: bool = Field(default=False, description="The layer no longer has this asset.")


class ProposalRevision(SQLModel, table=True):
    __tablename__ = "proposal_revision"
    __table_args__ = (UniqueConstraint("proposal_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    version: int
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class ProposalTransition(SQLModel, table=True):
    """A change of state: who, when, from, to, why (internal) and the note the group sees."""

    __tablename__ = "proposal_transition"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    from_state: str = Field(max_length=20)
    to_state: str = Field(max_length=20)
    reason: str = Field(default="", max_length=4000, description="Why (staff-internal).")
    public_note: str = Field(default="", max_length=4000, description="What the group and the public see.")
