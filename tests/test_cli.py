"""The `groundwork` command lists its commands without loading the application."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from app.cli import COMMANDS, cli, load_command


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listing_says_what_each_command_says_of_itself(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert " ".join((command.help or "").split()).startswith(COMMANDS[name][1])


def test_help_lists_every_command_without_importing_the_application() -> None:
    probe = ("import sys\nfrom typer.testing import CliRunner\nfrom app.cli import cli\n"
             "result = CliRunner().invoke(cli, ['--help'])\nprint(result.output)\n"
             "print('LOADED', sorted(m for m in ('app.db', 'sqlalchemy', 'shapely', 'models') if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    for name in COMMANDS:
        assert f" {name} " in output
    assert "LOADED []" in output


def test_an_unknown_command_is_refused_by_name() -> None:
    result = CliRunner().invoke(cli, ["imprt"])
    assert result.exit_code != 0
    assert "No such command 'imprt'" in result.output
