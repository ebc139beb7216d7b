"""Mail is queued by requests and delivered by a sender outside them: once, retried, given up with the error."""

from __future__ import annotations

import logging
import re
import smtplib
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import db, mail
from app import settings as settings_module
from app.cli import cli
from app.db import make_engine, new_session
from app.mail_sender import MailSender
from app.main import create_app
from app.settings import MailSettings, Settings
from models.accounts import PendingRegistration
from models.base import utcnow
from models.outbox import OutboxMessage
from tests.conftest import Database, fresh_database, make_settings, post_form


class FakeSMTP:
    """Stands in for smtplib.SMTP: records connections and messages; can refuse to connect."""

    def __init__(self) -> None:
        self.connections = 0
        self.sent: list[tuple[str, str, str | None]] = []  # recipient, subject, List-Unsubscribe
        self.refuse: Exception | None = None
        self.pause_s = 0.0
        self.lock = threading.Lock()

    def __call__(self, host: str, port: int, timeout: float) -> FakeSMTP:
        with self.lock:
            self.connections += 1
        if self.refuse is not None:
            raise self.refuse
        return self

    def starttls(self) -> None: ...
    def login(self, user: str, password: str) -> None: ...
    def quit(self) -> None: ...
    def close(self) -> None: ...

    def send_message(self, email) -> None:  # type: ignore[no-untyped-def]
        time.sleep(self.pause_s)
        with self.lock:
            self.sent.append((email["To"], email["Subject"], email["List-Unsubscribe"]))


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> FakeSMTP:
    fake = FakeSMTP()
    monkeypatch.setattr(smtplib, "SMTP", fake)
    return fake


def _with_smtp(url: str, **mail_settings: object) -> Settings:
    return make_settings(url, mail=MailSettings(smtp_host="smtp.city.test", **mail_settings))  # type: ignore[arg-type]


def _queue(session: Session, settings: Settings, count: int = 1) -> None:
    for n in range(count):
        mail.send(session=session, settings=settings, recipient=f"person{n}@example.org", subject=f"Message {n}",
                  body="Hello.", headers={"List-Unsubscribe": f"<https://city.test/u/{n}>"})
    session.commit()


def test_forgot_password_answers_before_any_mail_server_is_reached_known_address_or_not(
        app, client, resident, session: Session, database, smtp: FakeSMTP):
    settings = _with_smtp(database.url)
    app.state.settings = settings
    known = post_form(client, "/password/forgot", {"email": resident.email}, page="/password/forgot")
    unknown = post_form(client, "/password/forgot", {"email": "ghost@example.org"}, page="/password/forgot")
    registered = post_form(client, "/register", {"email": resident.email, "password": "another-password"},
                           page="/register")
    assert smtp.connections == 0  # no request talked to the mail server
    strip = lambda text: re.sub(rf"{re.escape(resident.email)}|ghost@example\.org|value=\"[^\"]+\"", "", text)  # noqa: E731
    assert known.status_code == unknown.status_code == registered.status_code == 200
    assert strip(known.text) == strip(unknown.text)
    queued = session.exec(select(OutboxMessage)).all()
    assert [(m.recipient, m.sent_at) for m in queued] == [(resident.email, None)] * 2
    done = mail.deliver(session=session, settings=settings, sender="test")
    assert (done.sent, smtp.connections) == (2, 1)  # one connection for the run
    assert sorted(subject for _, subject, _ in smtp.sent) == [
        "Reset your Groundwork password", "Someone tried to create a Groundwork account with your email"]
    assert mail.deliver(session=session, settings=settings, sender="test").sent == 0  # sent once


@pytest.fixture
def committed(database: Database, tmp_path: Path) -> Iterator[tuple[str, object]]:
    """A database of its own whose rows are committed, as servers' senders see them."""
    url, remove = fresh_database(database.kind, tmp_path)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    remove()  # type: ignore[operator]


def test_two_senders_racing_deliver_every_message_once(committed, smtp: FakeSMTP):
    url, engine = committed
    settings = _with_smtp(url)
    with new_session(engine) as session:  # type: ignore[arg-type]
        _queue(session, settings, 12)
    smtp.pause_s = 0.01
    barrier = threading.Barrier(2)

    def sender(name: str) -> None:
        barrier.wait()
        with new_session(engine) as session:  # type: ignore[arg-type]
            mail.deliver(session=session, settings=settings, sender=name)

    threads = [threading.Thread(target=sender, args=(name,)) for name in ("server-a", "server-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(recipient for recipient, _, _ in smtp.sent) == sorted(f"person{n}@example.org" for n in range(12))
    assert {unsubscribe for _, _, unsubscribe in smtp.sent} == {f"<https://city.test/u/{n}>" for n in range(12)}
    with new_session(engine) as session:  # type: ignore[arg-type]
        rows = session.exec(select(OutboxMessage)).all()
        assert all(m.sent_at and m.attempts == 1 and m.claimed_by is None for m in rows)


def _age(session: Session, **values: object) -> None:
    session.exec(update(OutboxMessage).values(**values))  # type: ignore[call-overload]
    session.commit()


def test_a_failing_mail_server_is_tried_again_later_then_the_message_is_marked_failed(
        session: Session, database, smtp: FakeSMTP):
    settings = _with_smtp(database.url, max_attempts=3, retry_base_s=60)
    _queue(session, settings)
    smtp.refuse = ConnectionRefusedError(111, "Connection refused")
    waits = []
    for attempt in (1, 2, 3):
        done = mail.deliver(session=session, settings=settings, sender="test")
        message = session.exec(select(OutboxMessage)).one()
        session.refresh(message)
        assert message.attempts == attempt and "Connection refused" in (message.error or "")
        if attempt < 3:
            assert (done.retrying, message.failed_at) == (1, None)
            waits.append(round((message.next_attempt_at - utcnow()).total_seconds() / 60))  # type: ignore[operator]
            assert mail.deliver(session=session, settings=settings, sender="test").retrying == 0  # not due yet
            assert smtp.connections == attempt
            _age(session, next_attempt_at=utcnow() - timedelta(seconds=1))
    assert waits == [1, 2]  # minutes: the pause doubles
    assert done.failed == 1 and message.failed_at is not None and message.sent_at is None
    _age(session, next_attempt_at=None)
    mail.deliver(session=session, settings=settings, sender="test")
    assert smtp.connections == 3  # given up: never tried again


def test_a_title_with_a_line_break_neither_breaks_its_mail_nor_holds_up_the_others(
        session: Session, database, smtp: FakeSMTP):
    settings = _with_smtp(database.url)
    mail.send(session=session, settings=settings, recipient="follower@example.org",
              subject="Update: Main St\nBcc: everyone@example.org", body="Hello.")
    session.add(OutboxMessage(recipient="old@example.org", subject="Queued before\nthe fix", body="Hello."))
    _queue(session, settings)
    done = mail.deliver(session=session, settings=settings, sender="test")
    assert (done.sent, done.failed) == (2, 1)  # the unwritable one is given up at once, the rest go out
    assert ("follower@example.org", "Update: Main St Bcc: everyone@example.org", None) in smtp.sent
    broken = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == "old@example.org")).one()
    session.refresh(broken)
    assert broken.failed_at is not None and broken.error


def test_a_message_whose_sender_stopped_mid_send_is_sent_after_the_claim_times_out(
        session: Session, database, smtp: FakeSMTP):
    settings = _with_smtp(database.url, claim_timeout_s=600)
    _queue(session, settings)
    assert mail.claim(session=session, settings=settings, sender="killed-server") is not None
    assert mail.deliver(session=session, settings=settings, sender="other").sent == 0  # still claimed
    _age(session, claimed_at=utcnow() - timedelta(seconds=601))
    assert mail.deliver(session=session, settings=settings, sender="other").sent == 1
    message = session.exec(select(OutboxMessage)).one()
    session.refresh(message)
    assert (message.attempts, message.claimed_by, len(smtp.sent)) == (2, None, 1)


def test_without_a_mail_server_messages_stay_readable_in_the_outbox(session: Session, settings, smtp: FakeSMTP):
    _queue(session, settings)
    assert mail.deliver(session=session, settings=settings, sender="test").sent == 0
    assert smtp.connections == 0
    assert [m.subject for m in mail.outbox(session=session)] == ["Message 0"]


def test_the_servers_sender_thread_delivers_and_stops_with_the_app(committed, smtp: FakeSMTP):
    url, engine = committed
    settings = _with_smtp(url, sender_poll_s=0.05)
    with new_session(engine) as session:  # type: ignore[arg-type]
        _queue(session, settings, 2)
    app = create_app(settings, engine=engine, check_schema=False)  # type: ignore[arg-type]
    before = set(threading.enumerate())  # another test's app in this worker may still be winding down its own
    with TestClient(app):
        ours = [t for t in threading.enumerate() if t.name == "mail-sender" and t not in before]
        deadline = time.monotonic() + 10
        while len(smtp.sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(smtp.sent) == 2
    assert ours and not any(thread.is_alive() for thread in ours)


def test_the_sender_says_once_that_the_database_is_gone_and_stops_when_told(tmp_path: Path, caplog):
    gone = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'gw.sqlite'}")
    sender = MailSender(gone, make_settings("sqlite://", mail=MailSettings(sender_poll_s=0.01)))
    with caplog.at_level(logging.WARNING, logger="app.mail_sender"):
        sender.start()
        time.sleep(0.5)
        sender.stop()
    assert not sender.thread.is_alive()
    assert len([r for r in caplog.records if r.name == "app.mail_sender"]) == 1


def test_mail_send_and_housekeeping_commands(committed, smtp: FakeSMTP, monkeypatch: pytest.MonkeyPatch):
    url, engine = committed
    with new_session(engine) as session:  # type: ignore[arg-type]
        _queue(session, _with_smtp(url), 3)
        session.add(PendingRegistration(email="late@example.org", display_name="Late", password_hash="x",
                                        token_hash="0" * 64, expires_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    monkeypatch.setenv("GROUNDWORK_DATABASE_URL", url)
    monkeypatch.setenv("GROUNDWORK_MAIL__SMTP_HOST", "smtp.city.test")
    settings_module.get_settings.cache_clear()
    db.get_engine.cache_clear()
    try:
        first = CliRunner().invoke(cli, ["mail", "send"])
        again = CliRunner().invoke(cli, ["mail", "send"])
        status = CliRunner().invoke(cli, ["mail", "status"])
        tidied = CliRunner().invoke(cli, ["housekeeping"])
    finally:
        db.get_engine().dispose()
        db.get_engine.cache_clear()
        settings_module.get_settings.cache_clear()
    assert first.exit_code == 0 and "Sent 3;" in first.output
    assert "Sent 0;" in again.output and len(smtp.sent) == 3
    assert "Queued 0, sent 3, failed 0." in status.output
    assert tidied.exit_code == 0 and "Deleted 1 expired registrations" in " ".join(tidied.output.split())
    with new_session(engine) as session:  # type: ignore[arg-type]
        assert all(m.sent_at for m in session.exec(select(OutboxMessage).where(col(OutboxMessage.id) > 0)))
        assert session.exec(select(PendingRegistration)).all() == []
