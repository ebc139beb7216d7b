"""The `groundwork` command.

Each area's commands live in ``app/commands/<area>.py`` and are registered automatically:
a module with ``register(cli)`` adds top-level commands; a module with ``app`` (a Typer) and
``NAME`` becomes the sub-command group ``groundwork NAME …``.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

import app.commands as commands

cli = typer.Typer(help="Groundwork: infrastructure sales-tax programs.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)

for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
    module = importlib.import_module(f"{commands.__name__}.{info.name}")
    if hasattr(module, "register"):
        module.register(cli)
    if hasattr(module, "app") and hasattr(module, "NAME"):
        cli.add_typer(module.app, name=module.NAME, help=(module.__doc__ or "").strip().splitlines()[0])


def main() -> None:
    cli()
