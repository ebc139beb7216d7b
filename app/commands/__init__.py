"""CLI commands, one module per area; app/cli.py registers them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:  # the commands load the application only when they run
    from sqlmodel import Session

    from models.accounts import User

console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a clear error and return the Exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def staff_account(session: Session, email: str, why: str, *, admin: bool = False) -> User:
    """The active staff account with this e-mail (``--by``), or a clear refusal naming ``why`` staff are needed.

    ``admin``: only an administrator will do (roles are changed by admins, as on /admin/users)."""
    from app.accounts import find_by_email
    from models.accounts import Role

    staff = find_by_email(session=session, email=email)
    if staff is None or not staff.is_active or not (Role(staff.role) is Role.admin if admin
                                                    else Role(staff.role).is_staff):
        kind = "admin" if admin else "staff"
        raise fail(f"{email} is not an active {kind} account; {why}. Nothing was written.")
    return staff
