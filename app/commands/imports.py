"""Importing condition layers: `groundwork import KIND SOURCE [--map FIELD=COLUMN ...]`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from app.commands import console, fail, staff_account
from app.db import new_session
from app.importers.checks import ImportOptions
from app.importers.fields import parse_pairs
from app.importers.impact import ImportImpact
from app.importers.lengths import unit_name
from app.importers.report import ImportFailed, ImportReport
from app.importers.service import import_layer, preview, unlinking_refusal
from app.settings import get_settings
from models.layers import LayerKind


def _pairs(values: list[str], option: str) -> dict[str, str]:
    try:
        return parse_pairs(values, option)
    except ValueError as error:
        raise fail(str(error)) from error


def print_report(report: ImportReport) -> None:
    console.print(f"[bold]{report.source}[/]: {report.rows_read:,} rows read, {report.valid:,} valid.",
                  highlight=False)
    if report.crs:
        console.print(f"  coordinate system: {report.crs} ({report.crs_origin})", highlight=False)
    if report.units:
        console.print(f"  width units: {report.units}", highlight=False)
    if report.length_units:
        console.print(f"  length units: {report.length_units}", highlight=False)
    if report.length_differences:
        console.print(f"  surveyed lengths more than 10 % off the geometry's: {report.length_differences:,} "
                      "segments; the largest differences:", highlight=False)
        for item in report.length_worst:
            console.print(f"    {item['where']}: surveyed {item['surveyed_m']:,.1f} m, geometry "
                          f"{item['geometry_m']:,.1f} m ({item['difference_pct']:+g} %)", highlight=False)
    if report.field_map:
        mapped = ", ".join(f"{name}={column}" for name, column in report.field_map.items())
        console.print(f"  fields: {mapped}", highlight=False)
    for note in report.notes:
        console.print(f"  note: {note}", highlight=False)
    for title, problems, count in (("rejected", report.rejected, report.rejected_count),
                                   ("warnings", report.warnings, report.warning_count)):
        if count:
            console.print(f"  {title} ({count:,}):", highlight=False)
            for problem in problems[:50]:
                console.print(f"    {problem}", highlight=False)
            if count > 50:
                console.print(f"    … and {count - 50:,} more", highlight=False)


def print_impact(impact: ImportImpact) -> None:
    """What the import does to the layer and to proposals."""
    console.print(f"  the layer: {impact.current:,} features now; {impact.added:,} added, {impact.changed:,} changed, "
                  f"{impact.unchanged:,} unchanged, {impact.removed:,} removed", highlight=False)
    for sentence in impact.condition:
        console.print(f"  condition: {sentence}", highlight=False)
    if impact.links_restored:
        console.print(f"  proposals: {impact.links_restored:,} assets an earlier import removed come back",
                      highlight=False)
    if impact.losing:
        console.print(f"  proposals that lose assets ({len(impact.losing):,}):", highlight=False)
        for loss in impact.losing[:50]:
            console.print(f"    #{loss.id} “{loss.title}” ({loss.state_label.lower()}): {loss.lost:,} of "
                          f"{loss.covered:,} assets", highlight=False)
        if len(impact.losing) > 50:
            console.print(f"    … and {len(impact.losing) - 50:,} more", highlight=False)
    else:
        console.print("  proposals: no proposal loses an asset", highlight=False)


def register(cli: typer.Typer) -> None:
    @cli.command("import")
    def import_command(
        kind: LayerKind = typer.Argument(..., help="pavement, sidewalk, ramp, streetlight, district, tract or "
                                                   "address (address points)"),
        source: str = typer.Argument(..., help="A file (GeoJSON, CSV, Shapefile or .zip, GeoPackage) or an "
                                               "http(s) URL (GeoJSON, ArcGIS FeatureServer/MapServer layer)."),
        map_: list[str] = typer.Option([], "--map", help="FIELD=COLUMN: which column fills a field, "
                                                         "e.g. --map pci=OCI (repeatable)."),
        set_: list[str] = typer.Option([], "--set", help="FIELD=VALUE for every row, e.g. --set owner=utility."),
        crs: str | None = typer.Option(None, "--crs", help="The source's coordinate system, e.g. EPSG:2249."),
        units: str | None = typer.Option(None, "--units", help="Units of widths and of a surveyed length "
                                                               "(--map length=COLUMN): feet or metres; miles or "
                                                               "kilometres for lengths only."),
        layer: str | None = typer.Option(None, "--layer", help="Which layer of a GeoPackage (or file in a zip)."),
        append: bool = typer.Option(False, "--append", help="Add to the layer (update by id) instead of replacing."),
        skip_invalid: bool = typer.Option(False, "--skip-invalid",
                                          help="Import the valid rows and skip the rejected ones."),
        bands: str | None = typer.Option(None, "--bands", help="Pavement band scheme: astm7 (default) or mtc4."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Check the source and report what it would do to "
                                                              "the layer and to proposals; write nothing."),
        allow_unlinking: bool = typer.Option(False, "--allow-unlinking",
                                             help="Import even though submitted (or later) proposals lose assets "
                                                  "(they keep what they covered as submitted)."),
        new_area: bool = typer.Option(False, "--new-area", help="Import data that lies outside the city's "
                                                                "current area (a city replacing the demo city)."),
        by: str | None = typer.Option(None, "--by", metavar="EMAIL",
                                      help="The staff member importing (their account's e-mail): the audit log "
                                           "and the layer record them. Without it: Groundwork (command line)."),
    ) -> None:
        """Import a condition layer from a file or URL: all of it, or nothing."""
        unit = None if units is None else unit_name(units)
        if units is not None and unit is None:
            raise fail(f"--units {units}: choose feet or metres (or, for lengths only, miles or kilometres).")
        options = ImportOptions(kind=kind, mapping=_pairs(map_, "--map"), constants=_pairs(set_, "--set"), crs=crs,
                                units=_units(unit) if unit in ("feet", "metres") else None, length_units=unit,
                                layer=layer, append=append, skip_invalid=skip_invalid, band_scheme=bands)
        settings = get_settings()
        if by is not None:  # who imports is known before anything runs, a dry run too
            with new_session() as session:
                staff_account(session, by, "layers are imported by staff")
        try:
            if dry_run:
                with tempfile.TemporaryDirectory(prefix="groundwork-dry-run-") as scratch, \
                        new_session() as session:
                    result = preview(source, options, session=session, settings=settings.imports,
                                     work_dir=Path(scratch), new_area=new_area)
                print_report(result.report)
                if result.impact is not None:
                    print_impact(result.impact)
                    if result.impact.needs_agreement and not allow_unlinking:
                        console.print(f"[bold yellow]Needs --allow-unlinking:[/] {unlinking_refusal(result.impact)}",
                                      highlight=False)
                if result.place_problem:
                    console.print(f"[bold red]Refused:[/] {result.place_problem}", highlight=False)
                console.print("Dry run: nothing was written.")
                return
            with _progress() as (progress, tasks), new_session(write=True) as session:  # SQLite: BEGIN IMMEDIATE
                def stage(name: str, done: int, total: int) -> None:
                    progress.update(tasks[name], completed=done, total=total)

                staff = staff_account(session, by, "layers are imported by staff") if by is not None else None
                outcome = import_layer(session=session, source=source, options=options, actor=staff,
                                       settings=settings.imports, stage=stage, allow_unlinking=allow_unlinking,
                                       new_area=new_area)
        except ImportFailed as error:
            if error.report is not None:
                print_report(error.report)
            raise fail(str(error)) from error
        print_report(outcome.report)
        if outcome.impact is not None:
            print_impact(outcome.impact)
        console.print(f"[bold green]Imported[/] {outcome.report.valid:,} features into {kind.title} "
                      f"(revision {outcome.layer.revision}, {outcome.layer.feature_count:,} features in the layer).",
                      highlight=False)
        if outcome.rows_note:
            console.print(outcome.rows_note, highlight=False)
        if outcome.links_note:
            console.print(f"[bold yellow]Note:[/] {outcome.links_note}", highlight=False)


def _units(value: str | None) -> Literal["feet", "metres"]:
    return "feet" if value == "feet" else "metres"


@contextmanager
def _progress() -> Iterator[tuple[Progress, dict[str, TaskID]]]:
    """A rich progress bar with one line per stage: reading, checking, writing."""
    with Progress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        yield bar, {name: bar.add_task(name, total=None) for name in ("reading", "checking", "writing")}
