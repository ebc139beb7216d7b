"""How a worker knows its layers' versions on SpatiaLite without a query per tile (app/tiles/versions.py):
a commit by another process is seen by the very next check, through the wal-index or, without one,
through the files' state; versions read in an older snapshot are never kept as fresh."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import make_engine
from app.tiles import versions as versions_module
from app.tiles.versions import LayerVersions
from models.layers import Layer
from tests.conftest import fresh_database
from tests.layer_data import load_city

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    database_url, _ = fresh_database("spatialite", tmp_path)
    engine = make_engine(database_url)
    with Session(engine) as session:
        load_city(session)
        session.commit()
    engine.dispose()
    yield database_url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _bump(engine: Engine) -> None:
    """What an import does to the layer table, on a connection of its own (no ORM event here)."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE layer SET revision = revision + 1 WHERE kind = 'pavement'"))


def _read(versions: LayerVersions, engine: Engine) -> int:
    with Session(engine) as session:
        return versions.read(session)["pavement"].revision


def test_a_commit_in_another_process_is_seen_by_the_next_check_through_the_wal_index(url: str, engine: Engine) -> None:
    versions = LayerVersions(engine, ttl_s=600)
    try:
        revision = _read(versions, engine)
        assert versions._wal_index is not None, "a SpatiaLite file in WAL mode is watched through its wal-index"
        assert versions.fresh() is not None and versions.fresh() is versions.fresh()  # no read while unchanged
        script = (
            "import sys; from sqlalchemy import text; from app.db import make_engine\n"
            "with make_engine(sys.argv[1]).begin() as c:\n"
            "    c.execute(text(\"UPDATE layer SET revision = revision + 1 WHERE kind = 'pavement'\"))\n"
        )
        subprocess.run([sys.executable, "-c", script, url], cwd=ROOT, check=True, timeout=60)
        assert versions.fresh() is None  # at once: the other process's commit is visible, and so is the change
        assert _read(versions, engine) == revision + 1
        assert versions.fresh() is not None
    finally:
        versions.close()


def test_every_commit_elsewhere_is_seen_by_the_very_next_check(engine: Engine, url: str) -> None:
    versions = LayerVersions(engine, ttl_s=600)
    other = make_engine(url)
    try:
        revision = _read(versions, engine)
        for n in range(1, 51):
            _bump(other)
            assert versions.fresh() is None, f"commit {n} not seen"
            assert _read(versions, engine) == revision + n
            assert versions.fresh() is not None
    finally:
        versions.close()
        other.dispose()


def test_without_a_wal_index_the_files_state_is_checked(
    engine: Engine, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(versions_module._WalIndex, "open", classmethod(lambda cls, engine, database: None))
    versions = LayerVersions(engine, ttl_s=600)
    other = make_engine(url)
    try:
        _read(versions, engine)  # the pool's first connection creates the -wal file: one more read
        revision = _read(versions, engine)
        assert versions._wal_index is None and versions.fresh() is not None
        _bump(other)
        deadline = time.monotonic() + 5  # a stat sees a change of size or mtime (mtime's grain may be coarse)
        while versions.fresh() is not None and time.monotonic() < deadline:
            time.sleep(0.01)
            _bump(other)
        assert versions.fresh() is None
        assert _read(versions, engine) > revision
    finally:
        versions.close()
        other.dispose()


def test_versions_read_in_an_older_snapshot_are_never_kept_as_fresh(engine: Engine, url: str) -> None:
    versions = LayerVersions(engine, ttl_s=600)
    other = make_engine(url)
    try:
        revision = _read(versions, engine)
        with Session(engine) as session:
            session.exec(select(Layer)).all()  # the request's transaction has its snapshot now
            _bump(other)  # an import elsewhere commits meanwhile (e.g. while a tile is drawn)
            assert versions.read(session)["pavement"].revision == revision  # the request sees its snapshot
            kept = versions.fresh()
            assert kept is not None and kept["pavement"].revision == revision + 1  # others get the new one
    finally:
        versions.close()
        other.dispose()


def test_closed_versions_still_answer(engine: Engine) -> None:
    versions = LayerVersions(engine, ttl_s=600)
    revision = _read(versions, engine)
    versions.close()
    assert versions._wal_index is None
    assert _read(versions, engine) == revision  # by stat from now on
    assert versions.fresh() is not None
