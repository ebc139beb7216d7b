"""Accounts: registration by mailed link, sign-in with database-backed throttling, roles, password reset.

Every function here is a unit of work: it validates, writes, and commits, or raises
``AccountError`` having written nothing.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from app import audit, mail, sessions
from app.i18n import gettext as _
from app.security import (
    burn_password_check,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from app.settings import Settings
from models.accounts import LoginAttempt, MailRequest, PasswordReset, PendingRegistration, Role, User
from models.base import saved_id, utcnow


class AccountError(ValueError):
    """A problem the person can fix; the message is shown to them as is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TooManySignIns(AccountError):
    """This address must wait before trying again (HTTP 429 with Retry-After)."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


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


def _check_new_account(settings: Settings, email: str, password: str, display_name: str) -> tuple[str, str]:
    """The normalized address and display name, or AccountError; says nothing about existing accounts."""
    address = normalize_email(email)
    check_password_rules(password, settings)
    name = display_name.strip() or address.split("@")[0]
    if len(name) > 120:
        raise AccountError(_("Keep the display name under 120 characters."), field="display_name")
    return address, name


def _insert_user(session: Session, *, address: str, name: str, password_hash: str, role: Role,
                 actor: User | None) -> User:
    if find_by_email(session=session, email=address):
        raise AccountError(_("An account with that email already exists. Sign in or reset the password."),
                           field="email")
    user = User(email=address, display_name=name, password_hash=password_hash, role=role)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:  # a concurrent registration of the same address
        session.rollback()
        raise AccountError(_("An account with that email already exists."), field="email") from error
    audit.record(session=session, actor=actor or user, action="user.create", object_type="user",
                 object_id=user.id, after={"email": address, "role": role.value})
    return user


def create_user(
    *,
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    display_name: str = "",
    role: Role = Role.resident,
    actor: User | None = None,
    password_hash: str | None = None,
) -> User:
    """An account made by staff tools (CLI, demo): no mailed link. ``password_hash`` is ``password``'s
    hash when the caller already holds it (the demo's one public sample password, hashed once)."""
    address, name = _check_new_account(settings, email, password, display_name)
    user = _insert_user(session, address=address, name=name, password_hash=password_hash or hash_password(password),
                        role=role, actor=actor)
    session.commit()
    return user


def register(*, session: Session, settings: Settings, email: str, password: str, display_name: str = "",
             ip: str = "") -> str:
    """Registration from the public page. Answers the same whether or not the address has an account:
    a new address gets a link that makes the account; an address with an account gets a message
    telling its holder so. Mail to one address, and from one client address, is throttled
    (``may_mail``); a held-back request answers the same too. Returns the normalized address."""
    address, name = _check_new_account(settings, email, password, display_name)
    password_hash = hash_password(password)  # hashed either way, so both answers take as long
    site, base = settings.site_name, settings.base_url.rstrip("/")
    if not may_mail(session=session, settings=settings, email=address, ip=ip):
        return address
    if find_by_email(session=session, email=address):
        mail.send(session=session, settings=settings, recipient=address,
                  subject=_("Someone tried to create a {site} account with your email").format(site=site),
                  body=_("Hello,\n\nSomeone (we hope you) tried to create a {site} account with this address, "
                         "but it already has one. Sign in at {base}/signin, or choose a new password at "
                         "{base}/password/forgot.\n\nIf it was not you, ignore this message; nothing changed.\n"
                         ).format(site=site, base=base))
    else:
        token = new_token()
        hours = settings.security.registration_ttl_s // 3600
        session.add(PendingRegistration(email=address, display_name=name, password_hash=password_hash,
                                        token_hash=token_digest(token),
                                        expires_at=utcnow() + timedelta(seconds=settings.security.registration_ttl_s)))
        mail.send(session=session, settings=settings, recipient=address,
                  subject=_("Finish creating your {site} account").format(site=site),
                  body=_("Hello {name},\n\nOpen this link within {hours} hours to finish creating your {site} "
                         "account:\n\n{link}\n\nIf it was not you, ignore this message; no account is made.\n"
                         ).format(name=name, hours=hours, site=site, link=f"{base}/register/confirm/{token}"))
    session.commit()
    return address


def _valid_registration(session: Session, token: str) -> PendingRegistration:
    pending = session.exec(select(PendingRegistration)
                           .where(PendingRegistration.token_hash == token_digest(token))).first()
    if pending is None:
        raise AccountError(_("This link is not valid or was already used. Register again."))
    if pending.expires_at < utcnow():
        raise AccountError(_("This link has expired. Register again."))
    return pending


def check_registration_token(*, session: Session, token: str) -> str:
    """The address a registration link is for, or AccountError."""
    return _valid_registration(session, token).email


def confirm_registration(*, session: Session, token: str) -> User:
    """Make the account a mailed registration link stands for (once)."""
    pending = _valid_registration(session, token)
    user = _insert_user(session, address=pending.email, name=pending.display_name,
                        password_hash=pending.password_hash, role=Role.resident, actor=None)
    session.exec(delete(PendingRegistration).where(col(PendingRegistration.email) == pending.email))
    session.commit()
    return user


def set_role(*, session: Session, user: User, role: Role, actor: User | None) -> User:
    """Change the role; the account's sessions end, so it signs in again under the new role."""
    before = user.role
    user.role = role
    session.add(user)
    if before != role and user.id is not None:
        sessions.end_all(session=session, user_id=user.id, commit=False)
    audit.record(session=session, actor=actor, action="user.role", object_type="user", object_id=user.id,
                 before={"role": str(before)}, after={"role": role.value})
    session.commit()
    return user


def set_locale(*, session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.add(user)
    session.commit()


def _wait_s(count: int, latest: datetime | None, free: int, base_s: int, max_s: int, now: datetime) -> float:
    """After ``free`` events, each further one waits ``base_s`` doubled per event (at most ``max_s``)
    from the latest: the throttle of sign-in failures and of account mail."""
    if latest is None or count < free:
        return 0.0
    delay = min(base_s * 2 ** min(count - free, 30), max_s)
    return (latest + timedelta(seconds=delay) - now).total_seconds()


def _failures(session: Session, since: datetime, *conditions: Any) -> tuple[int, datetime | None]:
    query = (select(func.count(), func.max(LoginAttempt.at))
             .where(col(LoginAttempt.succeeded).is_(False), LoginAttempt.at >= since, *conditions))
    count, latest = session.exec(query).one()
    return int(count), latest


def signin_wait_s(*, session: Session, settings: Settings, email: str, ip: str) -> int:
    """Seconds this address must still wait before trying this account again (0: go ahead).

    Only failures from the same address count: per (account, address) since that pair's last
    success, and per address for any accounts. So nobody elsewhere can lock an account out, and
    the right password from an address that has not been failing always works."""
    limits = settings.security
    now = utcnow()
    since = now - timedelta(seconds=limits.login_window_s)
    last_success = session.exec(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.email == email, LoginAttempt.ip == ip, col(LoginAttempt.succeeded).is_(True))).one()
    pair_since = max(since, last_success) if last_success else since
    pair = _failures(session, pair_since, LoginAttempt.email == email, LoginAttempt.ip == ip)
    by_address = _failures(session, since, LoginAttempt.ip == ip)
    counts = ((pair, limits.login_free_failures), (by_address, limits.login_free_failures_per_ip))
    wait = max(_wait_s(*counted, free, limits.login_delay_base_s, limits.login_delay_max_s, now)
               for counted, free in counts)
    return math.ceil(wait) if wait > 0 else 0


def may_mail(*, session: Session, settings: Settings, email: str, ip: str) -> bool:
    """Whether an anonymous request (registration, password reset) may mail ``email`` now; if so it is
    recorded (``mail_request``) in the caller's unit of work. Throttled like sign-in failures per
    recipient from one client address and per client address, whether or not the address has an
    account, so holding back says nothing about accounts either. Requests from everywhere else only
    space a recipient's mail out by a few minutes (``account_mail_recipient_spacing_s``) once there
    have been many: someone elsewhere cannot hold back a person's own reset mail for longer than that.
    Held-back requests are not recorded."""
    limits, now = settings.security, utcnow()
    since = now - timedelta(seconds=limits.account_mail_window_s)
    base, longest, spacing = (limits.account_mail_delay_base_s, limits.account_mail_delay_max_s,
                              limits.account_mail_recipient_spacing_s)
    wait = 0.0
    for conditions, free, first, most in (
            ((MailRequest.email == email, MailRequest.ip == ip[:64]), limits.account_mail_free_per_address, base,
             longest),
            ((MailRequest.ip == ip[:64],), limits.account_mail_free_per_ip, base, longest),
            ((MailRequest.email == email,), limits.account_mail_free_per_recipient, spacing, spacing)):
        count, latest = session.exec(select(func.count(), func.max(MailRequest.at))
                                     .where(MailRequest.at >= since, *conditions)).one()
        wait = max(wait, _wait_s(int(count), latest, free, first, most, now))
    if wait > 0:
        return False
    session.add(MailRequest(email=email[:320], ip=ip[:64], at=now))
    return True


def _wait_message(seconds: int) -> str:
    if seconds < 120:
        return _("Too many failed sign-ins from your address. Try again in {seconds} seconds, or reset your "
                 "password.").format(seconds=seconds)
    return _("Too many failed sign-ins from your address. Try again in {minutes} minutes, or reset your "
             "password.").format(minutes=math.ceil(seconds / 60))


def authenticate(*, session: Session, settings: Settings, email: str, password: str, ip: str) -> User:
    """The user for these credentials, or AccountError. Failures slow down the address they come
    from (``TooManySignIns`` carries the seconds to wait); every attempt is kept for staff."""
    address = email.strip().lower()[:320]
    ip = ip[:64]
    wait = signin_wait_s(session=session, settings=settings, email=address, ip=ip)
    if wait:
        raise TooManySignIns(_wait_message(wait), retry_after_s=wait)
    user = find_by_email(session=session, email=address)
    if user is None:
        burn_password_check(password)
    succeeded = user is not None and verify_password(password, user.password_hash) and user.is_active
    session.add(LoginAttempt(email=address, ip=ip, succeeded=succeeded))  # old ones: app.housekeeping
    session.commit()
    if not succeeded or user is None:
        raise AccountError(_("That email and password do not match an account."))
    return user


def recent_attempts(*, session: Session, limit: int = 100) -> list[LoginAttempt]:
    """The latest sign-in attempts, newest first (the staff page)."""
    return list(session.exec(select(LoginAttempt).order_by(col(LoginAttempt.at).desc(), col(LoginAttempt.id).desc())
                             .limit(limit)))


def request_password_reset(*, session: Session, settings: Settings, email: str, ip: str = "") -> None:
    """Mail a reset link if the account exists. Says nothing either way (no account discovery), and takes
    the same path either way: the request is throttled and recorded (``may_mail``) and one transaction
    commits; the mail is only queued (``app.mail``), never sent during the request."""
    address = email.strip().lower()[:320]
    user = find_by_email(session=session, email=address)
    token = new_token()
    if not may_mail(session=session, settings=settings, email=address, ip=ip) or user is None or not user.is_active:
        session.commit()  # the request, if not held back: unknown addresses count towards the throttle too
        return
    expires = utcnow() + timedelta(seconds=settings.security.password_reset_ttl_s)
    session.add(PasswordReset(user_id=saved_id(user.id), token_hash=token_digest(token), expires_at=expires))
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


def change_password(*, session: Session, settings: Settings, user: User, current: str, new: str) -> None:
    """A signed-in person's new password; every session of the account ends (the caller starts a
    fresh one for the browser that asked)."""
    if not verify_password(current, user.password_hash):
        raise AccountError(_("That is not your current password."), field="current_password")
    check_password_rules(new, settings)
    user.password_hash = hash_password(new)
    session.add(user)
    sessions.end_all(session=session, user_id=user.id or 0, commit=False)
    audit.record(session=session, actor=user, action="user.password_change", object_type="user", object_id=user.id)
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
    reset.used_at = utcnow()
    session.add_all([user, reset])
    sessions.end_all(session=session, user_id=user.id or 0, commit=False)  # every device signs in again
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == user.email,  # its delays end too
                                            col(LoginAttempt.succeeded).is_(False)))
    audit.record(session=session, actor=user, action="user.password_reset", object_type="user", object_id=user.id)
    session.commit()
    return user
