"""The hottest tiles in each worker's memory, with their answers' headers ready to send.

Keyed like the disk cache by the layer's version tag (its revision and the database's random key
for it: app/tiles/versions.py), the encoder and the address, so a tile drawn from one version is
never found under another: after an import, the new version's tag finds nothing until its tiles
are drawn. Bounded by bytes (``settings.tiles.memory_mb``); the least recently used go first, and
a layer's older versions go as soon as the worker sees a new one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

_NOSNIFF = (b"x-content-type-options", b"nosniff")
_OVERHEAD = 400  # bytes a small entry costs beyond its body (key, headers, bookkeeping)

Key = tuple[str, str, str, int, int, int]  # layer, version tag, encoder, z, x, y


@dataclass(frozen=True, slots=True)
class HotTile:
    """One tile's body and the header lists of its answers (HTTP 200/204, or 304)."""

    etag: str
    body: bytes
    revisioned: list[tuple[bytes, bytes]]  # asked with its version in the URL: immutable
    plain: list[tuple[bytes, bytes]]  # asked without: revalidated after max-age
    revisioned_304: list[tuple[bytes, bytes]]
    plain_304: list[tuple[bytes, bytes]]

    @classmethod
    def of(cls, *, etag: str, body: bytes, media_type: str, cache_forever: str, cache_briefly: str) -> HotTile:
        tag = (b"etag", etag.encode())
        forever = [tag, (b"cache-control", cache_forever.encode()), _NOSNIFF]
        briefly = [tag, (b"cache-control", cache_briefly.encode()), _NOSNIFF]
        content = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())] if body else []
        return cls(etag, body, content + forever, content + briefly, forever, briefly)

    @property
    def status(self) -> int:
        return 200 if self.body else 204  # an empty tile: no features here


class TileMemory:
    """A thread-safe LRU of ``HotTile`` by key, bounded by ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._tiles: OrderedDict[Key, HotTile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Key) -> HotTile | None:
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: Key, tile: HotTile) -> None:
        size = len(tile.body) + _OVERHEAD
        if size > self.max_bytes // 4:
            return  # one huge tile would push out hundreds of small ones; the disk keeps it
        with self._lock:
            previous = self._tiles.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous.body) + _OVERHEAD
            self._tiles[key] = tile
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._tiles.popitem(last=False)
                self._bytes -= len(dropped.body) + _OVERHEAD

    def forget(self, *, layer_id: str, keep: str) -> None:
        """Drop a layer's tiles of every version but ``keep`` (the worker has seen a new version)."""
        with self._lock:
            for key in [key for key in self._tiles if key[0] == layer_id and key[1] != keep]:
                self._bytes -= len(self._tiles.pop(key).body) + _OVERHEAD

    def __len__(self) -> int:
        return len(self._tiles)
