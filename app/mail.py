"""Outgoing mail: every message is kept in the outbox, and sent by SMTP when configured."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from sqlmodel import Session, col, select

from app.settings import Settings
from models.base import utcnow
from models.outbox import OutboxMessage


def send(*, session: Session, settings: Settings, recipient: str, subject: str, body: str,
         headers: dict[str, str] | None = None) -> OutboxMessage:
    """``headers``: extra ones (e.g. List-Unsubscribe), kept with the message in the outbox too."""
    message = OutboxMessage(recipient=recipient, subject=subject, body=body, headers=headers or None)
    mail = settings.mail
    if mail.smtp_host:
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = mail.sender, recipient, subject
        for name, value in (headers or {}).items():
            email[name] = value
        email.set_content(body)
        try:
            with smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=15) as smtp:
                if mail.smtp_starttls:
                    smtp.starttls()
                if mail.smtp_user:
                    smtp.login(mail.smtp_user, mail.smtp_password or "")
                smtp.send_message(email)
            message.sent_at = utcnow()
        except (OSError, smtplib.SMTPException) as error:
            message.error = str(error)[:1000]
    session.add(message)
    return message


def outbox(*, session: Session, limit: int = 50) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    return list(session.exec(query))
