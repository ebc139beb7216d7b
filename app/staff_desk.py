"""The staff landing page: what needs me now.

Waiting reviews (submitted, not yet picked up), reviews assigned to me, groups' replies to a
request for information, proposals that lost assets in an import, recent imports, and the
program's phase with its next deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.i18n import N_
from app.phases import Step, timeline
from models.accounts import User
from models.base import utcnow
from models.layers import Layer
from models.proposals import Proposal, ProposalAsset, ProposalState, ProposalTransition
from models.triage import TriageReview

S = ProposalState
SHOWN = 8
RECENT_IMPORTS = timedelta(days=14)
_OPEN = (S.submitted, S.under_review, S.needs_info, S.feasible, S.shortlisted, S.on_ballot)


@dataclass(frozen=True)
class Item:
    proposal_id: int
    title: str
    state: str
    since: datetime | None
    note: str = ""  # fixed text from the catalogue; the page translates it
    missing_assets: int = 0


@dataclass
class Queue:
    title: str  # title and empty are fixed text from the catalogue; the page translates them
    empty: str
    count: int = 0
    items: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class ImportLine:
    title: str
    at: datetime
    features: int
    revision: int


@dataclass(frozen=True)
class Desk:
    queues: list[Queue]
    imports: list[ImportLine]
    now: Step | None
    upcoming: Step | None
    days_left: int | None


def desk(*, session: Session, viewer: User, today: date | None = None) -> Desk:
    today = today or date.today()
    steps = timeline(session=session, today=today)
    now = next((s for s in steps if s.when == "now"), None)
    upcoming = next((s for s in steps if s.when == "next" and s.starts_on), None)
    days_left = (now.ends_on - today).days if now and now.ends_on else None
    return Desk([_waiting(session), _mine(session, viewer), _replies(session), _lost_assets(session)],
                _imports(session), now, upcoming, days_left)


def _queue(title: str, empty: str, rows: list[Item]) -> Queue:
    return Queue(title, empty, len(rows), rows[:SHOWN])


def _waiting(session: Session) -> Queue:
    rows = session.exec(select(Proposal).where(Proposal.state == S.submitted.value)
                        .order_by(col(Proposal.submitted_at), col(Proposal.id)))
    return _queue(N_("Submitted, waiting for a reviewer"), N_("No submitted proposal is waiting."),
                  [Item(p.id or 0, p.title, p.state, p.submitted_at) for p in rows])


def _mine(session: Session, viewer: User) -> Queue:
    rows = session.exec(select(Proposal).join(TriageReview, col(TriageReview.proposal_id) == Proposal.id)
                        .where(TriageReview.reviewer_id == viewer.id,
                               col(Proposal.state).in_([S.submitted.value, S.under_review.value]))
                        .order_by(col(Proposal.updated_at)))
    return _queue(N_("Assigned to me"), N_("Nothing is assigned to you."),
                  [Item(p.id or 0, p.title, p.state, p.updated_at) for p in rows])


def _replies(session: Session) -> Queue:
    """Proposals a group resubmitted after staff asked for more information, not decided since."""
    latest = (select(ProposalTransition.proposal_id, func.max(ProposalTransition.id).label("last"))
              .group_by(col(ProposalTransition.proposal_id)).subquery())
    rows = session.exec(select(Proposal, ProposalTransition.at)
                        .join(latest, latest.c.proposal_id == Proposal.id)
                        .join(ProposalTransition, col(ProposalTransition.id) == latest.c.last)
                        .where(ProposalTransition.from_state == S.needs_info.value,
                               ProposalTransition.to_state == S.under_review.value,
                               Proposal.state == S.under_review.value)
                        .order_by(col(ProposalTransition.at)))
    return _queue(N_("Groups answered your questions"), N_("No group has answered a request for information."),
                  [Item(p.id or 0, p.title, p.state, at, N_("resubmitted")) for p, at in rows])


def _lost_assets(session: Session) -> Queue:
    """Submitted-or-later proposals that an import took assets from."""
    rows = session.exec(select(Proposal, func.count(col(ProposalAsset.id)))
                        .join(ProposalAsset, col(ProposalAsset.proposal_id) == Proposal.id)
                        .where(col(ProposalAsset.missing).is_(True), col(Proposal.state).in_([s.value for s in _OPEN]))
                        .group_by(col(Proposal.id)).order_by(col(Proposal.id)))
    return _queue(N_("Lost assets in an import"), N_("No proposal has lost assets."),
                  [Item(p.id or 0, p.title, p.state, p.updated_at, missing_assets=missing) for p, missing in rows])


def _imports(session: Session) -> list[ImportLine]:
    since = utcnow() - RECENT_IMPORTS
    rows = session.exec(select(Layer).where(col(Layer.imported_at) >= since).order_by(col(Layer.imported_at).desc()))
    return [ImportLine(layer.title, layer.imported_at, layer.feature_count, layer.revision)  # type: ignore[arg-type]
            for layer in rows]
