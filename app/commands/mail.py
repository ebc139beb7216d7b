"""Outgoing mail: `groundwork mail send` delivers what is queued in the outbox once (for cron or operators)."""

from __future__ import annotations

import typer
from rich.console import Console

from app import mail
from app.commands import fail
from app.db import new_session
from app.mail_sender import sender_name
from app.settings import get_settings

NAME = "mail"
app = typer.Typer(no_args_is_help=True)


@app.command()
def send(limit: int | None = typer.Option(None, min=1, help="Send at most this many messages.")) -> None:
    """Deliver the queued mail that is due, once: claimed one by one, so it is safe beside running servers
    and other `mail send` runs. Failures are tried again later, a bounded number of times."""
    settings = get_settings()
    if not settings.mail.smtp_host:
        raise fail("No mail server is set (GROUNDWORK_MAIL__SMTP_HOST): messages stay in the outbox, which "
                   "admins read at /outbox.")
    with new_session() as session:
        done = mail.deliver(session=session, settings=settings, sender=sender_name("cli"), limit=limit)
    Console(highlight=False).print(f"Sent {done.sent}; {done.retrying} will be tried again later; "
                                   f"{done.failed} failed for good.")
    if done.retrying or done.failed:
        raise typer.Exit(1)


@app.command()
def status() -> None:
    """How many messages are queued, sent and failed, and the latest failures with their errors."""
    with new_session() as session:
        counts = mail.counts(session=session)
        failures = mail.failures(session=session, limit=10)
    out = Console(highlight=False, soft_wrap=True)
    out.print(f"Queued {counts.queued}, sent {counts.sent}, failed {counts.failed}.")
    for message in failures:
        out.print(f"  #{message.id} to {message.recipient} ({message.attempts} attempts): {message.error}")
