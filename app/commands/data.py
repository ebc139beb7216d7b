"""Open data and the database file: `groundwork export`, `groundwork backup`, `groundwork restore`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from app import backup as backups
from app.commands import console, fail
from app.db import new_session
from app.opendata import exports
from app.opendata.exports import DatasetNotLoaded
from app.opendata.formats import ExportFormat
from app.opendata.registry import UnknownDataset, all_datasets
from app.settings import get_settings


def register(cli: typer.Typer) -> None:
    @cli.command("export")
    def export(
        dataset: str = typer.Argument(..., help="A dataset id: pavement, sidewalk, ramp, streetlight, district, "
                                                "tract (see /data)."),
        export_format: ExportFormat = typer.Option(ExportFormat.geojson, "--format", "-f",
                                                   help="geojson, csv or gpkg."),
        output: Path | None = typer.Option(None, "--output", "-o",
                                           help="File to write (default: standard output; required for gpkg)."),
    ) -> None:
        """Export a dataset as GeoJSON, CSV or GeoPackage, exactly as /data serves it."""
        if export_format is ExportFormat.gpkg and output is None:
            raise fail("A GeoPackage is a file: give one with -o FILE.gpkg.")
        with new_session() as session:
            try:
                plan = exports.plan_export(session=session, dataset_id=dataset, export_format=export_format)
            except UnknownDataset as error:
                known = ", ".join(d.id for d in all_datasets())
                raise fail(f"{error} Known datasets: {known}.") from error
            except DatasetNotLoaded as error:
                raise fail(str(error)) from error
            if output is None:
                stdout = typer.get_binary_stream("stdout")
                try:
                    for chunk in exports.text_chunks(session=session, plan=plan):
                        stdout.write(chunk.encode("utf-8"))
                    stdout.flush()
                except BrokenPipeError:  # e.g. piped into `head`: the reader has what it wanted
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return
            exports.write_file(session=session, plan=plan, path=output)
        console.print(f"Wrote {plan.state.feature_count:,} features of {plan.dataset.title} "
                      f"(revision {plan.state.revision}) to {output}.")

    @cli.command("backup")
    def backup(
        file: Path = typer.Argument(..., help="Where to write the backup."),
        force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists."),
    ) -> None:
        """Copy the whole database, online and consistent (SpatiaLite copy or pg_dump archive)."""
        try:
            result = backups.backup(database_url=get_settings().database_url, destination=file, overwrite=force)
        except backups.BackupError as error:
            raise fail(str(error)) from error
        console.print(f"Backed up the database (schema {result.revision}) to {result.path} "
                      f"({result.size_bytes / 1e6:,.1f} MB).")

    @cli.command("restore")
    def restore(
        file: Path = typer.Argument(..., help="A backup made by groundwork backup."),
        force: bool = typer.Option(False, "--force", help="Replace the database even if it is in use or has a "
                                                          "newer schema than the backup."),
    ) -> None:
        """Replace the database with a backup, all or nothing (stop the server first)."""
        try:
            result = backups.restore(database_url=get_settings().database_url, source=file, force=force)
        except backups.BackupError as error:
            raise fail(str(error)) from error
        note = f", upgraded from {result.backup_revision}" if result.upgraded else ""
        console.print(f"Restored {result.database} from {file} (schema {result.revision}{note}).")
