"""SpatiaLite (WAL): a unit of work that will write begins with BEGIN IMMEDIATE, so another connection's
commit between its reads and its writes cannot fail it; read-only work stays deferred and never waits.

A deferred transaction that has read cannot write once another connection has committed ("database is
locked" at once, SQLITE_BUSY_SNAPSHOT, whatever the busy timeout): the first test shows that premise, the
others that requests with an unsafe method, ``new_session(write=True)``, ``writing`` and the mail sender
are not exposed to it."""

from __future__ import annotations

import inspect
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app import accounts, mail, migrate
from app.db import WRITE, get_session, make_engine, new_session, writing
from app.mail_sender import MailSender
from app.main import create_app
from app.settings import MailSettings, Settings
from models.accounts import User
from models.outbox import OutboxMessage
from tests.conftest import PASSWORD, fresh_database, make_settings, post_form

OTHER = "other@example.org"
SOMEONE_ELSE_WRITES = text("UPDATE user_account SET display_name = display_name || '.' WHERE email = :email")


@dataclass
class Interleaving:
    fired: bool = False
    committed_meanwhile: bool = False  # the other write committed while the watched transaction was open
    errors: list[BaseException] = field(default_factory=list)


@contextmanager
def another_connection_commits(engine: Engine, other: Engine, *, after: str = "SELECT") -> Iterator[Interleaving]:
    """After the first statement ``engine`` runs that starts with ``after`` (and before the next), another
    connection commits a write from its own thread. The watched thread waits up to two seconds for that commit:
    it comes at once unless the watched transaction holds the write lock (then it waits its turn)."""
    seen, done, threads = Interleaving(), threading.Event(), []

    def write() -> None:
        try:
            with other.begin() as connection:
                connection.execute(SOMEONE_ELSE_WRITES, {"email": OTHER})
        except BaseException as error:  # noqa: BLE001 — checked by the caller
            seen.errors.append(error)
        finally:
            done.set()

    def hook(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if seen.fired or not statement.lstrip().upper().startswith(after):
            return
        seen.fired = True
        thread = threading.Thread(target=write, name="another-writer")
        thread.start()
        threads.append(thread)
        seen.committed_meanwhile = done.wait(2.0)

    event.listen(engine, "after_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(engine, "after_cursor_execute", hook)
        for thread in threads:
            thread.join(60)
    assert seen.fired and done.is_set() and not seen.errors, seen


@pytest.fixture
def spatialite(tmp_path: Path) -> Iterator[tuple[Engine, Engine, Settings]]:
    """A migrated SpatiaLite file with two accounts; the app's engine and another one on the same file."""
    url = f"sqlite:///{tmp_path / 'gw.sqlite'}"
    migrate.upgrade(url)
    settings = make_settings(url)
    engine, other = make_engine(url), make_engine(url)
    with other.connect():  # its first connection loads SpatiaLite: not inside a test's one-second window
        pass
    with new_session(engine) as setup:
        for email in ("ana@example.org", OTHER):
            accounts.create_user(session=setup, settings=settings, email=email, password=PASSWORD)
    yield engine, other, settings
    engine.dispose()
    other.dispose()


def _count_users(session: Session) -> int:
    return len(session.exec(select(User.id)).all())


def test_the_premise_a_deferred_transaction_that_read_cannot_write_after_another_commit(spatialite) -> None:
    engine, other, _ = spatialite
    with new_session(engine) as session, another_connection_commits(engine, other) as seen:
        assert _count_users(session) == 2
        with pytest.raises(OperationalError, match="database is locked"):
            session.execute(SOMEONE_ELSE_WRITES, {"email": "ana@example.org"})
        session.rollback()
    assert seen.committed_meanwhile  # a deferred reader holds nothing up


@pytest.mark.parametrize("kind", ["spatialite", "postgis"])
def test_a_write_session_reads_then_writes_while_another_connection_commits(kind: str, tmp_path: Path) -> None:
    """What a background worker's unit of work does (``new_session(write=True)``); on PostGIS a plain session."""
    url, remove = fresh_database(kind, tmp_path)
    settings = make_settings(url)
    engine, other = make_engine(url), make_engine(url)
    with other.connect():  # its first connection loads SpatiaLite: not inside a test's one-second window
        pass
    try:
        with new_session(engine) as setup:
            for email in ("ana@example.org", OTHER):
                accounts.create_user(session=setup, settings=settings, email=email, password=PASSWORD)
        with new_session(engine, write=True) as session, another_connection_commits(engine, other) as seen:
            assert _count_users(session) == 2
            session.execute(SOMEONE_ELSE_WRITES, {"email": "ana@example.org"})
            session.commit()
            assert _count_users(session) == 2  # the next transaction of the session begins immediate too
            session.execute(SOMEONE_ELSE_WRITES, {"email": "ana@example.org"})
            session.commit()
        assert seen.committed_meanwhile == (kind == "postgis")  # SQLite: the other writer waited its turn
        with new_session(engine) as check:
            names = dict(check.exec(select(User.email, User.display_name)).all())
            assert names == {"ana@example.org": "ana..", OTHER: "other."} or kind == "postgis"
    finally:
        engine.dispose()
        other.dispose()
        remove()  # type: ignore[operator]


def test_writing_begins_one_unit_of_work_that_holds_the_write_lock(spatialite) -> None:
    """``writing`` on an ordinary (deferred) session, as the once-a-minute session touch on a GET uses it."""
    engine, other, _ = spatialite
    with new_session(engine) as session:
        assert _count_users(session) == 2  # an ordinary read, deferred
        session.commit()
        with another_connection_commits(engine, other) as seen, writing(session):
            assert _count_users(session) == 2
            session.execute(SOMEONE_ELSE_WRITES, {"email": "ana@example.org"})
        assert not seen.committed_meanwhile and not session.in_transaction()
        with pytest.raises(RuntimeError, match="boom"), writing(session):
            session.execute(SOMEONE_ELSE_WRITES, {"email": "ana@example.org"})
            raise RuntimeError("boom")
        assert session.exec(select(User.display_name).where(User.email == "ana@example.org")).one() == "ana."
        session.commit()
        with another_connection_commits(engine, other) as seen:
            assert _count_users(session) == 2  # after the unit of work, reads are deferred again
        assert seen.committed_meanwhile


def test_a_post_that_reads_then_writes_while_another_connection_commits_succeeds(spatialite) -> None:
    """Sign-in reads (throttling, the account) and then writes (the attempt, the session); another request or
    worker commits in between. Before: a 500 with "database is locked"."""
    engine, other, settings = spatialite
    app = create_app(settings, engine=engine, check_schema=False)
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)  # no lifespan: no workers
    with another_connection_commits(engine, other) as seen:
        response = post_form(client, "/signin", {"email": "ana@example.org", "password": PASSWORD})
    assert response.status_code == 303, response.text
    assert not seen.committed_meanwhile  # it waited for the sign-in's unit of work
    assert "Sign out" in client.get("/").text
    with another_connection_commits(engine, other) as seen:  # signed in: the viewer's read comes first
        response = post_form(client, "/signout", {}, page="/")
    assert response.status_code == 303 and seen.fired


def test_a_get_stays_deferred_and_never_holds_up_a_writer(spatialite) -> None:
    engine, other, settings = spatialite
    client = TestClient(create_app(settings, engine=engine, check_schema=False), follow_redirects=False)
    with another_connection_commits(engine, other) as seen:
        assert client.get("/").status_code == 200
    assert seen.committed_meanwhile


class _SMTP:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, host: str, port: int, timeout: float) -> _SMTP:
        return self

    def send_message(self, email) -> None:  # type: ignore[no-untyped-def]
        self.sent.append(str(email["To"]))

    def starttls(self) -> None: ...
    def quit(self) -> None: ...
    def close(self) -> None: ...


def test_the_mail_sender_claims_and_records_while_another_connection_commits(spatialite, monkeypatch) -> None:
    engine, other, settings = spatialite
    settings = settings.model_copy(update={"mail": MailSettings(smtp_host="mail.test", sender="gw@city.gov")})
    smtp = _SMTP()
    monkeypatch.setattr(smtplib, "SMTP", smtp)
    with new_session(engine) as queue:
        mail.send(session=queue, settings=settings, recipient="ana@example.org", subject="Hello", body="Hi")
        queue.commit()
    for after in ("SELECT", "UPDATE"):  # between the look for due mail and the claim; between claim and record
        with new_session(engine) as queue:
            message = queue.exec(select(OutboxMessage)).one()
            message.sent_at, message.claimed_at, message.claimed_by = None, None, None
            queue.add(message)
            queue.commit()
        with another_connection_commits(engine, other, after=after):
            MailSender(engine, settings).run_once()
        with new_session(engine) as check:
            assert check.exec(select(OutboxMessage.id).where(col(OutboxMessage.sent_at).is_not(None))).all()
    assert smtp.sent == ["ana@example.org", "ana@example.org"]


def test_a_delivery_import_in_a_write_session_is_not_refused_when_another_connection_commits(spatialite) -> None:
    """``groundwork delivery import`` reads the file's projects, then writes; a staff page commits meanwhile.
    Before (a deferred session): refused with "run it again"."""
    from datetime import date, timedelta

    from app.delivery import bulk, projects, vote
    from models.accounts import Role
    from tests.ballot_data import publish_ballot
    from tests.test_delivery_import import _two

    engine, other, settings = spatialite
    today = date.today()
    with new_session(engine) as setup:
        staff = accounts.create_user(
            session=setup, settings=settings, email="works@city.gov", password=PASSWORD, role=Role.staff
        )
        resident = setup.exec(select(User).where(User.email == "ana@example.org")).one()
        ballot = publish_ballot(setup, settings, resident, staff)
        vote.record(session=setup, actor=staff, held_on=today - timedelta(days=30), yes_votes=5, no_votes=3)
        first = _two(setup, ballot)[0]
        project_id = projects.project_delivery(session=setup, proposal_id=first).project.id or 0
    csv = f"project,spent_to_date,spent_as_of\n#{first},50.00,{(today - timedelta(days=3)).isoformat()}\n"
    with new_session(engine, write=True) as run, another_connection_commits(engine, other) as seen:
        assert bulk.run(session=run, settings=settings, actor=staff, text=csv, source="works.csv").written
    assert not seen.committed_meanwhile
    with new_session(engine) as check:
        assert projects.spent_cents(session=check, project_id=project_id) == 50_00


def _session_for(app, method: str, endpoint) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    request = Request({"type": "http", "method": method, "path": "/", "headers": [], "app": app,
                       "endpoint": endpoint})
    return get_session(request)


def test_only_a_thread_pool_endpoint_of_an_unsafe_request_begins_immediate(spatialite) -> None:
    """An ``async`` endpoint's queries run on the event loop: waiting there for the write lock would hold up
    every request of the worker, so its transactions stay deferred."""
    engine, _, settings = spatialite
    app = create_app(settings, engine=engine, check_schema=False)

    def in_the_thread_pool() -> None: ...

    async def on_the_loop() -> None: ...

    for method, endpoint, immediate in (("POST", in_the_thread_pool, True), ("POST", on_the_loop, False),
                                        ("GET", in_the_thread_pool, False)):
        sessions = _session_for(app, method, endpoint)
        session = next(sessions)
        assert bool(session.connection().get_execution_options().get(WRITE)) is immediate, (method, endpoint)
        sessions.close()


def test_a_busy_database_is_a_clear_answer_that_changed_nothing(spatialite) -> None:
    engine, other, settings = spatialite
    app = create_app(settings, engine=engine, check_schema=False)
    impatient = make_engine(str(engine.url))

    def rename_everyone() -> None:
        with impatient.begin() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout = 0")  # no waiting for the other writer
            connection.execute(text("UPDATE user_account SET display_name = 'x'"))

    app.add_api_route("/rename-everyone", rename_everyone)
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    try:
        with new_session(other, write=True) as holder:
            holder.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: another writer holds the lock
            response = client.get("/rename-everyone", headers={"Accept": "text/html"})
            holder.rollback()
    finally:
        impatient.dispose()
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert "Someone else was saving at the same moment, so nothing was changed." in response.text
    with new_session(engine) as session:
        assert "x" not in {user.display_name for user in session.exec(select(User))}


def test_no_endpoint_that_writes_runs_its_database_work_on_the_event_loop(spatialite) -> None:
    """An ``async`` endpoint's queries block the event loop (every request of the worker waits with them) and on
    SQLite it cannot begin with BEGIN IMMEDIATE: an endpoint of an unsafe method with a database session is a
    plain function (its form comes from ``app.deps.PostedForm``)."""
    engine, _, settings = spatialite
    app = create_app(settings, engine=engine, check_schema=False)

    def uses_the_database(dependant) -> bool:  # type: ignore[no-untyped-def]
        return any(d.call is get_session or uses_the_database(d) for d in dependant.dependencies)

    routes = [context.route for context in iter_route_contexts(app.routes) if isinstance(context.route, APIRoute)]
    assert len(routes) > 100  # the whole route table, through its included routers
    offenders = [f"{sorted(route.methods)} {route.path}" for route in routes
                 if route.methods & {"POST", "PUT", "PATCH", "DELETE"}
                 and inspect.iscoroutinefunction(route.endpoint) and uses_the_database(route.dependant)]
    assert offenders == []
