"""The audit log of staff decisions and account changes."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from models.accounts import User
from models.audit import AuditEvent


def record(
    *,
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's unit of work (committed with it, or not at all)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=before,
        after=after,
        ip=ip,
    )
    session.add(event)
    return event


def recent(*, session: Session, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)))
