"""Database schema: `groundwork db upgrade`."""

from __future__ import annotations

import typer

from app import migrate
from app.commands import console, fail
from app.db import SpatiaLiteMissing
from app.settings import get_settings

NAME = "db"
app = typer.Typer(no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or update the database schema (SpatiaLite or PostGIS)."""
    url = get_settings().database_url
    try:
        migrate.upgrade(url, revision)
    except SpatiaLiteMissing as error:
        raise fail(str(error)) from error
    console.print(f"Database schema is at [bold]{migrate.head_revision() if revision == 'head' else revision}[/].")


@app.command()
def current() -> None:
    """Show the schema revision of the database and of this code."""
    from app.db import make_engine

    engine = make_engine()
    typer.echo(f"database: {migrate.current_revision(engine)}\ncode:     {migrate.head_revision()}")
