"""Test fixtures: real SpatiaLite and PostGIS databases built by the migrations.

Every test that takes ``session`` (or ``client``) runs once per database: always on
SpatiaLite, and on PostGIS when GROUNDWORK_TEST_POSTGRES_URL points at a server whose
role may create databases. With GROUNDWORK_TEST_REQUIRE_POSTGRES=1 (CI), a missing
PostGIS is a failure, not a skip. Each test runs inside an outer transaction that is
rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app import accounts, migrate, security
from app.db import get_session, make_engine
from app.main import create_app
from app.settings import Settings
from models.accounts import Role, User

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PASSWORD = "a-long-test-password"

# Argon2id as in production, at its smallest cost: the suite hashes and checks hundreds of passwords on
# two cores, and the production cost (64 MiB, 3 passes) made that minutes. The dummy hash that keeps an
# unknown address as slow as a known one is made again at the same cost.
PRODUCTION_PASSWORD_HASH = security._password_hash  # tests/test_accounts.py checks its cost
security._password_hash = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
security._DUMMY_HASH = security.hash_password("not-a-password-" + uuid.uuid4().hex)


@pytest.fixture(autouse=True)
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remote imports resolve host names before fetching (SSRF guard); tests never use the real DNS:
    every name is a public address unless a test puts its own resolver in ``remote.resolve``."""
    from app.importers import remote

    monkeypatch.setattr(remote, "resolve", lambda host, port: ["93.184.215.14"])


@dataclass
class Database:
    kind: str  # "spatialite" | "postgis"
    url: str
    engine: Engine


def _postgres_url() -> str | None:
    return os.environ.get("GROUNDWORK_TEST_POSTGRES_URL")


def create_postgres_database(base_url: str, name: str) -> str:
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=None)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(base_url: str, name: str) -> None:
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=None)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_database(kind: str, directory: Path) -> tuple[str, object]:
    """A new, migrated database; returns its URL and a function that removes it."""
    if kind == "spatialite":
        url = f"sqlite:///{directory / f'gw-{uuid.uuid4().hex[:8]}.sqlite'}"
        migrate.upgrade(url)
        return url, lambda: None
    base = _postgres_url()
    if not base:
        if os.environ.get("GROUNDWORK_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail("GROUNDWORK_TEST_REQUIRE_POSTGRES=1 but GROUNDWORK_TEST_POSTGRES_URL is not set")
        pytest.skip("PostGIS tests need GROUNDWORK_TEST_POSTGRES_URL")
    name = f"gw_test_{uuid.uuid4().hex[:10]}"
    url = create_postgres_database(base, name)
    migrate.upgrade(url)
    return url, lambda: drop_postgres_database(base, name)


@pytest.fixture(scope="session", params=["spatialite", "postgis"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url, remove = fresh_database(request.param, tmp_path_factory.mktemp(request.param))
    engine = make_engine(url)
    yield Database(request.param, url, engine)
    engine.dispose()
    remove()  # type: ignore[operator]


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    connection = database.engine.connect()
    outer = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db_session
    finally:
        db_session.close()
        outer.rollback()
        connection.close()


def make_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"environment": "test", "secret_key": "test-secret-" + "x" * 32,
                                 "base_url": "http://testserver", **overrides}
    return Settings(database_url=url, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database: Database) -> Settings:
    return make_settings(database.url)


@pytest.fixture
def app(database: Database, session: Session, settings: Settings) -> FastAPI:
    application = create_app(settings, engine=database.engine, check_schema=False)
    application.dependency_overrides[get_session] = lambda: session
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: TestClient, path: str = "/signin") -> str:
    match = CSRF_RE.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict[str, str], *, page: str = "/signin"):  # type: ignore[no-untyped-def]
    """Post a form as a browser would: with the CSRF token from a page of the same session."""
    return client.post(path, data={**data, "csrf_token": csrf_of(client, page)})


def make_user(session: Session, settings: Settings, email: str, role: Role = Role.resident) -> User:
    return accounts.create_user(session=session, settings=settings, email=email, password=PASSWORD,
                                display_name=email.split("@")[0].title(), role=role)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    response = post_form(client, "/signin", {"email": email, "password": password})
    assert response.status_code == 303, response.text


@pytest.fixture
def staff(session: Session, settings: Settings) -> User:
    return make_user(session, settings, "staff@city.gov", Role.staff)


@pytest.fixture
def admin(session: Session, settings: Settings) -> User:
    return make_user(session, settings, "admin@city.gov", Role.admin)


@pytest.fixture
def resident(session: Session, settings: Settings) -> User:
    return make_user(session, settings, "resident@example.org", Role.resident)


def shared_file(*parts: str) -> Path:
    """A file from ../shared/data, or skip the test cleanly when the data is not beside the project."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path


# The slowest files first (measured with --durations; slowest at the top), so that the two workers finish
# together: xdist otherwise hands out the files with the most tests first, and a long file of two tests
# (the whole cycle in a browser) ran last, alone. scripts/test.sh passes --no-loadscope-reorder for this.
SLOW_FIRST = (
    "test_cycle_in_browser.py", "test_reimport.py", "test_resident_in_browser.py", "test_bench_peers.py",
    "test_demo.py", "test_data_commands.py", "test_ballot_in_browser.py", "test_delivery_in_browser.py",
    "test_ballot_guard.py", "test_delivery_open.py", "test_authorization_matrix.py", "test_proposals_in_browser.py",
    "test_map_in_browser.py", "test_triage_in_browser.py", "test_delivery_import.py", "test_costs_in_browser.py",
    "test_scenario_cash_flow.py", "test_import_city_files.py", "test_api_schema.py", "test_editor_undo_in_browser.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # a stable sort: the rest keep their order
