"""Health check, schema guard, the SpatiaLite driver, and the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlmodel import Session

from app import migrate
from app.db import SpatiaLiteMissing, make_engine
from app.main import create_app
from tests.conftest import make_settings


def test_healthz_reports_database_and_schema(client, database):
    body = client.get("/healthz").json()
    assert body == {"status": "ok", "database": database.kind, "schema": migrate.head_revision()}


def test_server_refuses_an_unmigrated_database_with_the_command_to_run(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    from fastapi.testclient import TestClient

    app = create_app(make_settings(url))
    with pytest.raises(migrate.SchemaOutOfDate, match="groundwork db upgrade"), TestClient(app):
        pass


def test_missing_spatialite_gives_an_install_hint(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}", spatialite_path="/nonexistent/mod_spatialite")
    with pytest.raises(SpatiaLiteMissing, match="apt-get install libsqlite3-mod-spatialite"):
        engine.connect()


def test_sqlite_connections_have_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("SELECT spatialite_version()").scalar()



def test_migrations_round_trip_on_a_fresh_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite'}"
    from alembic import command

    migrate.upgrade(url)

    command.downgrade(migrate.alembic_config(url), "base")
    migrate.upgrade(url)
    assert migrate.current_revision(make_engine(url)) == migrate.head_revision()


def test_cli_creates_an_admin_who_can_sign_in(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = {"GROUNDWORK_DATABASE_URL": url, "GROUNDWORK_NEW_USER_PASSWORD": "an-admin-password", "PATH": ""}
    run = lambda *args: subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True,  # noqa: E731
                                       text=True, cwd=tmp_path, check=False)
    assert run("db", "upgrade").returncode == 0
    created = run("user", "create", "Chief@City.gov", "--role", "admin")
    assert created.returncode == 0, created.stderr
    again = run("user", "create", "chief@city.gov", "--role", "admin")
    assert again.returncode == 1 and "already exists" in again.stderr

    from app import accounts

    with Session(make_engine(url)) as session:
        user = accounts.authenticate(session=session, settings=make_settings(url), email="chief@city.gov",
                                     password="an-admin-password", ip="127.0.0.1")
        assert user.role == "admin"


def test_a_process_that_opens_spatialite_then_reads_files_exits_cleanly(tmp_path):
    code = ("from app.db import make_engine; e = make_engine('sqlite:///" + str(tmp_path / "x.sqlite") + "'); "
            "e.connect().close(); import pyogrio.raw; e.dispose()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-500:]
