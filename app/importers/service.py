"""Importing a layer: read the source, check every row, and write it — or write nothing.

``preview`` reads and checks without writing (the staff page shows it before confirming), and
works out what the import does to the layer and to proposals (``impact``) and whether the data is
where the city is (``place``); ``import_layer`` does the same and then stores the layer in one
unit of work. Rows that fail their checks are imported around only when the user agrees
(``skip_invalid``); so is taking assets away from submitted proposals (``allow_unlinking``) and
data far from the city (``new_area``).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shapely.geometry.base import BaseGeometry
from sqlmodel import Session, col, select

from app.db import deferred, pinned
from app.importers import matching, place, sources
from app.importers.checks import Checker, ImportOptions, keys_usable
from app.importers.impact import ImportImpact, assess
from app.importers.lengths import SurveyedLengths
from app.importers.preview_map import MAX_FEATURES
from app.importers.report import ImportFailed, ImportReport
from app.layers.bands import scheme
from app.layers.changed_rows import StagedRows
from app.layers.store import LayerWriteError, RowMaker, finish_rows, lock_layer, write_staged
from app.settings import ImportSettings
from models.accounts import User
from models.layers import Layer

if TYPE_CHECKING:
    import httpx

Stage = Callable[[str, int, int], None]  # (stage, done, total): reading, checking, writing
PREVIEW_ROWS = 10
log = logging.getLogger(__name__)


@dataclass
class Preview:
    report: ImportReport
    columns: list[str]
    sample: list[dict[str, Any]]  # the first rows as read
    mapping: dict[str, str]
    impact: ImportImpact | None = None
    place_problem: str | None = None  # why the data is refused as out of place, when it is
    drawn: list[BaseGeometry] = field(default_factory=list)  # a sample of the checked features, for the map
    valid: int = 0  # how many features the sample is drawn from


@dataclass
class ImportResult:
    layer: Layer
    report: ImportReport
    impact: ImportImpact | None = None

    @property
    def rows_note(self) -> str | None:
        """What the write did to the layer's rows (only changed rows are written)."""
        rows = (self.layer.report or {}).get("rows")
        if not rows:
            return None
        done = [f"{rows[what]:,} {what}" for what in ("added", "changed", "removed") if rows[what]]
        unchanged = rows["unchanged"]
        if not done:
            return f"No row changed: the layer's {unchanged:,} rows were left as they were."
        said = ", ".join(done[:-1]) + (" and " if len(done) > 1 else "") + done[-1]
        if not unchanged:
            return f"Rows: {said}."
        return f"Rows: {said}; {unchanged:,} unchanged {'row was' if unchanged == 1 else 'rows were'} not rewritten."

    @property
    def links_note(self) -> str | None:
        """What the import did to proposals' assets: links now missing, links restored."""
        report = self.layer.report or {}
        missing, restored = int(report.get("proposal_links_missing", 0)), int(report.get("proposal_links_restored", 0))
        notes = []
        if missing:
            notes.append(f"{missing:,} {'asset' if missing == 1 else 'assets'} that proposals covered "
                         f"{'is' if missing == 1 else 'are'} no longer in the layer; those proposals keep what "
                         "they covered as submitted and are marked for review.")
        if restored:
            notes.append(f"{restored:,} {'asset' if restored == 1 else 'assets'} that an earlier import had "
                         "removed from proposals came back and cover those proposals again.")
        moved = int(report.get("proposal_districts_changed", 0))
        if moved:
            notes.append(f"{moved:,} {'proposal is' if moved == 1 else 'proposals are'} now in another district "
                         "(found from their assets, as a save would); nothing else about them changed.")
        return " ".join(notes) or None


def unlinking_refusal(impact: ImportImpact) -> str:
    """Why an import that takes assets away from submitted proposals needs agreement, naming them."""
    losses = impact.protected_losses
    named = "; ".join(f"“{loss.title}” ({loss.state_label.lower()}, {loss.lost:,} of {loss.covered:,})"
                      for loss in losses[:5])
    more = f" and {len(losses) - 5:,} more" if len(losses) > 5 else ""
    return (f"This import removes assets from {len(losses):,} submitted or later "
            f"{'proposal' if len(losses) == 1 else 'proposals'}: {named}{more}. Nothing was written. If that is "
            "right, confirm it (--allow-unlinking on the command line, or the confirmation on the preview); "
            "the proposals keep what they covered as submitted.")


@dataclass
class Staged:
    """A source read, checked and staged (``_stage_source``): the rows are in ``stage``, not in memory."""

    report: ImportReport
    columns: list[str]
    sample: list[dict[str, Any]]
    mapping: dict[str, str]
    rows: StagedRows
    place: place.PlaceTally
    maker: RowMaker
    compared: set[str]  # the fields the records have
    matched_by_geometry: int = 0


def _stage_source(session: Session, staged: StagedRows, source: str, options: ImportOptions, *,
                  settings: ImportSettings, work_dir: Path, transport: httpx.BaseTransport | None,
                  stage: Stage | None, name: str | None) -> Staged:
    """Read the source a batch at a time, check each batch and stage its valid rows in the scratch table (which
    the caller drops), then settle the rows' keys: the source's ids when they tell features apart, else the
    stored assets' they match by geometry (or their geometry's), else (boundaries, addresses) numbers."""
    if options.band_scheme is not None:
        try:
            scheme(options.band_scheme)
        except ValueError as error:
            raise ImportFailed(str(error)) from error
    kind = options.kind
    if stage:
        stage("reading", 0, 1)
    with sources.open_source(source, work_dir=work_dir, settings=settings, layer=options.layer, transport=transport,
                             name=name, batch_size=sources.BATCH) as table:
        if stage:
            stage("reading", 1, 1)
        checker = Checker(table, options, progress=(lambda done, total: stage("checking", done, total))
                          if stage else None)
        report = checker.report
        lengths = SurveyedLengths(kind, checker.mapping, checker.crs, options.length_units, report)
        where = place.PlaceTally(session, kind)
        maker = RowMaker(session, kind, options.band_scheme)
        sample: list[dict[str, Any]] = []
        for batch in table.batches:
            if len(sample) < PREVIEW_ROWS:
                sample += batch.rows[:PREVIEW_ROWS - len(sample)]
            records = checker.check(batch)
            lengths.apply(records)
            where.add(records)
            staged.add(*maker.rows(records))
            del records
        checker.finish()
    if not report.rows_read:
        raise ImportFailed(f"{table.name} has no features; nothing was changed.", report)
    keyed = keys_usable(staged.key_counts(), checker.mapping.get("source_id"), report)
    lengths.finish(keyed=keyed)
    # what the records hold once their surveyed lengths are stored (the impact compares those fields)
    compared = checker.fields_seen - {"length"} | ({"length_m"} if lengths.measured else set())
    result = Staged(report, table.columns, sample, checker.mapping, staged, where, maker, compared)
    if not keyed:  # every row's key is given again: the matched asset's, its geometry's, or a number
        if kind.is_asset:
            result.matched_by_geometry = matching.match_staged(staged, append=options.append)
        else:  # boundaries and addresses: numbered, not matched
            stem = table.name.rsplit("/", 1)[-1].rsplit(".", 1)[0][:100]
            staged.query("UPDATE {stage} SET source_id = :stem || '#' || CAST(ord + 1 AS TEXT)", stem=stem)
        staged.analyze()
    return result


def _assess(session: Session, staged: Staged, options: ImportOptions) -> ImportImpact:
    """The kept row ids, then the impact: call it in the unit of work that writes (the layer as it is then)."""
    finish_rows(session, options.kind, staged.rows)
    staged.rows.keep_row_ids()
    impact = assess(session=session, kind=options.kind, stage=staged.rows, compared=staged.compared,
                    append=options.append, matched_by_geometry=staged.matched_by_geometry)
    if impact.matched_by_geometry:
        staged.report.note(f"{impact.matched_by_geometry:,} features were matched to the current layer by geometry.")
    return impact


def _drop(session: Session, stage: StagedRows) -> None:
    """Drop the scratch table, whatever happened before (a failed unit of work is rolled back first)."""
    try:
        session.rollback()
        with deferred(session):  # temporary tables: no need of SQLite's write lock
            stage.drop()
            session.commit()
    except Exception:  # the connection is gone: so is its scratch table
        session.rollback()
        log.warning("could not drop an import's scratch table", exc_info=True)


def _band_scheme(session: Session, options: ImportOptions) -> None:
    """A re-import keeps the layer's band scheme unless another one is asked for. The session's reads end
    here: no transaction (on SQLite, no write lock) spans reading the file that comes next."""
    if options.band_scheme is None:
        layer = session.get(Layer, options.kind.value)
        options.band_scheme = layer.band_scheme if layer is not None else None
    session.commit()


def preview(source: str, options: ImportOptions, *, settings: ImportSettings, work_dir: Path,
            session: Session, transport: httpx.BaseTransport | None = None, name: str | None = None,
            new_area: bool = False, stage: Stage | None = None) -> Preview:
    """What an import would do, without writing anything: the checks, what it does to the layer and its
    proposals, and whether the data lies where the city is. The session is left with its reads ended."""
    _band_scheme(session, options)
    with pinned(session) as held, deferred(held):  # nothing is written but the connection's scratch tables
        scratch = StagedRows(held, options.kind)
        try:
            staged = _stage_source(held, scratch.create(), source, options, settings=settings, work_dir=work_dir,
                                   transport=transport, stage=stage, name=name)
            result = Preview(staged.report, staged.columns, staged.sample, staged.mapping)
            if stage:
                stage("comparing", 0, 1)  # with the stored layer and the proposals
            try:
                staged.place.check(report=staged.report, new_area=new_area)
            except ImportFailed as problem:
                result.place_problem = str(problem)
            staged.maker.relocate(scratch)
            result.impact = _assess(held, staged, options)
            result.drawn, result.valid = scratch.sample(MAX_FEATURES), scratch.count
        finally:
            _drop(held, scratch)
    return result


def import_layer(*, session: Session, source: str, options: ImportOptions, actor: User | None,
                 settings: ImportSettings, work_dir: Path | None = None,
                 transport: httpx.BaseTransport | None = None, stage: Stage | None = None,
                 name: str | None = None, allow_unlinking: bool = False, expected_unlinking: int | None = None,
                 new_area: bool = False, on_written: Callable[[ImportResult], None] | None = None) -> ImportResult:
    """Import ``source`` as the ``options.kind`` layer: all of it, or nothing (raises ImportFailed).
    ``name`` is the source as the layer records it (default: the URL or file name); ``on_written`` runs in
    the layer's own unit of work, before it commits (a job records its outcome there).

    The rows are staged as they are checked, in a scratch table on one connection (``app.db.pinned``: a job's
    progress commits meanwhile); on SQLite staging leaves the database's write lock free (``app.db.deferred``), and
    the unit of work that compares and writes takes it (BEGIN IMMEDIATE, whatever the session).

    When the import would take assets away from submitted (or later) proposals it is refused unless
    ``allow_unlinking``; ``expected_unlinking`` (the count the user saw and agreed to) must then
    still be the count. Data mostly outside the city is refused unless ``new_area``."""
    _band_scheme(session, options)
    with pinned(session) as held:
        scratch = StagedRows(held, options.kind)
        try:
            with deferred(held), tempfile.TemporaryDirectory(prefix="groundwork-import-") as directory:
                staged = _stage_source(held, scratch.create(), source, options, settings=settings,
                                       work_dir=work_dir or Path(directory), transport=transport, stage=stage,
                                       name=name)
                held.commit()  # staged: on SQLite the write lock is taken from here on (BEGIN IMMEDIATE), not before
            with deferred(held, write=True):
                return _write(held, staged, options, actor=actor, stage=stage, allow_unlinking=allow_unlinking,
                              expected_unlinking=expected_unlinking, new_area=new_area, on_written=on_written)
        finally:
            _drop(held, scratch)


def _write(session: Session, staged: Staged, options: ImportOptions, *, actor: User | None, stage: Stage | None,
           allow_unlinking: bool, expected_unlinking: int | None, new_area: bool,
           on_written: Callable[[ImportResult], None] | None) -> ImportResult:
    report = staged.report
    if report.rejected_count and not options.skip_invalid:
        shown = "; ".join(str(p) for p in report.rejected[:10])
        more = f" (and {report.rejected_count - 10} more)" if report.rejected_count > 10 else ""
        raise ImportFailed(
            f"{report.rejected_count} of {report.rows_read} rows cannot be imported: {shown}{more}. Nothing was "
            f"written. Fix them, or import the {report.valid} valid rows and skip these "
            "(--skip-invalid, or the checkbox on the preview).", report)
    if not staged.rows.count:
        raise ImportFailed(f"None of the {report.rows_read} rows of {report.source} can be imported; "
                           "nothing was changed.", report)
    if report.rejected_count:
        report.note(f"{report.rejected_count} rows were skipped at the importer's request.")
    staged.place.check(report=report, new_area=new_area)
    if stage:  # before the impact: what it finds and the write are one unit of work (a job's progress commits)
        stage("writing", 0, 1)
    lock_layer(session, options.kind)  # another import of this layer waits until this one commits
    staged.maker.relocate(staged.rows)  # a boundary import committed while the file was checked
    impact = _assess(session, staged, options)
    if impact.needs_agreement:
        if not allow_unlinking:
            raise ImportFailed(unlinking_refusal(impact), report)
        if expected_unlinking is not None and expected_unlinking != impact.needs_agreement:
            raise ImportFailed(f"The layer or the proposals changed since the preview: this import now removes "
                               f"assets from {impact.needs_agreement:,} submitted or later proposals, not "
                               f"{expected_unlinking:,}. Nothing was written; check the preview again.", report)
    try:
        layer = write_staged(session=session, kind=options.kind, stage=staged.rows, source=report.source,
                             actor=actor, mode="append" if options.append else "replace",
                             source_crs=report.crs, field_map=staged.mapping, band_scheme=options.band_scheme,
                             report={**report.as_dict(), "impact": _summary(impact)},
                             before_commit=(lambda stored: on_written(ImportResult(stored, report, impact)))
                             if on_written else None)
    except (LayerWriteError, ValueError) as error:
        raise ImportFailed(str(error), report) from error
    if stage:
        stage("writing", 1, 1)
    return ImportResult(layer, report, impact)


def _summary(impact: ImportImpact) -> dict[str, Any]:
    """What the layer's stored report keeps of the impact (the proposals by id, not their titles)."""
    summary = impact.as_dict()
    summary["losing"] = [{"id": loss.id, "state": loss.state, "lost": loss.lost} for loss in impact.losing]
    return summary


def layers(*, session: Session) -> list[tuple[Layer, str | None]]:
    """Every loaded layer with the name of who imported it."""
    rows = session.exec(select(Layer, User.display_name).join(User, col(Layer.imported_by_id) == User.id,
                                                              isouter=True).order_by(col(Layer.kind)))
    return [(layer, name) for layer, name in rows]
