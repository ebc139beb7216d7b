"""Exporting one dataset in one format: what to send, its ETag and file name, and the bytes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from app.opendata import formats
from app.opendata.formats import ExportFormat, ExportHeader
from app.opendata.registry import Dataset, DatasetState, get_dataset


class DatasetNotLoaded(LookupError):
    pass


@dataclass(frozen=True)
class ExportPlan:
    dataset: Dataset
    state: DatasetState
    format: ExportFormat

    @property
    def etag(self) -> str:
        """Weak: the same data, not necessarily the same bytes (GeoPackages carry timestamps).
        The revision alone is not enough after a restore, so the update time is part of it."""
        stamp = int(self.state.modified.timestamp()) if self.state.modified else 0
        return f'W/"{self.dataset.id}-r{self.state.revision}-{stamp:x}-{self.format.value}"'

    @property
    def filename(self) -> str:
        return f"groundwork-{self.dataset.id}-r{self.state.revision}.{self.format.value}"


def plan_export(*, session: Session, dataset_id: str, export_format: ExportFormat) -> ExportPlan:
    """Raises UnknownDataset, or DatasetNotLoaded when there is nothing to download yet."""
    dataset = get_dataset(dataset_id)
    state = dataset.state(session)
    if state is None or state.feature_count == 0:
        raise DatasetNotLoaded(f"{dataset.title} is not loaded yet; there is nothing to download.")
    return ExportPlan(dataset, state, export_format)


def _header(plan: ExportPlan, session: Session) -> ExportHeader:
    return ExportHeader(name=plan.dataset.id, title=plan.dataset.title, columns=plan.dataset.columns(session),
                        geometry_type=plan.dataset.geometry_type)


def text_chunks(*, session: Session, plan: ExportPlan) -> Iterator[str]:
    """GeoJSON or CSV text, batch by batch."""
    header = _header(plan, session)
    features = plan.dataset.features(session)
    if plan.format is ExportFormat.geojson:
        return formats.geojson_chunks(header, features)
    if plan.format is ExportFormat.csv:
        return formats.csv_chunks(header, features)
    raise ValueError(f"{plan.format.label} is a file format, not text")


def write_file(*, session: Session, plan: ExportPlan, path: Path) -> None:
    """Write the export to ``path`` (any format), atomically: a partial file never appears there."""
    directory = path.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=directory)
    os.close(fd)
    try:
        if plan.format is ExportFormat.gpkg:
            os.unlink(temporary)  # GDAL creates the GeoPackage itself
            formats.write_gpkg(Path(temporary), _header(plan, session), plan.dataset.features(session))
        else:
            with open(temporary, "w", encoding="utf-8", newline="") as out:
                for chunk in text_chunks(session=session, plan=plan):
                    out.write(chunk)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def gpkg_tempfile(*, session: Session, plan: ExportPlan) -> Path:
    """A GeoPackage in a new temporary file; the caller removes it after sending."""
    directory = Path(tempfile.mkdtemp(prefix="groundwork-export-"))
    path = directory / plan.filename
    try:
        write_file(session=session, plan=plan, path=path)
    except BaseException:
        remove_tempfile(path)
        raise
    return path


def remove_tempfile(path: Path) -> None:
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()
