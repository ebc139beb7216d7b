"""Each proposal's edit history: a JSON snapshot per save, and what changed between saves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.i18n import N_
from app.proposals.selection import AssetKey, geometry_geojson
from models.accounts import User
from models.base import saved_id
from models.proposals import Proposal, ProposalRevision

FIELD_LABELS = {  # translated where they are shown (templates/proposals/_history.html)
    "title": N_("title"), "description": N_("description"), "category_key": N_("category"),
    "scheduled_year": N_("year"), "geometry": N_("drawn location"), "assets": N_("selected assets"),
    "estimate_total_cents": N_("estimate"), "override_cents": N_("override"), "override_reason": N_("override reason"),
    "alternate_of_id": N_("alternate of"), "state": N_("state"),
}
CREATED, SOMEONE = N_("created"), N_("someone")


def snapshot(proposal: Proposal, keys: list[AssetKey], geometry: Any = None) -> dict[str, Any]:
    """The proposal as the group wrote it, JSON-safe."""
    return {
        "version": proposal.version,
        "title": proposal.title,
        "description": proposal.description,
        "category_key": proposal.category_key,
        "scheduled_year": proposal.scheduled_year,
        "geometry": geometry_geojson(geometry if geometry is not None else proposal.geom),
        "assets": [str(k) for k in keys],
        "district_id": proposal.district_id,
        "alternate_of_id": proposal.alternate_of_id,
        "estimate": proposal.estimate,
        "estimate_total_cents": proposal.estimate_total_cents,
        "estimate_low_cents": proposal.estimate_low_cents,
        "estimate_high_cents": proposal.estimate_high_cents,
        "override_cents": proposal.override_cents,
        "override_reason": proposal.override_reason,
        "state": proposal.state,
    }


def record(*, session: Session, proposal: Proposal, keys: list[AssetKey], actor: User | None,
           geometry: Any = None) -> ProposalRevision:
    """Add a revision to the caller's unit of work."""
    revision = ProposalRevision(proposal_id=saved_id(proposal.id), version=proposal.version,
                                actor_id=actor.id if actor else None, snapshot=snapshot(proposal, keys, geometry))
    session.add(revision)
    return revision


@dataclass(frozen=True)
class RevisionView:
    version: int
    at: datetime
    actor: str
    changed: list[str]
    snapshot: dict[str, Any]


def revisions(*, session: Session, proposal_id: int) -> list[RevisionView]:
    """Newest first, each with the fields it changed from the one before."""
    query = (select(ProposalRevision, User.display_name).outerjoin(User, col(User.id) == ProposalRevision.actor_id)
             .where(ProposalRevision.proposal_id == proposal_id).order_by(col(ProposalRevision.version)))
    views: list[RevisionView] = []
    previous: dict[str, Any] | None = None
    for revision, name in session.exec(query):
        data = revision.snapshot or {}
        changed = [CREATED] if previous is None else [
            label for key, label in FIELD_LABELS.items() if data.get(key) != previous.get(key)]
        views.append(RevisionView(revision.version, revision.at, name or SOMEONE, changed, data))
        previous = data
    return list(reversed(views))
