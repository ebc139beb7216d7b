"""Outgoing mail: ``send`` queues a message in the outbox; a mail sender delivers the queue by SMTP.

No request ever talks to the mail server: a request only writes the message, in its own unit of work,
so a page answers as fast whether or not it mailed someone (registration and password reset say
nothing about which addresses have accounts). ``deliver`` is the mail sender, run by a thread of each
server process (``app.mail_sender``) and by ``groundwork mail send``:

- it claims one message at a time with an ``UPDATE … WHERE id = :id AND <still due>``, which only one
  sender can win on either database, so two servers never send one message twice;
- a failed delivery is tried again after ``retry_base_s`` doubled per attempt, and after
  ``max_attempts`` claims it is marked failed with its error;
- a claim older than ``claim_timeout_s`` belongs to a sender that stopped (killed mid-send): the
  message is claimed again (if that sender had in fact sent it, the recipient gets it twice — mail is
  delivered at least once);
- messages older than ``max_age_s`` are never sent.

Without an SMTP host (development) nothing is delivered: messages stay in the outbox, which admins read.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import ColumnElement, func, or_, update
from sqlmodel import Session, col, select

from app.db import writing
from app.settings import MailSettings, Settings
from models.base import utcnow
from models.outbox import OutboxMessage

log = logging.getLogger(__name__)
_BACKOFF_MAX = timedelta(hours=6)
STOPPED = "The mail sender stopped while sending this message (it was tried {attempts} times)."
# Refusals of one message; the connection stays usable for the next.
_THIS_MESSAGE_ONLY = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                      smtplib.SMTPNotSupportedError)
TOO_OLD = "Not sent: it waited longer than {hours} hours (GROUNDWORK_MAIL__MAX_AGE_S)."


def send(*, session: Session, settings: Settings, recipient: str, subject: str, body: str,
         headers: dict[str, str] | None = None) -> OutboxMessage:
    """Queue a message; the caller's unit of work commits it. ``headers``: extra ones (e.g.
    List-Unsubscribe), kept with the message and sent with it."""
    message = OutboxMessage(recipient=_one_line(recipient), subject=_one_line(subject)[:300], body=body,
                            headers={name: _one_line(value) for name, value in headers.items()} if headers else None)
    session.add(message)
    return message


def _one_line(text: str) -> str:
    """A header's value on one line: a line break in a title someone typed must not break the mail (or
    let them add headers of their own)."""
    return " ".join(text.split())


def outbox(*, session: Session, limit: int = 50) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    return list(session.exec(query))


@dataclass
class Delivery:
    """What one run of the sender did."""

    sent: int = 0
    retrying: int = 0  # failed this time, tried again later
    failed: int = 0  # given up (attempts used up, sender stopped too often, too old)


def _unsent() -> ColumnElement[bool]:
    return col(OutboxMessage.sent_at).is_(None) & col(OutboxMessage.failed_at).is_(None)


def _due(now: datetime, mail: MailSettings) -> ColumnElement[bool]:
    """Queued, due, not too old, and not claimed (or claimed by a sender that stopped)."""
    return (_unsent()
            & or_(col(OutboxMessage.next_attempt_at).is_(None), col(OutboxMessage.next_attempt_at) <= now)
            & (col(OutboxMessage.created_at) >= now - timedelta(seconds=mail.max_age_s))
            & (col(OutboxMessage.attempts) < mail.max_attempts)
            & or_(col(OutboxMessage.claimed_at).is_(None),
                  col(OutboxMessage.claimed_at) < now - timedelta(seconds=mail.claim_timeout_s)))


def give_up(*, session: Session, settings: Settings) -> int:
    """Mark failed what will never be sent: too old, or every attempt taken by senders that stopped."""
    mail, now = settings.mail, utcnow()
    too_old = _unsent() & (col(OutboxMessage.created_at) < now - timedelta(seconds=mail.max_age_s))
    abandoned = (_unsent() & (col(OutboxMessage.attempts) >= mail.max_attempts)
                 & col(OutboxMessage.claimed_at).is_not(None)
                 & (col(OutboxMessage.claimed_at) < now - timedelta(seconds=mail.claim_timeout_s)))
    found = session.exec(select(OutboxMessage.id, OutboxMessage.attempts).where(too_old | abandoned)
                         .limit(1000)).all()
    session.rollback()  # the read ends; the updates are a unit of work of their own
    if not found:
        return 0
    given_up = 0
    with writing(session):
        for message_id, attempts in found:
            error = (TOO_OLD.format(hours=mail.max_age_s // 3600) if attempts < mail.max_attempts
                     else STOPPED.format(attempts=attempts))
            result = session.exec(update(OutboxMessage).where(col(OutboxMessage.id) == message_id,
                                                              too_old | abandoned)
                                  .values(failed_at=now, claimed_at=None, claimed_by=None, error=error))
            given_up += int(result.rowcount or 0)
    return given_up


def claim(*, session: Session, settings: Settings, sender: str) -> OutboxMessage | None:
    """Take the oldest due message for ``sender``, or None. Never the same message for two senders."""
    now = utcnow()
    due = _due(now, settings.mail)
    candidates = list(session.exec(select(OutboxMessage.id).where(due).order_by(col(OutboxMessage.id)).limit(10)))
    session.rollback()  # the read ends; each claim is a unit of work of its own (app.db.writing)
    for message_id in candidates:
        with writing(session):
            won = session.exec(update(OutboxMessage).where(col(OutboxMessage.id) == message_id, due)
                               .values(claimed_at=now, claimed_by=sender, attempts=col(OutboxMessage.attempts) + 1))
        if won.rowcount == 1:
            return session.get(OutboxMessage, message_id, populate_existing=True)
    return None


def _email(message: OutboxMessage, mail: MailSettings) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = mail.sender, message.recipient, message.subject
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body)
    return email


def _connect(mail: MailSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(mail.smtp_host or "", mail.smtp_port, timeout=mail.smtp_timeout_s)
    try:
        if mail.smtp_starttls:
            smtp.starttls()
        if mail.smtp_user:
            smtp.login(mail.smtp_user, mail.smtp_password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _record(session: Session, message_id: int | None, sender: str, values: dict[str, Any]) -> None:
    session.rollback()  # whatever was read ends; the record is a unit of work of its own (app.db.writing)
    with writing(session):
        session.exec(update(OutboxMessage).where(col(OutboxMessage.id) == message_id,
                                                 col(OutboxMessage.claimed_by) == sender, _unsent())
                     .values(claimed_at=None, claimed_by=None, **values))


def _failed(session: Session, message: OutboxMessage, sender: str, mail: MailSettings, error: Exception,
            outcome: Delivery) -> None:
    now, text = utcnow(), (str(error) or type(error).__name__)[:1000]
    message_id, attempts = message.id, message.attempts
    if attempts >= mail.max_attempts:
        _record(session, message_id, sender, {"failed_at": now, "error": text})
        outcome.failed += 1
        log.warning("mail %s failed for good after %s attempts: %s", message_id, attempts, text)
        return
    wait = min(timedelta(seconds=mail.retry_base_s * 2 ** (attempts - 1)), _BACKOFF_MAX)
    _record(session, message_id, sender, {"next_attempt_at": now + wait, "error": text})
    outcome.retrying += 1


def deliver(*, session: Session, settings: Settings, sender: str, limit: int | None = None) -> Delivery:
    """Send what is due, one claimed message at a time over one SMTP connection; returns what happened.
    Stops early when the mail server cannot be reached (the next run tries again)."""
    mail, outcome = settings.mail, Delivery()
    if not mail.smtp_host:
        return outcome
    outcome.failed += give_up(session=session, settings=settings)
    smtp: smtplib.SMTP | None = None
    try:
        while limit is None or outcome.sent + outcome.retrying + outcome.failed < limit:
            message = claim(session=session, settings=settings, sender=sender)
            if message is None:
                break
            try:
                email = _email(message, mail)
            except Exception as error:  # a message that cannot be written never will be: give it up now
                message.attempts = mail.max_attempts
                _failed(session, message, sender, mail, error, outcome)
                continue
            try:
                if smtp is None:
                    smtp = _connect(mail)
                smtp.send_message(email)
            except OSError as error:  # smtplib's errors are OSErrors too
                _failed(session, message, sender, mail, error, outcome)
                if smtp is None or not isinstance(error, _THIS_MESSAGE_ONLY):
                    break  # the server is away or the connection broke: the rest wait for the next run
                continue
            _record(session, message.id, sender, {"sent_at": utcnow(), "error": None})
            outcome.sent += 1
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except OSError:
                smtp.close()
    return outcome


@dataclass(frozen=True)
class Counts:
    queued: int
    sent: int
    failed: int


def counts(*, session: Session) -> Counts:
    queued = session.exec(select(func.count()).select_from(OutboxMessage).where(_unsent())).one()
    sent = session.exec(select(func.count()).select_from(OutboxMessage)
                        .where(col(OutboxMessage.sent_at).is_not(None))).one()
    failed = session.exec(select(func.count()).select_from(OutboxMessage)
                          .where(col(OutboxMessage.failed_at).is_not(None))).one()
    return Counts(int(queued), int(sent), int(failed))


def failures(*, session: Session, limit: int = 10) -> list[OutboxMessage]:
    """The latest messages given up on, newest first."""
    return list(session.exec(select(OutboxMessage).where(col(OutboxMessage.failed_at).is_not(None))
                             .order_by(col(OutboxMessage.failed_at).desc()).limit(limit)))
