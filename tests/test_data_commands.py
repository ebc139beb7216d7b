"""`groundwork export`, `backup` and `restore` against real, committed databases on both engines."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlean
from pyogrio.raw import read as ogr_read
from shapely.geometry import LineString, MultiLineString
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from app import db, settings
from app.cli import cli
from app.db import make_engine, new_session
from app.layers.store import FeatureRecord, write_layer
from models.layers import Layer, LayerKind, PavementSegment
from tests.conftest import fresh_database


def _segments(names: list[str]) -> list[FeatureRecord]:
    return [FeatureRecord(MultiLineString([LineString([(-83.4 + i * 0.001, 33.95), (-83.4 + i * 0.001, 33.951)])]),
                          {"street_name": name, "pci": 40.0 + i}, {"NAME": name}, source_id=str(i))
            for i, name in enumerate(names)]


@pytest.fixture(params=["spatialite", "postgis"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "postgis" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    url, remove = fresh_database(request.param, tmp_path)
    monkeypatch.setenv("GROUNDWORK_DATABASE_URL", url)
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()
    yield url
    db.get_engine().dispose()
    db.get_engine.cache_clear()
    settings.get_settings.cache_clear()
    remove()  # type: ignore[operator]


def _load(url: str, names: list[str]) -> None:
    engine = make_engine(url)
    with new_session(engine) as session:
        write_layer(session=session, kind=LayerKind.pavement, records=_segments(names), source="streets.geojson",
                    actor=None)
    engine.dispose()


def _street_names(url: str) -> list[str]:
    engine = make_engine(url)
    with new_session(engine) as session:
        names = [s.street_name for s in session.exec(select(PavementSegment).order_by(PavementSegment.id))]
        assert session.get(Layer, "pavement") is not None
    engine.dispose()
    return names  # type: ignore[return-value]


def _run(*args: str):  # type: ignore[no-untyped-def]
    db.get_engine().dispose()  # the CLI's own engine must not hold the database open between commands
    return CliRunner().invoke(cli, list(args))


def test_export_writes_geojson_and_csv_to_stdout_and_a_geopackage_to_a_file(database_url, tmp_path):
    _load(database_url, ["Calle Ñandú", "=1+1"])
    geojson = _run("export", "pavement", "--format", "geojson")
    assert geojson.exit_code == 0, geojson.output
    features = json.loads(geojson.stdout)["features"]
    assert [f["properties"]["street_name"] for f in features] == ["Calle Ñandú", "=1+1"]
    table = _run("export", "pavement", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(table.stdout_bytes.decode("utf-8-sig"))))
    assert [r["street_name"] for r in rows] == ["Calle Ñandú", "'=1+1"]
    assert _run("export", "pavement", "--format", "gpkg").exit_code != 0  # a GeoPackage needs -o
    target = tmp_path / "pavement.gpkg"
    assert _run("export", "pavement", "--format", "gpkg", "-o", str(target)).exit_code == 0
    _, _, geometries, fields = ogr_read(str(target))
    assert len(geometries) == 2 and list(fields[0]) == [1, 2]
    missing = _run("export", "potholes")
    assert missing.exit_code != 0 and "pavement" in missing.output
    assert "not loaded yet" in _run("export", "sidewalk").output


def test_backup_then_change_then_restore_brings_back_the_old_data(database_url, tmp_path):
    _load(database_url, ["Old Main St", "Elm St", "Oak St"])
    archive = tmp_path / "city.backup"
    made = _run("backup", str(archive))
    assert made.exit_code == 0, made.output
    assert _run("backup", str(archive)).exit_code != 0  # never overwrites a backup by accident
    _load(database_url, ["New Road"])
    assert _street_names(database_url) == ["New Road"]
    restored = _run("restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert _street_names(database_url) == ["Old Main St", "Elm St", "Oak St"]
    assert "Restored" in restored.output
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left
    exported = _run("export", "pavement", "--format", "csv")  # the restored database works, spatially too
    assert exported.exit_code == 0 and "Old Main St" in exported.stdout


def test_restore_refuses_a_database_in_use_unless_forced(database_url, tmp_path):
    _load(database_url, ["Kept St"])
    archive = tmp_path / "city.backup"
    assert _run("backup", str(archive)).exit_code == 0
    _load(database_url, ["Changed St"])
    engine = make_engine(database_url)
    connection = engine.connect()  # a running server holds connections open
    connection.execute(text("SELECT 1"))
    refused = _run("restore", str(archive))
    assert refused.exit_code != 0 and "in use" in refused.output
    connection.close()
    engine.dispose()
    assert _street_names(database_url) == ["Changed St"]
    engine = make_engine(database_url)
    connection = engine.connect()
    connection.execute(text("SELECT 1"))
    forced = _run("restore", str(archive), "--force")
    assert forced.exit_code == 0, forced.output
    connection.invalidate()
    engine.dispose()
    assert _street_names(database_url) == ["Kept St"]


def test_restore_refuses_files_that_are_not_groundwork_backups(database_url, tmp_path):
    _load(database_url, ["Main St"])
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    assert _run("restore", str(text_file)).exit_code != 0
    assert _run("restore", str(tmp_path / "missing.backup")).exit_code != 0
    stranger = tmp_path / "other.sqlite"
    with sqlean.connect(str(stranger)) as other:
        other.execute("CREATE TABLE t (x)")
    result = _run("restore", str(stranger))
    assert result.exit_code != 0
    assert ("not a Groundwork database" in result.output) or ("SpatiaLite backup" in result.output)
    assert _street_names(database_url) == ["Main St"]


def test_restore_refuses_a_backup_from_a_newer_groundwork(database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("the SpatiaLite backup file is edited directly")
    _load(database_url, ["Main St"])
    archive = tmp_path / "city.backup"
    assert _run("backup", str(archive)).exit_code == 0
    with sqlean.connect(str(archive)) as edited:
        edited.execute("UPDATE alembic_version SET version_num = '9999_future'")
    result = _run("restore", str(archive))
    assert result.exit_code != 0 and "newer Groundwork" in " ".join(result.output.split())  # the terminal wraps it
    assert _street_names(database_url) == ["Main St"]


def _oldest_revision() -> str:
    from alembic.script import ScriptDirectory

    from app import migrate

    script = ScriptDirectory.from_config(migrate.alembic_config())
    return script.get_base()  # type: ignore[return-value]


def test_a_backup_from_an_older_schema_is_restored_and_brought_up_to_date(database_url, tmp_path):
    from app import backup, migrate
    from tests.conftest import create_postgres_database, drop_postgres_database

    oldest = _oldest_revision()
    if database_url.startswith("sqlite"):
        old_url, remove = f"sqlite:///{tmp_path / 'old.sqlite'}", (lambda: None)
    else:
        import os
        import uuid

        base, name = os.environ["GROUNDWORK_TEST_POSTGRES_URL"], f"gw_test_{uuid.uuid4().hex[:10]}"
        old_url, remove = create_postgres_database(base, name), (lambda: drop_postgres_database(base, name))
    try:
        migrate.upgrade(old_url, oldest)
        archive = tmp_path / "old.backup"
        backup.backup(database_url=old_url, destination=archive)
    finally:
        remove()
    result = _run("restore", str(archive))
    assert result.exit_code == 0, result.output
    head = migrate.head_revision()
    if head != oldest:
        assert f"upgraded from {oldest}" in result.output
    engine = make_engine(database_url)
    assert migrate.current_revision(engine) == head
    engine.dispose()


def test_postgres_credentials_go_to_pg_dump_in_the_environment_not_the_command_line(tmp_path, monkeypatch):
    from app import backup

    calls = []

    def fake_run(command, env, **_):  # type: ignore[no-untyped-def]
        calls.append((command, env))
        Path(command[-1].split("=", 1)[1]).write_bytes(b"PGDMP fake")
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    monkeypatch.setattr(backup, "_pg_tool", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(backup.subprocess, "run", fake_run)
    monkeypatch.setattr(backup.migrate, "current_revision", lambda engine: _oldest_revision())
    url = "postgresql+psycopg://city:s3cr%40t-pw@db.city.gov:6543/groundwork?sslmode=require"
    result = backup.backup(database_url=url, destination=tmp_path / "city.dump")
    assert result.path.read_bytes() == b"PGDMP fake"
    command, env = calls[0]
    assert not any("s3cr" in part or "city" in part.split("=")[-1] for part in command[:-1])
    assert env["PGPASSWORD"] == "s3cr@t-pw" and env["PGUSER"] == "city" and env["PGHOST"] == "db.city.gov"
    assert env["PGPORT"] == "6543" and env["PGDATABASE"] == "groundwork" and env["PGSSLMODE"] == "require"


def test_restore_will_not_replace_a_database_with_a_newer_schema_unless_forced(database_url, tmp_path):
    from app import migrate

    _load(database_url, ["Main St"])
    archive = tmp_path / "city.backup"
    assert _run("backup", str(archive)).exit_code == 0
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    refused = _run("restore", str(archive))
    said = " ".join(refused.output.split())  # the terminal wraps long messages
    assert refused.exit_code != 0 and "newer Groundwork" in said and "--force" in said
    assert _run("restore", str(archive), "--force").exit_code == 0
    engine = make_engine(database_url)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def _fingerprint(url: str) -> dict[str, list[tuple]]:
    """Every table of the schema, row by row (geometries as WKB), in a stable order."""
    from geoalchemy2 import Geometry
    from sqlalchemy import func as sql_func
    from sqlalchemy import select as sql_select
    from sqlmodel import SQLModel

    engine = make_engine(url)
    tables: dict[str, list[tuple]] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            columns = [sql_func.ST_AsBinary(c) if isinstance(c.type, Geometry) else c for c in table.columns]
            rows = connection.execute(sql_select(*columns)).all()
            tables[table.name] = sorted((tuple(bytes(v) if isinstance(v, memoryview | bytes) else v for v in row)
                                         for row in rows), key=repr)
    engine.dispose()
    return tables


def test_backup_and_restore_give_back_every_table_row_for_row(database_url, tmp_path):
    from datetime import date

    from app.demo.loader import load_demo_city
    from app.demo.proposals import seed_demo_proposals
    from tests.conftest import make_settings

    engine = make_engine(database_url)
    with new_session(engine) as session:
        load_demo_city(session=session, scale=0.05, today=date(2026, 11, 25))
        seed_demo_proposals(session=session, settings=make_settings(database_url))
    engine.dispose()
    before = _fingerprint(database_url)
    assert sum(len(rows) for rows in before.values()) > 3_000 and before["proposal_asset"] and before["audit_event"]
    archive = tmp_path / "city.backup"
    assert _run("backup", str(archive)).exit_code == 0
    _load(database_url, ["Only Street"])  # the city changes after the backup
    assert _fingerprint(database_url) != before
    restored = _run("restore", str(archive))
    assert restored.exit_code == 0, restored.output
    after = _fingerprint(database_url)
    assert list(after) == list(before)
    for name in before:
        assert after[name] == before[name], f"table {name} differs after the restore"
