"""The `groundwork` command.

Each area's commands live in ``app/commands/<area>.py``: a module with ``register(cli)`` adds
top-level commands; a module with ``app`` (a Typer) and ``NAME`` is the sub-command group
``groundwork NAME …``. ``COMMANDS`` names each command's module and its one-line help, so
``groundwork --help`` lists them without importing any (the database, the models and the
geometry libraries take a couple of seconds to load); a command's module is imported when it
runs or its own help is asked for. tests/test_cli.py checks the table against the modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer (0.2x) runs on its own copy of click and types its API with it
    from typer._click import Command, Context, HelpFormatter

# command -> (module in app/commands, the line `groundwork --help` shows)
COMMANDS: dict[str, tuple[str, str]] = {
    "export": ("data", "Export a dataset as GeoJSON, CSV or GeoPackage, exactly as /data serves it."),
    "backup": ("data", "Copy the whole database, online and consistent (SpatiaLite copy or pg_dump archive)."),
    "restore": ("data", "Replace the database with a backup, all or nothing (stop the server first)."),
    "demo": ("demo", "Load the generated demo city (about 100,000 residents per unit of scale); running it again "
                     "changes nothing."),
    "import": ("imports", "Import a condition layer from a file or URL: all of it, or nothing."),
    "serve": ("server", "Run the web server (default http://127.0.0.1:8000)."),
    "verify": ("verify", "Recompute every ballot list version's hash from its export and check the chain of "
                         "versions."),
    "user": ("accounts", "Accounts and roles: `groundwork user create EMAIL --role admin`, `groundwork user role "
                         "EMAIL ROLE [--by EMAIL]`."),
    "costs": ("costs", "The unit-cost catalog: `groundwork costs show|export|import|import-table|markups|history`."),
    "delivery": ("delivery", "Bulk delivery updates: `groundwork delivery import FILE.csv --by EMAIL [--dry-run]`."),
    "network": ("network", "The pavement network's needs (backlog) and budget scenarios: `groundwork network "
                           "needs|scenario`."),
    "mail": ("mail", "Outgoing mail: `groundwork mail send` delivers what is queued in the outbox once (for cron or "
                     "operators)."),
    "housekeeping": ("housekeeping", "Delete expired registrations, reset links, old sign-in attempts, ended "
                                     "sessions."),
    "db": ("database", "Database schema: `groundwork db upgrade`."),
}


def load_command(name: str) -> Command:
    """The click command ``name``, its module imported now."""
    module = importlib.import_module(f"app.commands.{COMMANDS[name][0]}")
    if getattr(module, "NAME", None) == name:
        group = typer.main.get_group(module.app)
        group.name, group.help = name, (module.__doc__ or "").strip().splitlines()[0]
        return group
    commands = typer.Typer()
    module.register(commands)
    command = typer.main.get_group(commands).commands.get(name)
    if command is None:
        raise LookupError(f"app/commands/{COMMANDS[name][0]}.py registers no command {name!r}")
    return command


class _LazyCommands(TyperGroup):
    """Lists the commands from ``COMMANDS``; imports a command's module only to run it."""

    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in COMMANDS:
            return None
        if self._listing:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name][1])
        return load_command(cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


cli = typer.Typer(cls=_LazyCommands, help="Groundwork: infrastructure sales-tax programs.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)


@cli.callback()
def _groundwork() -> None:
    """Groundwork: infrastructure sales-tax programs."""


def main() -> None:
    cli()
