"""Importing a layer: read the source, check every row, and write it — or write nothing.

``preview`` reads and checks without writing (the staff page shows it before confirming);
``import_layer`` does the same and then stores the layer in one unit of work. Rows that fail
their checks are imported around only when the user agrees (``skip_invalid``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, col, select

from app.importers.checks import Checked, ImportOptions, check
from app.importers.report import ImportFailed, ImportReport
from app.importers.sources import SourceTable, read_source
from app.layers.bands import scheme
from app.layers.store import LayerWriteError, write_layer
from app.settings import ImportSettings
from models.accounts import User
from models.layers import Layer

Stage = Callable[[str, int, int], None]  # (stage, done, total): reading, checking, writing
PREVIEW_ROWS = 10


@dataclass
class Preview:
    report: ImportReport
    columns: list[str]
    sample: list[dict[str, Any]]  # the first rows as read
    mapping: dict[str, str]


@dataclass
class ImportResult:
    layer: Layer
    report: ImportReport

    @property
    def links_note(self) -> str | None:
        """What the import took off proposals: assets they covered that the new data no longer has."""
        lost = int((self.layer.report or {}).get("proposal_links_removed", 0))
        if not lost:
            return None
        assets = "asset" if lost == 1 else "assets"
        return (f"{lost:,} {assets} that proposals covered are no longer in the layer and were taken off "
                "those proposals; review their estimates.")


def _read_and_check(source: str, options: ImportOptions, *, settings: ImportSettings, work_dir: Path,
                    transport: httpx.BaseTransport | None, stage: Stage | None,
                    name: str | None) -> tuple[SourceTable, Checked]:
    if options.band_scheme is not None:
        try:
            scheme(options.band_scheme)
        except ValueError as error:
            raise ImportFailed(str(error)) from error
    if stage:
        stage("reading", 0, 1)
    table = read_source(source, work_dir=work_dir, settings=settings, layer=options.layer, transport=transport,
                        name=name)
    if stage:
        stage("reading", 1, 1)
    checked = check(table, options, progress=(lambda done, total: stage("checking", done, total)) if stage else None)
    if not table.rows:
        raise ImportFailed(f"{table.name} has no features; nothing was changed.", checked.report)
    return table, checked


def preview(source: str, options: ImportOptions, *, settings: ImportSettings, work_dir: Path,
            transport: httpx.BaseTransport | None = None, name: str | None = None) -> Preview:
    """What an import would do, without writing anything."""
    table, checked = _read_and_check(source, options, settings=settings, work_dir=work_dir, transport=transport,
                                     stage=None, name=name)
    return Preview(checked.report, table.columns, table.rows[:PREVIEW_ROWS], checked.mapping)


def import_layer(*, session: Session, source: str, options: ImportOptions, actor: User | None,
                 settings: ImportSettings, work_dir: Path | None = None,
                 transport: httpx.BaseTransport | None = None, stage: Stage | None = None,
                 name: str | None = None) -> ImportResult:
    """Import ``source`` as the ``options.kind`` layer: all of it, or nothing (raises ImportFailed).
    ``name`` is the source as the layer records it (default: the URL or file name)."""
    with tempfile.TemporaryDirectory(prefix="groundwork-import-") as scratch:
        _, checked = _read_and_check(source, options, settings=settings, work_dir=work_dir or Path(scratch),
                                     transport=transport, stage=stage, name=name)
    report = checked.report
    if report.rejected_count and not options.skip_invalid:
        shown = "; ".join(str(p) for p in report.rejected[:10])
        more = f" (and {report.rejected_count - 10} more)" if report.rejected_count > 10 else ""
        raise ImportFailed(
            f"{report.rejected_count} of {report.rows_read} rows cannot be imported: {shown}{more}. Nothing was "
            f"written. Fix them, or import the {report.valid} valid rows and skip these "
            "(--skip-invalid, or the checkbox on the preview).", report)
    if not checked.records:
        raise ImportFailed(f"None of the {report.rows_read} rows of {report.source} can be imported; "
                           "nothing was changed.", report)
    if report.rejected_count:
        report.note(f"{report.rejected_count} rows were skipped at the importer's request.")
    if stage:
        stage("writing", 0, 1)
    try:
        layer = write_layer(session=session, kind=options.kind, records=checked.records, source=report.source,
                            actor=actor, mode="append" if options.append else "replace",
                            source_crs=report.crs, field_map=checked.mapping, band_scheme=options.band_scheme,
                            report=report.as_dict())
    except (LayerWriteError, ValueError) as error:
        raise ImportFailed(str(error), report) from error
    if stage:
        stage("writing", 1, 1)
    return ImportResult(layer, report)


def layers(*, session: Session) -> list[tuple[Layer, str | None]]:
    """Every loaded layer with the name of who imported it."""
    rows = session.exec(select(Layer, User.display_name).join(User, col(Layer.imported_by_id) == User.id,
                                                              isouter=True).order_by(col(Layer.kind)))
    return [(layer, name) for layer, name in rows]
