"""Housekeeping: rows that have served their purpose are deleted.

Run at most every ``mail.housekeeping_every_s`` by each server's mail sender thread (``app.mail_sender``)
and by ``groundwork housekeeping``. Each kind is counted first and deleted only when there is something
to delete, so an idle run only reads. What goes:

- pending registrations whose link has expired (they hold a password hash of someone who never came back);
- password reset links used or expired;
- sign-in attempts older than ``security.login_attempts_kept_days`` (and never newer than the throttling
  window needs);
- server-side sessions that ended: signed out, or past their idle or absolute time-out;
- registration and reset mail requests older than the throttling window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_
from sqlmodel import Session, col, select

from app.db import writing
from app.settings import Settings
from models.accounts import LoginAttempt, MailRequest, PasswordReset, PendingRegistration, UserSession
from models.base import utcnow


@dataclass(frozen=True)
class Tidied:
    pending_registrations: int
    password_resets: int
    login_attempts: int
    sessions: int
    mail_requests: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def tidy(*, session: Session, settings: Settings) -> Tidied:
    """Delete what has expired; one unit of work. Returns how many rows of each kind went."""
    now, limits = utcnow(), settings.security
    keep_attempts = max(timedelta(days=limits.login_attempts_kept_days), timedelta(seconds=limits.login_window_s))
    expired: dict[str, tuple[Any, ColumnElement[bool]]] = {
        "pending_registrations": (PendingRegistration, col(PendingRegistration.expires_at) < now),
        "password_resets": (PasswordReset, or_(col(PasswordReset.used_at).is_not(None),
                                               col(PasswordReset.expires_at) < now)),
        "login_attempts": (LoginAttempt, col(LoginAttempt.at) < now - keep_attempts),
        "sessions": (UserSession, or_(col(UserSession.ended_at).is_not(None), col(UserSession.expires_at) <= now,
                                      col(UserSession.last_seen_at) <= now - timedelta(seconds=limits.session_idle_s))),
        "mail_requests": (MailRequest, col(MailRequest.at) < now - timedelta(seconds=limits.account_mail_window_s)),
    }
    found = {kind: int(session.exec(select(func.count()).select_from(table).where(where)).one())
             for kind, (table, where) in expired.items()}
    session.rollback()  # the read ends; the deletes are a unit of work of their own (app.db.writing)
    removed = {kind: 0 for kind in expired}
    if any(found.values()):
        with writing(session):
            for kind, (table, where) in expired.items():
                if found[kind]:
                    removed[kind] = int(session.exec(delete(table).where(where)).rowcount or 0)
    return Tidied(**removed)
