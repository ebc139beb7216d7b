"""`groundwork serve`."""

from __future__ import annotations

import typer
import uvicorn

from app import migrate
from app.commands import fail
from app.db import SpatiaLiteMissing, make_engine
from app.settings import get_settings


def register(cli: typer.Typer) -> None:
    @cli.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8000, help="Port."),
        workers: int = typer.Option(1, help="Worker processes (use PostGIS for more than one busy writer)."),
        reload: bool = typer.Option(False, help="Reload on code changes (development)."),
    ) -> None:
        """Run the web server (default http://127.0.0.1:8000)."""
        settings = get_settings()
        try:
            migrate.ensure_current(make_engine(settings.database_url))
        except (migrate.SchemaOutOfDate, SpatiaLiteMissing) as error:
            raise fail(str(error)) from error
        uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                    reload=reload, log_level=settings.log_level, proxy_headers=True, forwarded_allow_ips="*")
