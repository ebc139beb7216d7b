"""Accounts: registration, sign-in with a database-backed rate limit, roles, password reset.

Every function here is a unit of work: it validates, writes, and commits, or raises
``AccountError`` having written nothing.
"""

from __future__ import annotations

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from app import audit, mail
from app.i18n import gettext as _
from app.security import (
    burn_password_check,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from app.settings import Settings
from models.accounts import LoginAttempt, PasswordReset, Role, User
from models.base import utcnow


class AccountError(ValueError):
    """A problem the person can fix; the message is shown to them as is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TooManySignIns(AccountError):
    """Sign-in is locked for a while after repeated failures (HTTP 429)."""


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise AccountError(_("That email address is not valid: {reason}").format(reason=error),
                           field="email") from error


def check_password_rules(password: str, settings: Settings) -> None:
    minimum = settings.security.min_password_length
    if len(password) < minimum:
        raise AccountError(_("Use a password of at least {minimum} characters.").format(minimum=minimum),
                           field="password")
    if len(password) > 1024:
        raise AccountError(_("That password is too long (1024 characters at most)."), field="password")


def find_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def create_user(
    *,
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    display_name: str = "",
    role: Role = Role.resident,
    actor: User | None = None,
) -> User:
    address = normalize_email(email)
    check_password_rules(password, settings)
    name = display_name.strip() or address.split("@")[0]
    if len(name) > 120:
        raise AccountError(_("Keep the display name under 120 characters."), field="display_name")
    if find_by_email(session=session, email=address):
        raise AccountError(_("An account with that email already exists. Sign in or reset the password."),
                           field="email")
    user = User(email=address, display_name=name, password_hash=hash_password(password), role=role)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:  # a concurrent registration of the same address
        session.rollback()
        raise AccountError(_("An account with that email already exists."), field="email") from error
    audit.record(session=session, actor=actor or user, action="user.create", object_type="user",
                 object_id=user.id, after={"email": address, "role": role.value})
    session.commit()
    return user


def set_role(*, session: Session, user: User, role: Role, actor: User | None) -> User:
    before = user.role
    user.role = role
    session.add(user)
    audit.record(session=session, actor=actor, action="user.role", object_type="user", object_id=user.id,
                 before={"role": str(before)}, after={"role": role.value})
    session.commit()
    return user


def set_locale(*, session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.add(user)
    session.commit()


def _recent_failures(session: Session, settings: Settings, column: object, value: str) -> int:
    since = utcnow() - timedelta(seconds=settings.security.login_window_s)
    query = select(func.count()).select_from(LoginAttempt).where(column == value, LoginAttempt.at >= since)
    return int(session.exec(query).one())


def authenticate(*, session: Session, settings: Settings, email: str, password: str, ip: str) -> User:
    """The user for these credentials, or AccountError. Failures count towards a lock-out."""
    address = email.strip().lower()
    limits = settings.security
    if (_recent_failures(session, settings, LoginAttempt.email, address) >= limits.login_failures_per_account
            or _recent_failures(session, settings, LoginAttempt.ip, ip) >= limits.login_failures_per_ip):
        minutes = limits.login_window_s // 60
        raise TooManySignIns(_("Too many failed sign-ins. Wait {minutes} minutes or reset your password.").format(
            minutes=minutes))
    user = find_by_email(session=session, email=address)
    if user is None:
        burn_password_check(password)
    if user is None or not verify_password(password, user.password_hash) or not user.is_active:
        session.add(LoginAttempt(email=address[:320], ip=ip[:64]))
        session.commit()
        raise AccountError(_("That email and password do not match an account."))
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == address))
    session.commit()
    return user


def request_password_reset(*, session: Session, settings: Settings, email: str) -> None:
    """Mail a reset link if the account exists. Says nothing either way (no account discovery)."""
    user = find_by_email(session=session, email=email)
    if user is None or not user.is_active:
        return
    token = new_token()
    expires = utcnow() + timedelta(seconds=settings.security.password_reset_ttl_s)
    session.add(PasswordReset(user_id=user.id, token_hash=token_digest(token), expires_at=expires))
    link = f"{settings.base_url.rstrip('/')}/password/reset/{token}"
    minutes = settings.security.password_reset_ttl_s // 60
    mail.send(
        session=session,
        settings=settings,
        recipient=user.email,
        subject=_("Reset your {site} password").format(site=settings.site_name),
        body=_("Hello {name},\n\nSomeone (we hope you) asked to reset your password.\n"
               "Open this link within {minutes} minutes to choose a new one:\n\n{link}\n\n"
               "If it was not you, ignore this message; your password stays the same.\n").format(
            name=user.display_name, minutes=minutes, link=link),
    )
    session.commit()


def _valid_reset(session: Session, token: str) -> PasswordReset:
    reset = session.exec(select(PasswordReset).where(PasswordReset.token_hash == token_digest(token))).first()
    if reset is None or reset.used_at is not None:
        raise AccountError(_("This reset link is not valid or was already used. Ask for a new one."))
    if reset.expires_at < utcnow():
        raise AccountError(_("This reset link has expired. Ask for a new one."))
    return reset


def check_reset_token(*, session: Session, token: str) -> None:
    _valid_reset(session, token)


def reset_password(*, session: Session, settings: Settings, token: str, password: str) -> User:
    reset = _valid_reset(session, token)
    check_password_rules(password, settings)
    user = session.get(User, reset.user_id)
    if user is None:
        raise AccountError(_("This reset link is not valid. Ask for a new one."))
    user.password_hash = hash_password(password)
    user.session_version += 1  # every existing session of this account ends
    reset.used_at = utcnow()
    session.add_all([user, reset])
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == user.email))
    audit.record(session=session, actor=user, action="user.password_reset", object_type="user", object_id=user.id)
    session.commit()
    return user
