"""The unit-cost catalog: `groundwork costs show|export|import|import-table|markups|history`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from app.commands import console, fail, staff_account
from app.costing import catalog
from app.costing.arithmetic import parse_percent
from app.costing.catalog import CatalogError
from app.db import new_session
from models.accounts import User
from models.costs import CatalogVersion, Unit

NAME = "costs"
app = typer.Typer(no_args_is_help=True, help="Show, export and import the unit-cost catalog.")


def _by_option() -> str | None:
    return typer.Option(None, "--by", metavar="EMAIL",
                        help="The staff member making the new version (their account's e-mail): the audit log and "
                             "the version record them. Without it: Groundwork (command line).")


def _staff(session: Session, by: str | None) -> User | None:
    """Who makes the version, checked before anything is written (the catalog's first version too)."""
    return staff_account(session, by, "the cost catalog is changed by staff") if by is not None else None


def _version(session: Session, number: int | None) -> CatalogVersion:
    version = (catalog.get_version_by_number(session=session, number=number) if number is not None
               else catalog.ensure_defaults(session=session))
    if version is None:
        raise fail(f"There is no catalog version {number}; see `groundwork costs history`.")
    return version


@app.command()
def show(version: int | None = typer.Option(None, "--version", "-v", help="A version number (default: current).")
         ) -> None:
    """Print a catalog version: markups and treatments."""
    with new_session() as session:
        chosen = _version(session, version)
        rows = catalog.treatments_of(session=session, version=chosen)
    out = Console()
    out.print(f"Catalog version {chosen.number}{' (current)' if chosen.is_current else ''}, "
              f"{chosen.base_year} dollars; design & engineering {chosen.design_engineering_bps / 100:g} %, "
              f"contingency {chosen.contingency_bps / 100:g} %, escalation {chosen.escalation_bps / 100:g} % a year")
    if chosen.source:
        out.print(f"Source: {chosen.source}", highlight=False)
    table = Table("layer", "key", "name", "unit cost", "applies to", "range")
    for row in rows:
        applies = (f"PCI {row.min_pci if row.min_pci is not None else 0:g}–"
                   f"{row.max_pci if row.max_pci is not None else 100:g}"
                   + (f" {row.functional_class}" if row.functional_class else "")
                   if row.layer_kind == "pavement" else (row.conditions or ""))
        table.add_row(row.layer_kind, row.key, row.name,
                      f"${row.unit_cost_cents / 100:,.2f} / {Unit(row.unit).label}", applies,
                      f"{row.low_bps / 100:+g} % / {row.high_bps / 100:+g} %")
    out.print(table)


@app.command()
def export(
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
    version: int | None = typer.Option(None, "--version", "-v", help="A version number (default: current)."),
) -> None:
    """Export a catalog version's treatments as CSV (dollars, percents, spreadsheet-safe)."""
    with new_session() as session:
        text = catalog.export_csv(session=session, version=_version(session, version))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output}.")


def _import(file: Path, note: str, by: str | None) -> None:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"Cannot read {file}: {error}") from error
    with new_session() as session:
        staff = _staff(session, by)
        catalog.ensure_defaults(session=session)
        try:
            imported = catalog.import_csv_reporting(session=session, actor=staff, text=text, note=note)
        except CatalogError as error:
            for problem in error.problems:
                console.print(f"  {problem}", highlight=False)
            raise fail(f"{file} was not imported; nothing changed.") from error
    console.print(f"Catalog version {imported.version.number} is now current.")
    source = f"version {imported.previous_number}" if imported.previous_number else "Groundwork's defaults"
    console.print(f"Kept from {source} (the file does not set them; change markups with `groundwork costs "
                  "markups`):", highlight=False)
    for line in imported.kept:
        console.print(f"  {line}", highlight=False)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="A CSV in the format `groundwork costs export` writes."),
    note: str = typer.Option("", help="Why this version was made."),
    by: str | None = _by_option(),
) -> None:
    """Make a new catalog version from a CSV. The file's rows replace the treatments of the layer
    kinds it contains; other kinds are kept. A bad row stops the import and changes nothing."""
    _import(file, note, by)


@app.command("import-table")
def import_table(
    file: Path = typer.Argument(..., help="A consultant's pavement table: PCI thresholds and per-class rates, "
                                          "one treatment per row (same columns as export)."),
    note: str = typer.Option("Consultant's pavement table", help="Why this version was made."),
    by: str | None = _by_option(),
) -> None:
    """Set the pavement PCI thresholds and per-class rates from a consultant's table (a new version)."""
    _import(file, note, by)


def _percent(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        bps = parse_percent(value, label=option)
    except ValueError as error:
        raise fail(str(error)) from error
    if bps is None:
        raise fail(f"{option} needs a percentage, e.g. {option} 10.")
    return bps


@app.command()
def markups(
    design_pct: str | None = typer.Option(None, "--design-pct", help="Design & engineering, % of construction."),
    contingency_pct: str | None = typer.Option(None, "--contingency-pct", help="Contingency, % of construction."),
    escalation_pct: str | None = typer.Option(None, "--escalation-pct", help="Escalation, % a year from the base "
                                                                            "year."),
    note: str = typer.Option("", help="Why the markups change (default: what changed)."),
    by: str | None = _by_option(),
) -> None:
    """Set the catalog's markups (any of them; the others are kept) as a new version."""
    given = {"design_engineering_bps": _percent(design_pct, "--design-pct"),
             "contingency_bps": _percent(contingency_pct, "--contingency-pct"),
             "escalation_bps": _percent(escalation_pct, "--escalation-pct")}
    with new_session() as session:
        staff = _staff(session, by)
        try:
            version, rows = catalog.set_markups(session=session, actor=staff, note=note, **given)
        except CatalogError as error:
            for problem in error.problems:
                console.print(f"  {problem}", highlight=False)
            raise fail("No new catalog version; nothing changed.") from error
    console.print(f"Catalog version {version.number} is now current:", highlight=False)
    for label, before, after in rows:
        change = (f"{before / 100:g} % → {after / 100:g} %" if before != after
                  else f"{after / 100:g} % (kept)")
        console.print(f"  {label}: {change}", highlight=False)


@app.command()
def history() -> None:
    """List the catalog versions, newest first."""
    with new_session() as session:
        versions = catalog.list_versions(session=session)
    out = Console()
    table = Table("version", "created", "current", "note")
    for v in versions:
        table.add_row(str(v.number), v.created_at.strftime("%Y-%m-%d %H:%M"), "yes" if v.is_current else "", v.note)
    out.print(table)
