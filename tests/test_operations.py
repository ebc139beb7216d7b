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


@pytest.mark.parametrize("kind", ["spatialite", "postgis"])
def test_user_role_by_names_the_admin_and_anyone_else_changes_nothing(kind: str, tmp_path, monkeypatch):
    from sqlmodel import col, select
    from typer.testing import CliRunner

    from app import accounts, db
    from app import settings as app_settings
    from app.cli import cli
    from app.db import new_session
    from models.accounts import Role, User
    from models.audit import AuditEvent
    from tests.conftest import fresh_database

    url, remove = fresh_database(kind, tmp_path)
    monkeypatch.setenv("GROUNDWORK_DATABASE_URL", url)
    app_settings.get_settings.cache_clear()
    db.get_engine.cache_clear()

    def run(*args: str):
        db.get_engine().dispose()
        return CliRunner().invoke(cli, ["user", "role", *args])

    def roles_and_actors() -> tuple[dict[str, str], list[int | None]]:
        engine = make_engine(url)
        with new_session(engine) as session:
            roles = {user.email: str(user.role) for user in session.exec(select(User))}
            events = session.exec(select(AuditEvent).where(AuditEvent.action == "user.role")
                                  .order_by(col(AuditEvent.id))).all()
            actors = [event.actor_id for event in events]
        engine.dispose()
        return roles, actors

    try:
        engine = make_engine(url)
        with new_session(engine) as session:
            made = {email: accounts.create_user(session=session, settings=make_settings(url), email=email,
                                                password="a-good-password", role=role).id
                    for email, role in (("chief@city.gov", Role.admin), ("engineer@city.gov", Role.staff),
                                        ("ana@example.org", Role.resident))}
        engine.dispose()
        before = roles_and_actors()
        for who in ("nobody@city.gov", "ana@example.org", "engineer@city.gov"):  # an admin's decision, as on the web
            refused = run("ana@example.org", "staff", "--by", who)
            said = " ".join(refused.output.split())
            assert refused.exit_code == 1 and f"{who} is not an active admin account" in said, said
            assert "Nothing was written" in said
        assert roles_and_actors() == before  # nothing changed, nothing audited

        signed = run("ana@example.org", "staff", "--by", "Chief@City.gov")
        assert signed.exit_code == 0 and "ana@example.org is now staff" in signed.output
        unsigned = run("engineer@city.gov", "resident")  # without --by, as before
        assert unsigned.exit_code == 0, unsigned.output
        assert run("nobody@city.gov", "staff", "--by", "chief@city.gov").exit_code == 1  # no such account
        roles, actors = roles_and_actors()
        assert roles == {"chief@city.gov": "admin", "engineer@city.gov": "resident", "ana@example.org": "staff"}
        assert actors == [made["chief@city.gov"], None]
    finally:
        db.get_engine().dispose()
        db.get_engine.cache_clear()
        app_settings.get_settings.cache_clear()
        remove()  # type: ignore[operator]
