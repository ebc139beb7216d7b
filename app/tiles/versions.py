"""Each layer's current version, known without a database query per tile request.

A layer's version is its revision and the random ``tile_key`` the database gives every new revision
(migration 0013): together they name one state of the layer's data, so cached tiles and immutable
tile URLs keyed by them are never confused with another state's, even after the database is
recreated or restored.

Each app (worker) keeps the versions in memory and reads them again (one small query) only when
something says they may have changed:

- a session in this process flushed or committed a ``Layer`` (SQLAlchemy events);
- PostGIS: ``NOTIFY groundwork_layers``, sent by the layer table's trigger at commit, heard by a
  listener thread; while the listener is not connected, every request reads the versions;
- SpatiaLite: the header of the database's wal-index changed (``_WalIndex``): SQLite rewrites it
  in the same step that makes a commit visible to readers, in shared memory that every process
  maps (the ``-shm`` file; https://www.sqlite.org/walformat.html), so a commit by any process is
  seen by the next request, with no system call (a comparison of 96 bytes). Where there is no
  wal-index to map (not in WAL mode, not a file, or it cannot be opened), the database file or
  its write-ahead log changed instead (size or mtime: one ``stat`` each);
- at the latest ``revision_ttl_s`` after the last read, as a safety net.

On SpatiaLite, a session's transaction keeps the snapshot of its first read; versions read through
a session that had already begun are returned to it but not kept for other requests (they may be
older than the change check taken now): when the kept ones are stale they are read again on a
connection of their own.
"""

from __future__ import annotations

import itertools
import logging
import mmap
import os
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from models.layers import Layer

CHANNEL = "groundwork_layers"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayerVersion:
    revision: int
    key: str | None

    @cached_property  # asked for on every tile request
    def tag(self) -> str:
        """What tile URLs and cache entries carry, e.g. ``12-3f9a0c5e1b2d``."""
        return f"{self.revision}-{self.key}" if self.key else str(self.revision)


NO_LAYER = LayerVersion(0, None)

# Layer rows flushed in this process: every LayerVersions re-reads after the counter moves.
_local_changes = itertools.count(1)
_local_generation = 0


def _note_local_change() -> None:
    global _local_generation
    _local_generation = next(_local_changes)


@event.listens_for(OrmSession, "after_flush")
def _after_flush(session: OrmSession, _context: Any) -> None:
    if any(isinstance(obj, Layer) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["layers_changed"] = True
        _note_local_change()


@event.listens_for(OrmSession, "after_commit")
def _after_commit(session: OrmSession) -> None:
    if session.info.pop("layers_changed", False):
        _note_local_change()  # again: a read between the flush and the commit saw the old row


class LayerVersions:
    """The versions of every layer, for one app; thread-safe."""

    def __init__(self, engine: Engine, *, ttl_s: float) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._versions: dict[str, LayerVersion] = {}
        self._read_at = -float("inf")
        self._local_seen = -1
        self._signal = 0  # bumped by the listener
        self._signal_seen = -1
        self._sqlite = engine.dialect.name == "sqlite"
        self._files = _database_files(engine)
        self._wal_index: _WalIndex | None = None  # opened by the first read; else the files are stat'ed
        self._wal_index_tried = False
        self._file_state: Any = None  # the wal-index header or the files' state at the last read
        self._lock = threading.Lock()
        self._listener: _Listener | None = None
        self._closed = False

    def fresh(self) -> dict[str, LayerVersion] | None:
        """The versions if nothing says they may have changed (no I/O; no wal-index: a ``stat``), else None."""
        if (self._local_seen != _local_generation or time.monotonic() - self._read_at > self._ttl_s):
            return None
        if self._sqlite:
            if (wal_index := self._wal_index) is not None:
                if (header := wal_index.header()) is None or header != self._file_state:
                    return None
            elif self._files is None or _file_state(self._files) != self._file_state:
                return None
        else:
            listener = self._ensure_listener()
            if not listener.connected or self._signal != self._signal_seen:
                return None
        return self._versions

    def current(self, session: Session) -> dict[str, LayerVersion]:
        fresh = self.fresh()
        return fresh if fresh is not None else self.read(session)  # no layers yet is an answer too

    def read(self, session: Session) -> dict[str, LayerVersion]:
        """Read the versions from the database (through ``session``: it sees what the request sees)."""
        if self._sqlite and session.in_transaction():
            versions = _query(session)  # from the transaction's snapshot, perhaps older than a check now
            if self._files is not None and self.fresh() is None:
                with self._engine.connect() as connection:
                    self._read_and_keep(connection)
            return versions
        return self._read_and_keep(session)

    def _read_and_keep(self, reader: Session | Connection) -> dict[str, LayerVersion]:
        """Read and keep the versions; every check is taken before the read's snapshot begins."""
        if self._sqlite and not self._wal_index_tried:
            self._open_wal_index()
        local, signal = _local_generation, self._signal
        file_state: Any = None
        if (wal_index := self._wal_index) is not None:
            file_state = wal_index.header()
        elif self._files:
            file_state = _file_state(self._files)
        versions = _query(reader)
        with self._lock:
            self._versions = versions
            self._read_at = time.monotonic()
            self._local_seen, self._signal_seen, self._file_state = local, signal, file_state
        return versions

    def _open_wal_index(self) -> None:
        with self._lock:
            if not self._wal_index_tried and not self._closed and self._files is not None:
                self._wal_index = _WalIndex.open(self._engine, self._files[0])
            self._wal_index_tried = True

    def of(self, versions: dict[str, LayerVersion], layer_id: str) -> LayerVersion:
        return versions.get(layer_id, NO_LAYER)

    def changed(self) -> None:
        """Called by the listener: the next request reads the versions again."""
        self._signal += 1

    def _ensure_listener(self) -> _Listener:
        if self._listener is None:
            with self._lock:
                if self._listener is None and not self._closed:
                    self._listener = _Listener(self._engine, self)
                    self._listener.start()
        return self._listener or _Listener.disconnected()

    def close(self) -> None:
        self._closed = True
        if self._listener is not None:
            self._listener.stop()
        with self._lock:
            wal_index, self._wal_index = self._wal_index, None
        if wal_index is not None:
            wal_index.close()


def _query(reader: Session | Connection) -> dict[str, LayerVersion]:
    rows = reader.execute(select(Layer.kind, Layer.revision, Layer.tile_key)).all()  # type: ignore[call-overload]
    return {kind: LayerVersion(int(revision or 0), key) for kind, revision, key in rows}


def _database_files(engine: Engine) -> tuple[str, str] | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None  # no file to watch: read on every request
    return database, database + "-wal"


def _file_state(files: tuple[str, ...]) -> tuple[Any, ...]:
    state: list[Any] = []
    for path in files:
        try:
            info = os.stat(path)
            state.append((info.st_ino, info.st_size, info.st_mtime_ns))
        except FileNotFoundError:
            state.append(None)
    return tuple(state)


class _WalIndex:
    """The header of a SQLite database's wal-index, mapped read-only from its ``-shm`` file.

    The header's first 96 bytes are two copies of the 48-byte ``WalIndexHdr`` (change counter,
    last valid frame, salts, checksum). A writer rewrites both as the last step of every commit
    (copy 2, then copy 1); a reader's transaction sees exactly the commits the header holds when
    it begins. So if the bytes equal those taken before a read began, no commit has become visible
    since. Checkpoints do not touch them; resetting the log (the first commit after a complete
    checkpoint) rewrites them (one needless read). The ``-shm`` file keeps its identity only while
    a connection is open (the last one to close removes it), so this holds one open for its life;
    holding it open does not hold back checkpoints (it has no transaction).
    """

    SIZE = 96

    def __init__(self, connection: Any, header: mmap.mmap) -> None:
        self._connection, self._map = connection, header

    @classmethod
    def open(cls, engine: Engine, database: str) -> _WalIndex | None:
        """The wal-index of ``database`` (a file in WAL mode), or None: then the files are stat'ed."""
        connection = None
        try:
            connection = engine.raw_connection()  # with the engine's own SQLite library and pragmas
            connection.detach()  # out of the pool: open for as long as the map is used
            cursor = connection.cursor()
            mode = cursor.execute("PRAGMA journal_mode").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise OSError("the database is not in WAL mode")
            cursor.execute("SELECT count(*) FROM sqlite_master")  # maps the wal-index for this connection
            cursor.fetchall()
            cursor.close()
            with open(database + "-shm", "rb") as file:
                header = mmap.mmap(file.fileno(), cls.SIZE, access=mmap.ACCESS_READ)
        except Exception as error:
            log.info("Layer changes on %s are checked by stat, not the wal-index: %s", database, error)
            if connection is not None:
                connection.close()
            return None
        return cls(connection, header)

    def header(self) -> bytes | None:
        try:
            return self._map[: self.SIZE]
        except ValueError:  # closed meanwhile: never equal to a header taken before
            return None

    def close(self) -> None:
        self._map.close()
        self._connection.close()


class _Listener:
    """A thread holding one PostgreSQL connection that LISTENs on ``groundwork_layers``."""

    def __init__(self, engine: Engine | None, versions: LayerVersions | None) -> None:
        self._engine, self._versions = engine, versions
        self.connected = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="layer-versions", daemon=True)

    @classmethod
    def disconnected(cls) -> _Listener:
        return cls(None, None)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        assert self._engine is not None and self._versions is not None
        url = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._versions.changed()  # anything before the LISTEN: read once more
                    self.connected = True
                    while not self._stop.is_set():
                        for _ in connection.notifies(timeout=1.0, stop_after=1):
                            self._versions.changed()
            except Exception as error:  # the server restarted, the network dropped: read per request until back
                log.warning("Layer change listener disconnected (%s); retrying.", error)
            finally:
                self.connected = False
                self._versions.changed()
            self._stop.wait(1.0)
