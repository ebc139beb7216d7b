"""Rendered tiles on disk, shared by every worker (``settings.tiles.cache_dir``).

A tile's file is ``<dir>/<database>/<layer>/<version tag>/<encoder>/<z>/<x>/<y>.mvt``: the database
(a hash of its URL, so two databases never share files), the layer's version (its revision and the
database's random key for it: app/tiles/versions.py), the encoder and its settings. A new revision
is a new directory, so an import invalidates exactly its layer's tiles and nothing is ever read
from an older revision; the older directories are removed when a worker first sees the new one.
Files are written to a temporary name and renamed, so a reader sees a whole tile or none.
An empty file is a tile with no features (204).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from sqlalchemy.engine import Engine

from app.tiles.grid import TileAddress

log = logging.getLogger(__name__)


class TileCache:
    def __init__(self, directory: str, engine: Engine) -> None:
        url = engine.url.render_as_string(hide_password=True)
        self.root = Path(directory) / hashlib.sha256(url.encode()).hexdigest()[:12]

    def path(self, *, layer_id: str, tag: str, encoder: str, address: TileAddress) -> Path:
        return self.root / layer_id / tag / encoder / str(address.z) / str(address.x) / f"{address.y}.mvt"

    @staticmethod
    def get(path: Path) -> bytes | None:
        try:
            with open(path, "rb") as file:
                return file.read()
        except OSError:
            return None

    @staticmethod
    def put(path: Path, content: bytes) -> None:
        """Store a tile; a full disk or a read-only directory only costs the cache, never the answer."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tile-")
            os.fchmod(handle, 0o644)  # a public tile, readable by a web server in front (docs/DEPLOY.md)
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.replace(temporary, path)
        except OSError as error:
            log.warning("Could not cache tile %s: %s", path, error)

    def prune(self, *, layer_id: str, keep: str) -> None:
        """Remove a layer's tiles of every version but ``keep`` (in the background)."""
        layer_dir = self.root / layer_id
        try:
            old = [entry for entry in layer_dir.iterdir() if entry.name != keep and not entry.name.startswith(".")]
        except OSError:
            return
        doomed = []
        for entry in old:
            target = layer_dir / f".old-{entry.name}-{os.getpid()}-{threading.get_ident()}"
            try:
                entry.rename(target)  # at once: no reader finds a half-removed directory
                doomed.append(target)
            except OSError:
                continue  # another worker is removing it
        if doomed:
            threading.Thread(target=_remove_all, args=(doomed,), name="tile-cache-prune", daemon=True).start()


def _remove_all(directories: list[Path]) -> None:
    for directory in directories:
        shutil.rmtree(directory, ignore_errors=True)
