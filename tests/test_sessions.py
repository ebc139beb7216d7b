"""Sessions live on the server: sign-out ends them wherever the cookie is used, and so do
"sign out of all devices", the time-outs, a password reset and a role change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models.accounts import Role, User, UserSession
from models.base import utcnow
from tests.conftest import PASSWORD, csrf_of, post_form, sign_in

COOKIE = "groundwork_session"


@contextmanager
def copy_of(app: FastAPI, client: TestClient) -> Iterator[TestClient]:
    """Another browser holding a copy of this client's session cookie (a stolen or saved cookie)."""
    with TestClient(app, follow_redirects=False, cookies={COOKIE: client.cookies[COOKIE]}) as other:
        yield other


def _signed_in(client: TestClient) -> bool:
    return "Sign out" in client.get("/").text


def test_a_saved_cookie_stops_working_after_sign_out(app, client, resident):
    sign_in(client, resident.email)
    with copy_of(app, client) as saved:
        assert _signed_in(saved)
        assert post_form(client, "/signout", {}, page="/").status_code == 303
        assert not _signed_in(saved)
        response = saved.get("/account", headers={"accept": "text/html"})
        assert response.status_code == 303 and response.headers["location"].startswith("/signin")


def test_sign_out_of_all_devices_ends_every_session(app, client, resident, session: Session):
    sign_in(client, resident.email)
    with TestClient(app, follow_redirects=False) as phone:
        sign_in(phone, resident.email)
        page = client.get("/account")
        assert page.status_code == 200 and page.text.count("<li>") >= 2
        done = post_form(phone, "/signout/everywhere", {}, page="/account")
        assert done.status_code == 303
        assert not _signed_in(phone)
    assert not _signed_in(client)
    live = session.exec(select(UserSession).where(UserSession.ended_at == None)).all()  # noqa: E711
    assert live == []


def test_an_idle_session_ends(client, resident, session: Session, settings):
    sign_in(client, resident.email)
    row = session.exec(select(UserSession)).one()
    row.last_seen_at = utcnow() - timedelta(seconds=settings.security.session_idle_s + 1)
    session.add(row)
    session.commit()
    assert not _signed_in(client)


def test_a_session_ends_at_its_absolute_time_out_even_while_used(client, resident, session: Session):
    sign_in(client, resident.email)
    row = session.exec(select(UserSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert not _signed_in(client)


def test_use_keeps_a_session_alive(client, resident, session: Session, settings):
    sign_in(client, resident.email)
    row = session.exec(select(UserSession)).one()
    row.last_seen_at = utcnow() - timedelta(seconds=settings.security.session_idle_s - 60)
    session.add(row)
    session.commit()
    assert _signed_in(client)
    session.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_a_role_change_ends_the_accounts_sessions(app, client, admin, resident, session: Session):
    sign_in(client, resident.email)
    with TestClient(app, follow_redirects=False) as admin_browser:
        sign_in(admin_browser, admin.email)
        changed = admin_browser.post(f"/admin/users/{resident.id}/role",
                                     data={"role": "staff", "csrf_token": csrf_of(admin_browser, "/admin/users")})
        assert changed.status_code == 303
        assert _signed_in(admin_browser)
    assert not _signed_in(client)
    sign_in(client, resident.email)
    assert 'aria-label="Staff"' in client.get("/").text
    assert session.get(User, resident.id).role == Role.staff  # type: ignore[union-attr]


def test_the_csrf_token_still_guards_a_signed_in_session(client, resident):
    sign_in(client, resident.email)
    refused = client.post("/signout/everywhere", data={})
    assert refused.status_code == 403
    assert _signed_in(client)



def test_changing_the_password_signs_out_every_other_device(app, client, resident, session: Session):
    sign_in(client, resident.email)
    with TestClient(app, follow_redirects=False) as phone:
        sign_in(phone, resident.email)
        wrong = post_form(client, "/account/password", {"current_password": "not-it", "new_password": "x" * 12},
                          page="/account")
        assert wrong.status_code == 400 and "That is not your current password." in wrong.text
        assert _signed_in(phone)  # nothing changed
        short = post_form(client, "/account/password", {"current_password": PASSWORD, "new_password": "short"},
                          page="/account")
        assert short.status_code == 400 and "at least 10 characters" in short.text
        done = post_form(client, "/account/password", {"current_password": PASSWORD,
                                                       "new_password": "a-brand-new-password"}, page="/account")
        assert done.status_code == 303
        assert "Every other device is signed out." in client.get("/account").text
        assert _signed_in(client) and not _signed_in(phone)
    post_form(client, "/signout", {}, page="/")
    refused = post_form(client, "/signin", {"email": resident.email, "password": PASSWORD})
    assert refused.status_code == 400
    sign_in(client, resident.email, "a-brand-new-password")


def test_a_session_seen_again_while_another_connection_writes_stays_signed_in(tmp_path) -> None:
    """SQLite: a transaction that has read cannot then write if another connection wrote in between ("database is
    locked" at once, whatever the busy timeout); the once-a-minute touch of a session must not fail a request so."""
    from sqlalchemy import event, text

    from app import accounts, migrate, sessions
    from app.db import make_engine, new_session
    from tests.conftest import make_settings

    url = f"sqlite:///{tmp_path / 'gw.sqlite'}"
    migrate.upgrade(url)
    settings = make_settings(url)
    engine, other = make_engine(url), make_engine(url)
    with new_session(engine) as setup:
        user = accounts.create_user(session=setup, settings=settings, email="ana@example.org", password=PASSWORD)
        token = sessions.start(session=setup, settings=settings, user=user, ip="127.0.0.1", user_agent="test")
        setup.exec(select(UserSession)).one().last_seen_at = utcnow() - timedelta(minutes=5)
        setup.commit()

    def someone_else_writes(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "user_session" in statement:
            with other.begin() as writer:  # another request of the site commits in between
                writer.execute(text("UPDATE user_session SET ip = '10.0.0.2'"))

    event.listen(engine, "after_cursor_execute", someone_else_writes)
    with new_session(engine) as request:
        assert sessions.user_of(session=request, settings=settings, token=token) is not None
    event.remove(engine, "after_cursor_execute", someone_else_writes)
    with new_session(engine) as check:
        assert utcnow() - check.exec(select(UserSession)).one().last_seen_at < timedelta(minutes=1)
    engine.dispose()
    other.dispose()
