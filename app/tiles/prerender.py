"""Drawing a layer's low zooms into the disk cache as soon as a worker sees a new version of it.

An import (or a boundary re-import, which bumps other layers' revisions too) makes every cached tile
of the layer a new version: without this, the first residents after it draw the low zooms — the
biggest tiles, z10–z13 of pavement — on their own requests. ``TileServer.read`` queues each layer it
sees at a new version (on a worker's first read too, so a server started on a cache without the
current version's low zooms fills them); one daemon thread per ``TileServer`` then draws every tile
from the layer's min zoom up to ``settings.tiles.prerender_max_zoom`` over the layer's extent (the
``layer`` row), lowest zoom first, skipping tiles already cached.

- Only one worker does it: a non-blocking ``flock`` on ``.prerender-<encoder>.lock`` in the version's
  directory; a worker that cannot take it skips, and a ``.done`` file beside it makes a worker that
  sees the version later skip too. Both go with the version's directory when it is pruned.
- Never a tile of other data under the version: each tile is drawn by ``TileServer.prerender_tile``,
  which files it only under the version it was drawn from (one statement on PostGIS; on SpatiaLite
  the version is read in the tile's own read transaction, whose snapshot the drawing shares). When
  the layer has moved on (a newer import), the rest of the job is dropped: the newer version is
  queued instead.
- At most ``MAX_TILES`` per layer version: a zoom that would pass it is left to requests (a layer
  whose extent covers a region rather than a city).
- Failures are logged as warnings; requests never wait for this thread, and ``close`` stops it.
"""

from __future__ import annotations

import fcntl
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from app.tiles.grid import TileAddress
from app.tiles.versions import LayerVersion

log = logging.getLogger(__name__)

MAX_TILES = 1000  # per layer version
MAX_LATITUDE = 85.0511287798066

Bounds = tuple[float, float, float, float]  # west, south, east, north (WGS84)


def tile_range(bounds: Bounds, z: int) -> tuple[range, range]:
    """The x and y of the tiles at zoom ``z`` that cover ``bounds``."""
    west, south, east, north = bounds
    n = 2**z

    def column(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))

    def row(lat: float) -> int:
        lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
        return min(n - 1, max(0, int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)))

    return range(column(west), column(east) + 1), range(row(north), row(south) + 1)


def covering(bounds: Bounds, zooms: range, *, limit: int = MAX_TILES) -> Iterator[TileAddress]:
    """The tiles over ``bounds`` at each of ``zooms``, lowest first, up to the last whole zoom within ``limit``."""
    total = 0
    for z in zooms:
        xs, ys = tile_range(bounds, z)
        total += len(xs) * len(ys)
        if total > limit:
            return
        for x in xs:
            for y in ys:
                yield TileAddress(z, x, y)


class Prerender:
    """One server's queue of (layer, version) to pre-render and the thread that works through it.

    ``extent(layer_id, version)`` gives the layer's bounds if it is still at ``version`` (else None);
    ``draw(layer_id, version, address)`` draws and caches one tile, False when the layer has moved on;
    ``tile_path(layer_id, version, address)`` is where the tile is cached.
    """

    def __init__(self, *, root: Path, encoder: str, max_zoom: int, min_zoom: Callable[[str], int | None],
                 extent: Callable[[str, LayerVersion], Bounds | None],
                 draw: Callable[[str, LayerVersion, TileAddress], bool],
                 tile_path: Callable[[str, LayerVersion, TileAddress], Path]) -> None:
        self.root, self.encoder, self.max_zoom = root, encoder, max_zoom
        self._min_zoom, self._extent, self._draw, self._tile_path = min_zoom, extent, draw, tile_path
        self._pending: dict[str, LayerVersion] = {}
        self._latest: dict[str, str] = {}  # each layer's newest version seen, by tag
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = False
        self.drawn = 0  # tiles this server drew

    def queue(self, layer_id: str, version: LayerVersion) -> None:
        """Pre-render the layer at ``version`` (a version queued later replaces it if not begun yet)."""
        with self._wake:
            if self._stop.is_set() or self._latest.get(layer_id) == version.tag:
                return  # stopping, or this version is already queued, done or being drawn here
            self._latest[layer_id] = version.tag
            self._pending[layer_id] = version
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tile-prerender", daemon=True)
                self._thread.start()
            self._wake.notify()

    def idle(self) -> bool:
        """Nothing queued and nothing being drawn."""
        with self._wake:
            return not self._pending and not self._busy

    def close(self) -> None:
        with self._wake:
            self._stop.set()
            self._pending.clear()
            self._wake.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _current(self, layer_id: str, version: LayerVersion) -> bool:
        return not self._stop.is_set() and self._latest.get(layer_id) == version.tag

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._stop.is_set():
                    self._wake.wait()
                if self._stop.is_set():
                    return
                layer_id = next(iter(self._pending))
                version = self._pending.pop(layer_id)
                self._busy = True
            try:
                self._prerender(layer_id, version)
            except Exception as error:  # a database that went away, a full disk: requests draw instead
                log.warning("Pre-rendering %s tiles at version %s failed: %s", layer_id, version.tag, error)
            finally:
                with self._wake:
                    self._busy = False

    def _prerender(self, layer_id: str, version: LayerVersion) -> None:
        min_zoom = self._min_zoom(layer_id)
        if min_zoom is None or min_zoom > self.max_zoom or not self._current(layer_id, version):
            return
        directory = self.root / layer_id / version.tag
        done = directory / f".prerender-{self.encoder}.done"
        if done.exists():
            return
        bounds = self._extent(layer_id, version)
        if bounds is None:  # no features, or already another version
            return
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / f".prerender-{self.encoder}.lock", "a+b") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.debug("Another worker pre-renders %s at version %s", layer_id, version.tag)
                return
            if done.exists():  # finished by another worker meanwhile
                return
            started, drawn = time.monotonic(), 0
            for address in covering(bounds, range(min_zoom, self.max_zoom + 1)):
                if not self._current(layer_id, version):
                    return  # stopping, or a newer version came: it is queued
                if self._tile_path(layer_id, version, address).exists():
                    continue
                if not self._draw(layer_id, version, address):
                    return  # the layer moved on while drawing
                drawn += 1
                self.drawn += 1
            done.touch()
            log.info("Pre-rendered %d %s tiles up to zoom %d at version %s in %.1f s", drawn, layer_id,
                     self.max_zoom, version.tag, time.monotonic() - started)
