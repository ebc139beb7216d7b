"""Residents' participation: supporting a proposal (once per person, enforced by the database)
and commenting; staff hide a comment with a reason the public sees, and the hiding is audited.

Triage reads ``support_count`` / ``support_counts`` for its "Resident support" criterion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app import audit
from models.accounts import Role, User
from models.base import utcnow
from models.participation import ProposalComment, ProposalSupport
from models.proposals import Proposal, ProposalState
from models.triage import PublishedList

COMMENT_LIMIT = 4000
REASON_LIMIT = 1000
OPEN_STATES = tuple(s.value for s in ProposalState if s is not ProposalState.draft)


class ParticipationError(ValueError):
    """Something the person can fix; shown as is."""


class CommentNotFound(LookupError):
    pass


def support_count(*, session: Session, proposal_id: int) -> int:
    return int(session.exec(select(func.count()).where(ProposalSupport.proposal_id == proposal_id)).one())


def support_counts(*, session: Session, proposal_ids: list[int]) -> dict[int, int]:
    """Supports per proposal (every id given is in the answer, 0 when none)."""
    counts = dict.fromkeys(proposal_ids, 0)
    if proposal_ids:
        query = (select(ProposalSupport.proposal_id, func.count())
                 .where(col(ProposalSupport.proposal_id).in_(proposal_ids)).group_by(col(ProposalSupport.proposal_id)))
        for proposal_id, count in session.exec(query):
            counts[proposal_id] = int(count)
    return counts


def support_count_column() -> Any:
    """A correlated count of supports, for listing and sorting proposals by support."""
    return (select(func.count()).where(ProposalSupport.proposal_id == Proposal.id)
            .correlate(Proposal).scalar_subquery())


def has_supported(*, session: Session, proposal_id: int, user: User | None) -> bool:
    if user is None:
        return False
    return session.exec(select(ProposalSupport.id).where(ProposalSupport.proposal_id == proposal_id,
                                                         ProposalSupport.user_id == user.id)).first() is not None


def _open_proposal(session: Session, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.state not in OPEN_STATES:
        raise LookupError("There is no such proposal.")
    return proposal


class SupportsClosed(ParticipationError):
    """Supports closed when the ballot list was published: the list no longer changes with them."""


def supports_closed_at(*, session: Session) -> datetime | None:
    """When supports closed: the first publication of the ballot list (None while they are open)."""
    first = session.exec(select(PublishedList).order_by(col(PublishedList.version)).limit(1)).first()
    return first.published_at if first else None


def ensure_supports_open(*, session: Session) -> None:
    """SupportsClosed once the ballot list is published (checked before anything else is)."""
    if supports_closed_at(session=session) is not None:
        raise SupportsClosed("Supports closed when the ballot list was published.")


def support(*, session: Session, proposal_id: int, user: User) -> bool:
    """Support the proposal; True if this added a support, False if the person already had.
    The unique constraint decides, so two clicks at once still count once. Refused (SupportsClosed)
    once the ballot list is published."""
    _open_proposal(session, proposal_id)
    ensure_supports_open(session=session)
    if has_supported(session=session, proposal_id=proposal_id, user=user):
        return False
    try:
        with session.begin_nested():
            session.add(ProposalSupport(proposal_id=proposal_id, user_id=user.id or 0))
    except IntegrityError:  # a second click raced the first: the savepoint is rolled back, nothing written
        return False
    session.commit()
    return True


def withdraw_support(*, session: Session, proposal_id: int, user: User) -> None:
    ensure_supports_open(session=session)
    row = session.exec(select(ProposalSupport).where(ProposalSupport.proposal_id == proposal_id,
                                                     ProposalSupport.user_id == user.id)).first()
    if row is not None:
        session.delete(row)
        session.commit()


def add_comment(*, session: Session, proposal_id: int, user: User, body: str) -> ProposalComment:
    _open_proposal(session, proposal_id)
    text = body.strip()
    if not text:
        raise ParticipationError("Write a comment first.")
    if len(text) > COMMENT_LIMIT:
        raise ParticipationError("Keep comments under 4,000 characters.")
    comment = ProposalComment(proposal_id=proposal_id, user_id=user.id, body=text)
    session.add(comment)
    session.commit()
    return comment


def hide_comment(*, session: Session, comment_id: int, actor: User, reason: str) -> ProposalComment:
    """Staff hide a comment; the reason is shown in its place. One unit of work with its audit event."""
    if not Role(actor.role).is_staff:
        raise ParticipationError("Only staff can hide comments.")
    comment = session.get(ProposalComment, comment_id)
    if comment is None:
        raise CommentNotFound()
    text = reason.strip()
    if not text:
        raise ParticipationError("Give the reason the public will see.")
    if len(text) > REASON_LIMIT:
        raise ParticipationError("Keep the reason under 1,000 characters.")
    before = {"hidden_reason": comment.hidden_reason}
    comment.hidden_at, comment.hidden_by_id, comment.hidden_reason = utcnow(), actor.id, text
    session.add(comment)
    audit.record(session=session, actor=actor, action="comment.hide", object_type="proposal_comment",
                 object_id=comment.id, before=before, after={"hidden_reason": text, "proposal_id": comment.proposal_id})
    session.commit()
    return comment


@dataclass(frozen=True)
class CommentView:
    id: int
    author: str
    at: datetime
    body: str | None  # None when hidden
    hidden_reason: str | None


def comments(*, session: Session, proposal_id: int) -> list[CommentView]:
    """Oldest first; a hidden comment's text is never returned, only the staff's reason."""
    query = (select(ProposalComment, User.display_name).outerjoin(User, col(User.id) == ProposalComment.user_id)
             .where(ProposalComment.proposal_id == proposal_id).order_by(col(ProposalComment.id)))
    return [CommentView(c.id or 0, name or "A resident", c.created_at,
                        None if c.hidden_at else c.body, c.hidden_reason if c.hidden_at else None)
            for c, name in session.exec(query)]
