"""Backing up and restoring the whole database, on either engine.

SpatiaLite: an online, consistent copy with SQLite's backup API (readers and writers carry
on), written beside the target and renamed into place. Restore copies the backup into a
temporary file next to the database, checks it is a Groundwork database at a schema revision
this code knows, brings it up to date, and atomically renames it over the database — after
making sure nothing has the database open (``force`` overrides that and a newer schema).

PostGIS: ``pg_dump --format=custom`` and ``pg_restore``, with the URL's credentials passed
in libpq's environment variables (never on the command line, where ``ps`` shows them).
Restore goes into a new database first; only when it is complete and checked is it renamed
over the old one, so a failed restore leaves the database as it was.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlean
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine, make_url

from app import migrate
from app.db import make_engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
_LIBPQ_QUERY = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "options": "PGOPTIONS",
                "host": "PGHOST", "port": "PGPORT", "target_session_attrs": "PGTARGETSESSIONATTRS"}


class BackupError(RuntimeError):
    """A backup or restore that could not be done; nothing was changed."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    revision: str
    size_bytes: int


@dataclass(frozen=True)
class RestoreResult:
    database: str
    backup_revision: str
    revision: str  # after bringing the schema up to date

    @property
    def upgraded(self) -> bool:
        return self.backup_revision != self.revision


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _known_revision(revision: str | None, what: str) -> str:
    if not revision:
        raise BackupError(f"{what} is not a Groundwork database (it has no schema revision).")
    try:
        found = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise BackupError(f"{what} is at schema revision {revision}, which this version of Groundwork does not know "
                          f"(its newest is {migrate.head_revision()}): it was made by a newer Groundwork.")
    return revision


def backup(*, database_url: str, destination: Path, overwrite: bool = False) -> BackupResult:
    """Write a consistent copy of the running database to ``destination``."""
    url = make_url(database_url)
    destination = destination.resolve()
    if destination.exists() and not overwrite:
        raise BackupError(f"{destination} already exists; choose another file name (or overwrite it with --force).")
    if not destination.parent.is_dir():
        raise BackupError(f"The folder {destination.parent} does not exist.")
    if _is_sqlite(url):
        return _backup_sqlite(url, destination)
    return _backup_postgres(url, destination)


def restore(*, database_url: str, source: Path, force: bool = False) -> RestoreResult:
    """Replace the database with the backup in ``source``, all or nothing."""
    url = make_url(database_url)
    if not source.is_file():
        raise BackupError(f"There is no backup file {source}.")
    with source.open("rb") as handle:
        magic = handle.read(16)
    if _is_sqlite(url):
        if magic.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{source} is a PostGIS backup (pg_dump); this database is SpatiaLite.")
        if magic != SQLITE_MAGIC:
            raise BackupError(f"{source} is not a SpatiaLite database file.")
        return _restore_sqlite(url, source.resolve(), force)
    if magic == SQLITE_MAGIC:
        raise BackupError(f"{source} is a SpatiaLite backup; this database is PostGIS.")
    if not magic.startswith(PG_DUMP_MAGIC):
        raise BackupError(f"{source} is not a pg_dump custom-format backup (groundwork backup makes them).")
    return _restore_postgres(url, source.resolve(), force)


# --- SpatiaLite -------------------------------------------------------------------------------

def _sqlite_path(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise BackupError("An in-memory database cannot be backed up or restored.")
    return Path(url.database).resolve()


def _sqlite_revision(connection: Any) -> str | None:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "alembic_version" not in tables or "layer" not in tables:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _temporary_beside(path: Path, purpose: str) -> Path:
    return path.with_name(f".{path.name}.{purpose}-{uuid.uuid4().hex[:8]}")


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _backup_sqlite(url: URL, destination: Path) -> BackupResult:
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    temporary = _temporary_beside(destination, "backup")
    try:
        with closing(sqlean.connect(str(source), timeout=30)) as live:
            revision = _known_revision(_sqlite_revision(live), str(source))
            with closing(sqlean.connect(str(temporary))) as copy:
                live.backup(copy)  # page by page, consistent, while the app keeps running
                copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
                if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise BackupError("The copy failed its integrity check; no backup was written.")
        os.replace(temporary, destination)
    except sqlean.Error as error:
        raise BackupError(f"Could not copy {source}: {error}") from error
    finally:
        _remove_sqlite_files(temporary)
    return BackupResult(destination, revision, destination.stat().st_size)


def _restore_sqlite(url: URL, source: Path, force: bool) -> RestoreResult:
    target = _sqlite_path(url)
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    temporary = _temporary_beside(target, "restore")
    try:
        try:
            with closing(sqlean.connect(f"file:{quote(str(source))}?mode=ro", uri=True)) as backup_file, \
                    closing(sqlean.connect(str(temporary))) as copy:
                backup_file.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
                if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise BackupError(f"{source} is damaged (it fails SQLite's integrity check).")
                backup_revision = _known_revision(_sqlite_revision(copy), str(source))
        except sqlean.DatabaseError as error:
            raise BackupError(f"{source} cannot be read as a SQLite database: {error}") from error
        if backup_revision != migrate.head_revision():
            migrate.upgrade(f"sqlite:///{temporary}")
        _check_sqlite_target(target, force)
        os.replace(temporary, target)
        for suffix in ("-wal", "-shm"):  # only left when --force replaced a database in use
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    finally:
        _remove_sqlite_files(temporary)
    return RestoreResult(str(target), backup_revision, migrate.head_revision() or backup_revision)


def _check_sqlite_target(target: Path, force: bool) -> None:
    """Refuse (unless forced) to replace a database that is in use, is not Groundwork's, or has a newer
    schema. Switching it out of WAL needs every other connection closed, so it tells us."""
    if not target.exists():
        return
    try:
        with closing(sqlean.connect(str(target), timeout=1)) as current:
            revision = _sqlite_revision(current)
            if not force:
                if revision is None and target.stat().st_size > 0:
                    raise BackupError(f"{target} is not a Groundwork database; use --force to replace it anyway.")
                if revision is not None:
                    try:
                        _known_revision(revision, f"The database {target}")
                    except BackupError as error:
                        raise BackupError(f"{error} Restoring an older backup over it needs --force.") from None
            mode = current.execute("PRAGMA journal_mode = DELETE").fetchone()[0]  # last: it is being replaced
    except sqlean.Error as error:
        if force:
            return
        raise BackupError(f"The database {target} is in use ({error}). Stop Groundwork first, "
                          "or use --force to replace it anyway.") from error
    if mode != "delete" and not force:
        raise BackupError(f"The database {target} is in use. Stop Groundwork first, or use --force to replace it.")


# --- PostGIS ----------------------------------------------------------------------------------

def _pg_tool(name: str) -> str:
    """The newest installed pg_dump / pg_restore."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(re.sub(r"\D", "", p.split("/")[4]) or 0), reverse=True)
    found = shutil.which(name) or (candidates[0] if candidates else None)
    if not found:
        raise BackupError(f"{name} was not found. Install the PostgreSQL client tools "
                          "(e.g. sudo apt-get install postgresql-client), the server's major version or newer.")
    return found


def _libpq_environment(url: URL, database: str | None = None) -> dict[str, str]:
    """The URL as libpq environment variables, so no password appears in any process's argv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {"PGHOST": url.host, "PGPORT": str(url.port) if url.port else None, "PGUSER": url.username,
              "PGPASSWORD": url.password, "PGDATABASE": database or url.database}
    for key, variable in _LIBPQ_QUERY.items():
        value = url.query.get(key)
        if value is not None:
            values[variable] = value if isinstance(value, str) else value[-1]
    env.update({k: str(v) for k, v in values.items() if v})
    return env


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    # argv is a fixed tool and file names, never a shell and never a password
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()
        raise BackupError(f"{what} failed: {' '.join(message[-3:]) or f'exit code {result.returncode}'}")
    return result.stdout


def _backup_postgres(url: URL, destination: Path) -> BackupResult:
    engine = make_engine(url.render_as_string(hide_password=False), poolclass=None)
    try:
        revision = _known_revision(migrate.current_revision(engine), f"The database {url.database}")
    finally:
        engine.dispose()
    temporary = _temporary_beside(destination, "backup")
    try:
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={temporary}"],
             _libpq_environment(url), "pg_dump")
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
    return BackupResult(destination, revision, destination.stat().st_size)


def _dump_revision(source: Path, env: dict[str, str]) -> str | None:
    script = _run([_pg_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(source)],
                  env, "Reading the backup")
    match = re.search(r"COPY \S*alembic_version \(version_num\) FROM stdin;\n([^\n\\]+)\n", script)
    return match.group(1).strip() if match else None


@contextmanager
def _server(url: URL) -> Iterator[Engine]:
    """An autocommit connection to the server's maintenance database."""
    engine = make_engine(url.set(database="postgres").render_as_string(hide_password=False),
                         isolation_level="AUTOCOMMIT", poolclass=None)
    try:
        yield engine
    finally:
        engine.dispose()


def _others_connected(engine: Engine, database: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d "
                                           "AND pid <> pg_backend_pid()"), {"d": database}).scalar_one())


def _wait_until_alone(engine: Engine, database: str, seconds: float = 3.0) -> int:
    """Other sessions on the database, after giving just-closed ones a moment to exit."""
    deadline = time.monotonic() + seconds
    while (count := _others_connected(engine, database)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return count


def _disconnect_others(engine: Engine, database: str) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d "
                                "AND pid <> pg_backend_pid()"), {"d": database})


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _restore_postgres(url: URL, source: Path, force: bool) -> RestoreResult:
    target = url.database
    if not target:
        raise BackupError("The database URL names no database.")
    env = _libpq_environment(url)
    backup_revision = _known_revision(_dump_revision(source, env), str(source))
    staging = f"{target[:40]}_restore_{uuid.uuid4().hex[:8]}"
    with _server(url) as server:
        with server.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                                        {"d": target}).first() is not None
        if exists and not force:
            _check_postgres_target(url, server, target)
        with server.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {_quote(staging)}"))
        try:
            _run([_pg_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
                  "--no-comments", f"--dbname={staging}", str(source)], _libpq_environment(url, staging), "pg_restore")
            staging_url = url.set(database=staging).render_as_string(hide_password=False)
            if backup_revision != migrate.head_revision():
                migrate.upgrade(staging_url)
            if exists:
                if force:
                    _disconnect_others(server, target)
                elif _wait_until_alone(server, target):
                    raise BackupError(f"The database {target} is in use. Stop Groundwork first, "
                                      "or use --force to disconnect it.")
            retired = f"{target[:40]}_replaced_{uuid.uuid4().hex[:8]}"
            with server.connect() as connection:
                if exists:
                    connection.execute(text(f"ALTER DATABASE {_quote(target)} RENAME TO {_quote(retired)}"))
                connection.execute(text(f"ALTER DATABASE {_quote(staging)} RENAME TO {_quote(target)}"))
        except BaseException:
            with server.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {_quote(staging)} WITH (FORCE)"))
            raise
        if exists:
            with server.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {_quote(retired)} WITH (FORCE)"))
    return RestoreResult(target, backup_revision, migrate.head_revision() or backup_revision)


def _check_postgres_target(url: URL, server: Engine, target: str) -> None:
    if _others_connected(server, target):
        raise BackupError(f"The database {target} is in use. Stop Groundwork first, or use --force to disconnect it.")
    engine = make_engine(url.render_as_string(hide_password=False), poolclass=None)
    try:
        revision = migrate.current_revision(engine)
    finally:
        engine.dispose()
    if revision is not None:
        try:
            _known_revision(revision, f"The database {target}")
        except BackupError as error:
            raise BackupError(f"{error} Restoring an older backup over it needs --force.") from None
