"""One engine factory for SpatiaLite and PostGIS, and the per-request session.

SpatiaLite: a file opened through ``sqlean`` (a sqlite3 build that can load extensions),
``mod_spatialite`` loaded on every connection, WAL, foreign keys and a busy timeout.
Transactions are begun explicitly so SAVEPOINTs work (atomic imports, test isolation). A unit of work
that will write begins with ``BEGIN IMMEDIATE`` (``new_session(write=True)``, ``writing``, and every
request with an unsafe method): it takes the one write lock up front, waiting up to the busy timeout,
so what it reads stays current until it commits. A deferred ``BEGIN`` that has read cannot write once
another connection has committed meanwhile (SQLITE_BUSY_SNAPSHOT, "database is locked" at once,
whatever the busy timeout). Read-only work keeps the deferred ``BEGIN``: in WAL mode readers never
wait, and they do not hold off writers.

PostGIS: psycopg 3 with SQLAlchemy's connection pool.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import pyogrio  # noqa: F401  (must load before mod_spatialite: see _sqlite_engine)
import sqlean
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine
from starlette.requests import Request  # what fastapi.Request is, without loading FastAPI for commands

from app.settings import get_settings

WRITE = "groundwork_write"  # a connection execution option: on SQLite, begin its transactions with BEGIN IMMEDIATE
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SpatiaLiteMissing(RuntimeError):
    """mod_spatialite could not be loaded into SQLite."""


def _spatialite_help(path: str, error: Exception) -> str:
    return (
        f"Could not load the SpatiaLite extension '{path}' ({error}).\n"
        "Install it with:  sudo apt-get install libsqlite3-mod-spatialite\n"
        "or point GROUNDWORK_SPATIALITE_PATH at mod_spatialite, "
        "or use PostGIS with GROUNDWORK_DATABASE_URL=postgresql+psycopg://…"
    )


def make_engine(url: str | None = None, *, spatialite_path: str | None = None, **kwargs: Any) -> Engine:
    settings = get_settings()
    url = url or settings.database_url
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, spatialite_path or settings.spatialite_path, **kwargs)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, spatialite_path: str, **kwargs: Any) -> Engine:
    # pyogrio's bundled GDAL/PROJ is imported above, before any connection loads the system's
    # mod_spatialite: in the other order the two sets of libraries corrupt the heap and the
    # process crashes on exit (exit code 134/139 after an otherwise successful command).
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", 30)
    engine = create_engine(url, module=sqlean, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see below)
        try:
            dbapi_connection.enable_load_extension(True)
            dbapi_connection.load_extension(spatialite_path)
            dbapi_connection.enable_load_extension(False)
        except Exception as error:  # sqlean raises OperationalError with the loader's text
            raise SpatiaLiteMissing(_spatialite_help(spatialite_path, error)) from error
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if make_url(url).database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE) else "BEGIN")

    return engine


def is_sqlite(engine_or_session: Any) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "sqlite"


@lru_cache
def get_engine() -> Engine:
    return make_engine()


def new_session(engine: Engine | None = None, *, write: bool = False) -> Session:
    """A session for a command or a job; objects stay readable after commit. ``write``: every
    transaction of the session will write, so on SQLite each begins with BEGIN IMMEDIATE (holding the
    write lock until it ends: keep such a session for units of work that write, not for polling)."""
    engine = engine or get_engine()
    if write and engine.dialect.name == "sqlite":
        return Session(engine.execution_options(**{WRITE: True}), expire_on_commit=False)
    return Session(engine, expire_on_commit=False)


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """One unit of work that writes, begun here and committed at the end (rolled back on an error).
    On SQLite it begins with BEGIN IMMEDIATE, so nothing another connection commits can make what it
    reads stale; elsewhere it is a plain transaction. The session must have no transaction in progress:
    end what it read first (commit or rollback)."""
    with session.begin():
        if is_sqlite(session):
            session.connection(execution_options={WRITE: True})
        yield session


@contextmanager
def pinned(session: Session) -> Iterator[Session]:
    """A session like ``session`` (the same engine and options) that keeps one connection from start to end, so
    what lives on a connection (an import's scratch table) outlives its commits (a job's progress). A session
    already bound to a connection (a test's) is given back as it is."""
    bind = session.get_bind()
    if isinstance(bind, Connection):
        yield session
        return
    with bind.connect() as connection, Session(bind=connection, expire_on_commit=False) as held:
        yield held


@contextmanager
def deferred(session: Session, *, write: bool = False) -> Iterator[None]:
    """On SQLite, the transactions a pinned session (``pinned``) begins in here are deferred even if the session
    writes: work that writes only to its connection's temporary tables (an import's staging) does not take the
    database's write lock. With ``write`` they begin with BEGIN IMMEDIATE instead, whatever the session (the unit
    of work that compares and writes). Elsewhere, and for an unpinned session, nothing changes."""
    bind = session.get_bind()
    if not isinstance(bind, Connection) or bind.dialect.name != "sqlite":
        yield
        return
    was = bool(bind.get_execution_options().get(WRITE))
    bind.execution_options(**{WRITE: write})
    try:
        yield
    finally:
        bind.execution_options(**{WRITE: was})


def get_session(request: Request) -> Iterator[Session]:
    """The request's session, on the app's engine. Services commit their own unit of work. A request
    with an unsafe method writes, so on SQLite each of its transactions begins with BEGIN IMMEDIATE —
    when its endpoint runs in the thread pool, where waiting for the lock holds up only that request.
    An ``async`` endpoint's queries run on the event loop: waiting there would hold up every request of
    the worker, so its transactions stay deferred (a conflict is then the clear "busy, try again" answer,
    app.main). A GET's stay deferred (a GET that writes uses ``writing``)."""
    endpoint = request.scope.get("endpoint")
    write = request.method in UNSAFE_METHODS and not inspect.iscoroutinefunction(endpoint)
    with new_session(request.app.state.engine, write=write) as session:
        yield session
