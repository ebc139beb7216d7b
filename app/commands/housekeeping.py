"""`groundwork housekeeping`: delete expired registrations, reset links, old sign-in attempts, ended sessions."""

from __future__ import annotations

import typer
from rich.console import Console

from app import housekeeping as tidying
from app.db import new_session
from app.settings import get_settings


def register(cli: typer.Typer) -> None:
    @cli.command()
    def housekeeping() -> None:
        """Delete expired registrations, reset links, old sign-in attempts, ended sessions. Old mail requests
        too. Each server's mail sender thread also does this, hourly."""
        with new_session() as session:
            tidied = tidying.tidy(session=session, settings=get_settings())
        Console(highlight=False).print(
            f"Deleted {tidied.pending_registrations} expired registrations, {tidied.password_resets} used or "
            f"expired reset links, {tidied.login_attempts} old sign-in attempts, {tidied.sessions} ended "
            f"sessions and {tidied.mail_requests} old mail requests.")
