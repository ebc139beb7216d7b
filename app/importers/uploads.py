"""Imports waiting for confirmation: the staff page's upload (or downloaded URL) kept on disk
between the preview and the confirm, under ``settings.imports.work_dir`` so any worker can
pick it up (nothing in process memory). Each waits in its own folder named by a random token
that only the uploader's session knows; folders older than ``work_max_age_s`` are removed.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx

from app.importers import remote
from app.importers.checks import ImportOptions
from app.importers.report import ImportFailed
from app.importers.sources import choose_data_file
from app.settings import ImportSettings
from models.layers import LayerKind

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
_CHUNK = 1 << 20


class UploadTooLarge(ImportFailed):
    pass


@dataclass
class PendingImport:
    token: str
    directory: str
    kind: str
    source: str  # a file in the folder, or the URL until it is downloaded
    name: str  # what the layer records as its source: the uploaded file's name or the URL
    uploaded_by: int | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    crs: str | None = None
    units: str | None = None
    layer: str | None = None
    append: bool = False
    band_scheme: str | None = None

    def options(self, *, skip_invalid: bool = False) -> ImportOptions:
        units = self.units if self.units in ("feet", "metres") else None
        length_units = self.units if self.units in ("feet", "metres", "miles", "kilometres") else None
        return ImportOptions(kind=LayerKind(self.kind), mapping=dict(self.mapping), constants=dict(self.constants),
                             crs=self.crs or None, units=units, length_units=length_units,  # type: ignore[arg-type]
                             layer=self.layer or None,
                             append=self.append, skip_invalid=skip_invalid, band_scheme=self.band_scheme or None)

    def save(self) -> None:
        (Path(self.directory) / "import.json").write_text(json.dumps(asdict(self)))


def start(*, settings: ImportSettings, kind: LayerKind, uploaded_by: int | None) -> PendingImport:
    """A new, empty holding folder (old ones are cleared out first)."""
    root = Path(settings.work_dir)
    root.mkdir(parents=True, exist_ok=True)
    clean_up(settings=settings)
    token = secrets.token_urlsafe(24)
    directory = root / token
    directory.mkdir(mode=0o700)
    return PendingImport(token=token, directory=str(directory), kind=kind.value, source="", name="",
                         uploaded_by=uploaded_by)


def store_files(pending: PendingImport, files: list[tuple[str, BinaryIO]], *, settings: ImportSettings) -> None:
    """Copy the uploaded files into the folder, counting bytes against the upload limit."""
    limit = settings.max_upload_mb * 1_000_000
    received = 0
    saved: list[Path] = []
    upload_dir = Path(pending.directory) / "upload"
    upload_dir.mkdir(exist_ok=True)
    for filename, stream in files:
        safe = _SAFE_NAME.sub("_", Path(filename.replace("\\", "/")).name).strip(". ") or "upload"
        target = upload_dir / safe
        with target.open("wb") as out:
            while chunk := stream.read(_CHUNK):
                received += len(chunk)
                if received > limit:
                    discard(pending)
                    raise UploadTooLarge(f"The upload is larger than the limit of {settings.max_upload_mb} MB.")
                out.write(chunk)
        saved.append(target)
    zips = [p for p in saved if p.suffix.lower() == ".zip"]
    pending.source = str(zips[0] if len(zips) == 1 and len(saved) == 1 else choose_data_file(saved, "The upload",
                                                                                              pending.layer))
    pending.name = Path(pending.source).name  # the data file (a Shapefile's .shp) or the zip


def fetch_if_remote(pending: PendingImport, *, settings: ImportSettings,
                    transport: httpx.BaseTransport | None = None) -> None:
    """Download a URL source once, so the preview and the import read the same data."""
    if pending.source.startswith(("http://", "https://")):
        path, _ = remote.fetch(pending.source, Path(pending.directory) / "download", settings=settings,
                               transport=transport)
        pending.source = str(path)
        pending.save()


def load(token: str | None, *, settings: ImportSettings) -> PendingImport | None:
    if not token or not _TOKEN.match(token):
        return None
    record = Path(settings.work_dir) / token / "import.json"
    if not record.is_file():
        return None
    return PendingImport(**json.loads(record.read_text()))


def discard(pending: PendingImport) -> None:
    shutil.rmtree(pending.directory, ignore_errors=True)


def clean_up(*, settings: ImportSettings) -> None:
    """Remove holding folders older than ``work_max_age_s``."""
    root = Path(settings.work_dir)
    cutoff = time.time() - settings.work_max_age_s
    for folder in root.iterdir() if root.is_dir() else []:
        if folder.is_dir() and _TOKEN.match(folder.name) and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
