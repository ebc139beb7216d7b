"""Accounts and roles: `groundwork user create EMAIL --role admin`, `groundwork user role EMAIL ROLE [--by EMAIL]`."""

from __future__ import annotations

import getpass
import secrets

import typer

from app import accounts
from app.accounts import AccountError
from app.commands import console, fail, staff_account
from app.db import new_session
from app.settings import get_settings
from models.accounts import Role

NAME = "user"
app = typer.Typer(no_args_is_help=True)


@app.command()
def create(
    email: str,
    role: Role = typer.Option(Role.resident, help="resident, staff or admin"),
    name: str = typer.Option("", help="Display name."),
    password: str | None = typer.Option(None, envvar="GROUNDWORK_NEW_USER_PASSWORD",
                                        help="Password (else asked for, or generated with --generate)."),
    generate: bool = typer.Option(False, help="Generate a password and print it once."),
) -> None:
    """Create an account."""
    settings = get_settings()
    if password is None:
        if generate:
            password = secrets.token_urlsafe(12)
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Again: "):
                raise fail("The two passwords differ; nothing was created.")
    with new_session() as session:
        try:
            user = accounts.create_user(session=session, settings=settings, email=email, password=password,
                                        display_name=name, role=role)
        except AccountError as error:
            raise fail(str(error)) from error
    console.print(f"Created {user.email} ({role.value}).")
    if generate:
        typer.echo(f"password: {password}")


@app.command("role")
def set_role(
    email: str,
    role: Role,
    by: str | None = typer.Option(None, "--by", metavar="EMAIL",
                                  help="The admin changing the role (their account's e-mail): the audit log "
                                       "records them. Without it: Groundwork (command line)."),
) -> None:
    """Change an account's role (its sessions end, so it signs in again under the new one)."""
    with new_session() as session:
        admin = staff_account(session, by, "roles are changed by admins", admin=True) if by is not None else None
        user = accounts.find_by_email(session=session, email=email)
        if user is None:
            raise fail(f"No account for {email}.")
        accounts.set_role(session=session, user=user, role=role, actor=admin)
    console.print(f"{email} is now {role.value}.")
