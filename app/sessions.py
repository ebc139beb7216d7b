"""Signed-in sessions, kept on the server so they can be ended.

The signed cookie holds a random token; ``user_session`` holds only its SHA-256. A session ends
when its owner signs out (everywhere that cookie is used), signs out of all devices, changes or
resets the password, or has their role changed, after ``security.session_idle_s`` without a request,
and ``security.session_max_age_s`` after sign-in whatever happens.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.db import writing
from app.security import new_token, token_digest
from app.settings import Settings
from models.accounts import User, UserSession
from models.base import saved_id, utcnow

COOKIE_KEY = "sid"
_TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most once a minute per session


def start(*, session: Session, settings: Settings, user: User, ip: str, user_agent: str) -> str:
    """A new session for ``user``; returns the token for the cookie."""
    token = new_token()
    now = utcnow()
    session.add(UserSession(user_id=saved_id(user.id), token_hash=token_digest(token), created_at=now, last_seen_at=now,
                            expires_at=now + timedelta(seconds=settings.security.session_max_age_s),
                            ip=ip[:64], user_agent=user_agent[:200]))
    session.commit()
    return token


def _live(row: UserSession | None, settings: Settings) -> bool:
    now = utcnow()
    return (row is not None and row.ended_at is None and row.expires_at > now
            and row.last_seen_at + timedelta(seconds=settings.security.session_idle_s) > now)


def user_of(*, session: Session, settings: Settings, token: str) -> User | None:
    """The signed-in user for a cookie's token, or None if that session has ended."""
    row = session.exec(select(UserSession).where(UserSession.token_hash == token_digest(token))).first()
    if row is None or not _live(row, settings):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if utcnow() - row.last_seen_at >= _TOUCH_EVERY:
        row_id = row.id
        session.commit()  # the reads end; the touch is a unit of work of its own, even on a GET (app.db.writing)
        with writing(session):
            session.execute(update(UserSession).where(col(UserSession.id) == row_id).values(last_seen_at=utcnow()))
    return user


def end(*, session: Session, token: str) -> None:
    """Sign-out: the session ends on the server, so a copy of the cookie no longer works."""
    session.execute(update(UserSession).where(col(UserSession.token_hash) == token_digest(token),
                                           col(UserSession.ended_at).is_(None)).values(ended_at=utcnow()))
    session.commit()


def end_all(*, session: Session, user_id: int, commit: bool = True) -> int:
    """End every session of the account (all devices); returns how many were live."""
    result = session.exec(update(UserSession).where(col(UserSession.user_id) == user_id,
                                                 col(UserSession.ended_at).is_(None)).values(ended_at=utcnow()))
    if commit:
        session.commit()
    return int(result.rowcount or 0)


def live_sessions(*, session: Session, settings: Settings, user_id: int) -> list[UserSession]:
    rows = session.exec(select(UserSession).where(UserSession.user_id == user_id, col(UserSession.ended_at).is_(None))
                        .order_by(col(UserSession.last_seen_at).desc()))
    return [row for row in rows if _live(row, settings)]
