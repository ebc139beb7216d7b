"""Bulk delivery updates: `groundwork delivery import FILE.csv --by EMAIL [--dry-run]`."""

from __future__ import annotations

from pathlib import Path

import typer

from app.commands import console, fail, staff_account

NAME = "delivery"
app = typer.Typer(no_args_is_help=True, help="Bulk delivery updates from a public-works CSV.")


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="A CSV with the columns in docs/DELIVERY.md (project, phase, "
                                          "spent_to_date, award_*, milestone*, note, …)."),
    by: str = typer.Option(..., "--by", metavar="EMAIL",
                           help="The staff member applying the file (their account's e-mail); the audit log "
                                "records them with every change."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file and say what would change; write nothing."),
) -> None:
    """Check the whole file, then apply it in one transaction (audited as the staff member --by;
    followers mailed for notes). Any problem is reported by row and column and nothing is written.
    Running the same file again changes nothing."""
    from app.db import new_session
    from app.delivery import bulk
    from app.settings import get_settings

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"Cannot read {file}: {error}") from error
    with new_session(write=True) as session:  # SQLite: BEGIN IMMEDIATE, so no other writer makes its reads stale
        staff = staff_account(session, by, "delivery is updated by staff")
        try:
            outcome = bulk.run(session=session, settings=get_settings(), text=text, source=file.name,
                               actor=staff, dry_run=dry_run)
        except bulk.ImportError_ as error:
            for problem in error.problems:
                console.print(f"  {problem}", highlight=False, markup=False)
            raise fail(f"{file} has {len(error.problems)} problem(s); nothing was written.") from error
    for line in outcome.changes:
        console.print(f"  {line}", highlight=False, markup=False)
    for line in outcome.warnings:
        console.print(f"  warning: {line}", highlight=False, markup=False)
    if not outcome.changes:
        console.print(f"{outcome.rows} row(s) checked; nothing to change (the projects already say this).")
    elif dry_run:
        console.print(f"Dry run: {len(outcome.changes)} change(s) from {outcome.rows} row(s) would be made; "
                      "nothing was written.")
    else:
        console.print(f"{len(outcome.changes)} change(s) from {outcome.rows} row(s) written.")
