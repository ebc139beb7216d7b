"""Sign-in throttling slows down the address that fails, never the account everywhere; proxy
headers count only from trusted proxies; a development server is not exposed by accident."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from models.accounts import LoginAttempt
from tests.conftest import PASSWORD, csrf_of

ATTACKER, OFFICE = ("203.0.113.66", 40000), ("198.51.100.20", 40000)


def _browser(app: FastAPI, address: tuple[str, int]) -> TestClient:
    return TestClient(app, base_url="http://testserver", follow_redirects=False, client=address)


def _try(client: TestClient, email: str, password: str = "wrong-password", **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/signin", data={"email": email, "password": password, "csrf_token": csrf_of(client)},
                       headers=headers)


def test_failures_elsewhere_never_lock_out_the_right_password(app, staff):
    with _browser(app, ATTACKER) as attacker, _browser(app, OFFICE) as office:
        for _ in range(30):
            _try(attacker, staff.email)
        assert _try(attacker, staff.email, PASSWORD).status_code == 429  # the failing address waits
        assert _try(office, staff.email, PASSWORD).status_code == 303  # the staff member does not


def test_delays_grow_with_each_failure_and_say_how_long(app, resident, session: Session, settings):
    free = settings.security.login_free_failures
    with _browser(app, ATTACKER) as attacker:
        for _ in range(free):
            assert _try(attacker, resident.email).status_code == 400
        first = _try(attacker, resident.email)
        assert first.status_code == 429 and first.headers["retry-after"] == str(settings.security.login_delay_base_s)
        assert "Try again in 2 seconds, or reset your password." in first.text
        for attempt in session.exec(select(LoginAttempt)):
            attempt.at -= timedelta(seconds=5)  # the wait has passed
            session.add(attempt)
        session.commit()
        assert _try(attacker, resident.email).status_code == 400  # the wait is over: one more try, which fails
        second = _try(attacker, resident.email)
        assert second.status_code == 429 and second.headers["retry-after"] == "4"
        assert len(session.exec(select(LoginAttempt)).all()) == free + 1  # refused tries are not even checked


def test_one_address_failing_across_many_accounts_waits(app, resident, settings):
    limit = settings.security.login_free_failures_per_ip
    with _browser(app, ATTACKER) as attacker, _browser(app, OFFICE) as office:
        for n in range(limit):
            _try(attacker, f"guess{n}@example.org")
        assert _try(attacker, resident.email, PASSWORD).status_code == 429
        assert _try(office, resident.email, PASSWORD).status_code == 303


def test_x_forwarded_for_from_anyone_does_not_change_the_address(app, resident, settings):
    with _browser(app, ATTACKER) as attacker:
        for n in range(settings.security.login_free_failures):
            _try(attacker, resident.email, **{"X-Forwarded-For": f"192.0.2.{n}"})
        refused = _try(attacker, resident.email, PASSWORD, **{"X-Forwarded-For": "192.0.2.200"})
        assert refused.status_code == 429


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(app, resident, session: Session):
    security = app.state.settings.security.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    app.state.settings = app.state.settings.model_copy(update={"security": security})
    with _browser(app, ("10.0.0.2", 50000)) as proxy:
        _try(proxy, resident.email, **{"X-Forwarded-For": "192.0.2.99, 198.51.100.7"})
    with _browser(app, ATTACKER) as direct:
        _try(direct, resident.email, **{"X-Forwarded-For": "198.51.100.8"})
    addresses = [a.ip for a in session.exec(select(LoginAttempt).order_by(LoginAttempt.id))]  # type: ignore[arg-type]
    assert addresses == ["198.51.100.7", ATTACKER[0]]


def test_staff_see_recent_attempts_and_who_is_waiting(app, client, staff, resident, settings):
    # a wait long enough to still be running when the page is read, however slow the machine
    security = app.state.settings.security.model_copy(update={"login_delay_base_s": 600})
    app.state.settings = app.state.settings.model_copy(update={"security": security})
    with _browser(app, ATTACKER) as attacker:
        for _ in range(settings.security.login_free_failures):
            _try(attacker, resident.email)
    with _browser(app, OFFICE) as office:
        assert _try(office, staff.email, PASSWORD).status_code == 303
        page = office.get("/staff/sign-ins")
        assert page.status_code == 200
        assert page.text.count(ATTACKER[0]) == settings.security.login_free_failures
        assert "resident@example.org" in page.text and "failed" in page.text and " s</td>" in page.text
    with _browser(app, OFFICE) as other:
        assert _try(other, resident.email, PASSWORD).status_code == 303
        assert other.get("/staff/sign-ins", headers={"accept": "text/html"}).status_code == 403


@pytest.fixture
def serve_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict]:  # type: ignore[type-arg]
    import uvicorn

    from app import migrate

    calls: list[dict] = []  # type: ignore[type-arg]
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(migrate, "ensure_current", lambda engine: None)
    monkeypatch.setenv("GROUNDWORK_DATABASE_URL", "sqlite:///:memory:")
    monkeypatch.delenv("GROUNDWORK_ENVIRONMENT", raising=False)
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_serve_believes_no_proxy_headers_unless_proxies_are_trusted(serve_calls, monkeypatch):
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert serve_calls[0]["proxy_headers"] is False and serve_calls[0]["forwarded_allow_ips"] != "*"
    monkeypatch.setenv("GROUNDWORK_SECURITY__TRUSTED_PROXIES", '["127.0.0.1", "10.0.0.0/8"]')
    get_settings.cache_clear()
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert serve_calls[1]["proxy_headers"] is True and serve_calls[1]["forwarded_allow_ips"] == "127.0.0.1,10.0.0.0/8"


def test_development_server_on_a_public_address_refuses_unless_told(serve_calls):
    refused = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert refused.exit_code == 1 and serve_calls == []
    assert "refusing to serve development mode on 0.0.0.0" in refused.output
    assert "--expose-development" in refused.output
    told = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--expose-development"])
    assert told.exit_code == 0 and serve_calls[0]["host"] == "0.0.0.0"
    assert "warning:" in told.output and "demo accounts" in told.output and "/outbox" in told.output
    assert CliRunner().invoke(cli, ["serve", "--host", "::1"]).exit_code == 0  # loopback is fine
