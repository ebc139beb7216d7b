"""`groundwork serve`."""

from __future__ import annotations

import ipaddress
import logging

import typer
import uvicorn
from uvicorn.config import LOG_LEVELS

from app import migrate
from app.commands import console, fail
from app.db import SpatiaLiteMissing, make_engine
from app.serving import HttpProtocol
from app.settings import Settings, get_settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def development_exposure(settings: Settings) -> list[str]:
    """What a development server shows to whoever can reach it, in plain words."""
    exposed = ["the demo accounts `groundwork demo` makes, whose password is published in the docs"]
    if not settings.secret_key:
        exposed.append("sessions signed with the generated key in .groundwork-secret, not GROUNDWORK_SECRET_KEY")
    if not settings.security.https_only_cookies:
        exposed.append("session cookies sent over plain HTTP (GROUNDWORK_SECURITY__HTTPS_ONLY_COOKIES is off)")
    if settings.outbox_available:
        exposed.append("mail is not sent (no GROUNDWORK_MAIL__SMTP_HOST): reset and registration links wait in "
                       "the admins' /outbox instead of reaching people")
    return exposed


def register(cli: typer.Typer) -> None:
    @cli.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8000, help="Port."),
        workers: int = typer.Option(1, help="Worker processes (use PostGIS for more than one busy writer)."),
        reload: bool = typer.Option(False, help="Reload on code changes (development)."),
        expose_development: bool = typer.Option(
            False, "--expose-development",
            help="Serve a development-mode server on an address other than loopback (it warns what is exposed)."),
    ) -> None:
        """Run the web server (default http://127.0.0.1:8000)."""
        settings = get_settings()
        if settings.environment == "development" and not is_loopback(host):
            exposed = "; ".join(development_exposure(settings))
            if not (expose_development or settings.security.allow_public_bind_in_development):
                raise fail(f"refusing to serve development mode on {host}: others could reach {exposed}. "
                           "Set GROUNDWORK_ENVIRONMENT=production (see docs/DEPLOY.md), listen on 127.0.0.1, "
                           "or pass --expose-development if you mean it.")
            console.print(f"[bold yellow]warning:[/] development mode on {host}:{port} exposes {exposed}.",
                          highlight=False)
        try:
            migrate.ensure_current(make_engine(settings.database_url))
        except (migrate.SchemaOutOfDate, SpatiaLiteMissing) as error:
            raise fail(str(error)) from error
        trusted = settings.security.trusted_proxies
        # X-Forwarded-For/-Proto count only from GROUNDWORK_SECURITY__TRUSTED_PROXIES (none by default), for
        # uvicorn (the scheme behind TLS) as for the application (app.security.client_address).
        # HttpProtocol: uvicorn's httptools protocol sending a response of known length in one write
        # (app/serving.py). The access log's line is only worked out where the log level prints it.
        uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                    reload=reload, log_level=settings.log_level, http=HttpProtocol,
                    access_log=LOG_LEVELS.get(settings.log_level, logging.INFO) <= logging.INFO,
                    proxy_headers=bool(trusted), forwarded_allow_ips=",".join(trusted) if trusted else None)
