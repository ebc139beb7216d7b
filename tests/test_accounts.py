"""Registration, sign-in, roles, password reset: what a person sees."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import accounts
from models.accounts import LoginAttempt, MailRequest, PasswordReset, User
from models.base import utcnow
from models.outbox import OutboxMessage
from tests.conftest import PASSWORD, csrf_of, make_user, post_form, sign_in


def _last_mail(session: Session) -> OutboxMessage:
    message = session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()  # type: ignore[union-attr]
    assert message is not None
    return message


def test_resident_registers_by_mailed_link_and_is_signed_in(client, session: Session):
    response = post_form(client, "/register", {"email": "Ana@Example.org", "password": "a-good-password",
                                               "display_name": "Ana"}, page="/register")
    assert response.status_code == 200 and "We have sent a message to ana@example.org" in response.text
    assert session.exec(select(User)).all() == []  # nothing until the link is opened
    mail = _last_mail(session)
    assert mail.recipient == "ana@example.org" and "Finish creating" in mail.subject
    link = re.search(r"http://testserver(/register/confirm/\S+)", mail.body)
    assert link
    assert "Create my account" in client.get(link.group(1)).text
    assert session.exec(select(User)).all() == []  # opening the link (a mail scanner) makes nothing
    confirmed = post_form(client, link.group(1), {}, page=link.group(1))
    assert confirmed.status_code == 303
    home = client.get("/")
    assert "Ana" in home.text and "Sign out" in home.text
    user = session.exec(select(User).where(User.email == "ana@example.org")).one()
    assert user.role == "resident"
    assert user.password_hash.startswith("$argon2id$")
    assert client.get(link.group(1)).status_code == 400  # used once


def test_registration_answers_the_same_for_a_known_address_and_mails_its_holder(client, session: Session,
                                                                                settings):
    make_user(session, settings, "ana@example.org")
    known = post_form(client, "/register", {"email": "ANA@example.org", "password": "another-password"},
                      page="/register")
    new = post_form(client, "/register", {"email": "bo@example.org", "password": "another-password"},
                    page="/register")
    assert known.status_code == new.status_code == 200
    assert "already exists" not in known.text
    strip = lambda text: re.sub(r"(ana|bo)@example\.org|name=\"csrf_token\" value=\"[^\"]+\"", "", text)  # noqa: E731
    assert strip(known.text) == strip(new.text)
    assert len(session.exec(select(User)).all()) == 1
    to_holder = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == "ana@example.org")).one()
    assert "already has one" in to_holder.body and "/register/confirm/" not in to_holder.body


def test_short_password_and_bad_email_are_explained(client):
    short = post_form(client, "/register", {"email": "bo@example.org", "password": "short"}, page="/register")
    assert short.status_code == 400 and "at least 10 characters" in short.text
    bad = post_form(client, "/register", {"email": "not-an-email", "password": "long-enough-pw"}, page="/register")
    assert bad.status_code == 400 and "not valid" in bad.text


def test_admin_created_from_cli_service_sees_staff_navigation(client, admin):
    sign_in(client, admin.email)
    page = client.get("/").text
    assert 'aria-label="Staff"' in page
    assert "/admin/users" in page and "/staff/audit" in page


def test_resident_sees_no_staff_navigation_and_cannot_open_admin_pages(client, resident):
    sign_in(client, resident.email)
    assert 'aria-label="Staff"' not in client.get("/").text
    assert client.get("/admin/users", headers={"accept": "text/html"}).status_code == 403


def test_anonymous_admin_page_redirects_to_sign_in(client):
    response = client.get("/admin/users", headers={"accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/admin/users"


def test_admin_pages_follow_the_viewers_language(client, admin, resident):
    sign_in(client, admin.email)
    english = client.get("/admin/users").text
    assert "<h1>Users</h1>" in english and "Joined" in english and ">resident</span>" in english
    assert post_form(client, "/language", {"lang": "es", "next": "/"}, page="/").status_code == 303
    users = client.get("/admin/users").text
    assert "<h1>Usuarios</h1>" in users and "Fecha de alta" in users and ">residente</span>" in users
    assert "Joined" not in users
    refused = post_form(client, f"/admin/users/{admin.id}/role", {"role": "staff"}, page="/admin/users")
    assert refused.status_code == 303
    assert "No puede quitarse su propio rol de administración" in client.get("/admin/users").text
    audit = client.get("/staff/audit").text
    assert "Registro de auditoría" in audit and "Todas las acciones" in audit and "Every action" not in audit
    sign_ins = client.get("/staff/sign-ins").text
    assert "<h1>Intentos de inicio de sesión</h1>" in sign_ins and "sesión iniciada" in sign_ins


def test_wrong_password_and_unknown_email_get_the_same_message(client, resident):
    wrong = post_form(client, "/signin", {"email": resident.email, "password": "wrong-password"})
    unknown = post_form(client, "/signin", {"email": "nobody@example.org", "password": "wrong-password"})
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "do not match an account" in response.text
    assert "Sign out" not in client.get("/").text


def test_repeated_failures_slow_down_the_address_they_come_from(client, resident, session: Session, settings):
    for _ in range(settings.security.login_free_failures):
        post_form(client, "/signin", {"email": resident.email, "password": "wrong-password"})
    blocked = post_form(client, "/signin", {"email": resident.email, "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins from your address. Try again in" in blocked.text
    assert "Sign out" not in client.get("/").text


def test_sign_in_redirects_only_to_same_site_paths(client, resident):
    response = post_form(client, "/signin", {"email": resident.email, "password": PASSWORD,
                                             "next": "https://evil.example/"})
    assert response.headers["location"] == "/"


def test_sign_out_ends_the_session(client, resident):
    sign_in(client, resident.email)
    assert post_form(client, "/signout", {}, page="/").status_code == 303
    assert "Sign out" not in client.get("/").text


def _reset_link(session: Session) -> str:
    message = session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()  # type: ignore[union-attr]
    assert message is not None
    match = re.search(r"http://testserver(/password/reset/\S+)", message.body)
    assert match
    return match.group(1)


def test_password_reset_by_mailed_link(client, resident, session: Session):
    sent = post_form(client, "/password/forgot", {"email": resident.email}, page="/password/forgot")
    assert "we have sent it a link" in sent.text
    link = _reset_link(session)
    assert client.get(link).status_code == 200
    done = post_form(client, link, {"password": "my-new-password"}, page=link)
    assert done.status_code == 303
    sign_in(client, resident.email, "my-new-password")
    used_again = client.get(link)
    assert used_again.status_code == 400 and "already used" in used_again.text


def test_password_reset_for_unknown_email_reveals_nothing_and_sends_nothing(client, session: Session):
    response = post_form(client, "/password/forgot", {"email": "ghost@example.org"}, page="/password/forgot")
    assert "If an account exists" in response.text
    assert session.exec(select(OutboxMessage)).all() == []


def test_expired_reset_token_is_refused_and_password_unchanged(client, resident, session: Session):
    post_form(client, "/password/forgot", {"email": resident.email}, page="/password/forgot")
    link = _reset_link(session)
    reset = session.exec(select(PasswordReset)).one()
    reset.expires_at = utcnow() - timedelta(minutes=1)
    session.add(reset)
    session.commit()
    response = client.get(link)
    assert response.status_code == 400 and "expired" in response.text
    sign_in(client, resident.email)  # the old password still works


def test_password_reset_ends_other_sessions(client, app, resident, session: Session):
    from fastapi.testclient import TestClient

    sign_in(client, resident.email)
    with TestClient(app, follow_redirects=False) as other:
        post_form(other, "/password/forgot", {"email": resident.email}, page="/password/forgot")
        link = _reset_link(session)
        post_form(other, link, {"password": "brand-new-password"}, page=link)
    assert "Sign out" not in client.get("/").text


def test_outbox_is_only_for_signed_in_admins_and_only_without_a_mail_server(app, client, resident, admin,
                                                                             session: Session):
    app.state.settings = app.state.settings.model_copy(update={"environment": "development"})  # the default
    post_form(client, "/password/forgot", {"email": admin.email}, page="/password/forgot")
    assert client.get("/outbox").status_code == 404  # anonymous: the admin's reset link stays hidden
    sign_in(client, resident.email)
    assert client.get("/outbox").status_code == 404
    sign_in(client, admin.email)
    page = client.get("/outbox")
    assert page.status_code == 200 and "Reset your Groundwork password" in page.text
    mail = app.state.settings.mail.model_copy(update={"smtp_host": "smtp.city.gov"})
    app.state.settings = app.state.settings.model_copy(update={"mail": mail})
    assert client.get("/outbox").status_code == 404  # mail is really sent: nothing to read here


def test_successful_sign_in_is_recorded_and_resets_the_address_delay(client, resident, session: Session,
                                                                     settings):
    for _ in range(settings.security.login_free_failures - 1):
        post_form(client, "/signin", {"email": resident.email, "password": "wrong-password"})
    sign_in(client, resident.email)
    client.post("/signout", data={"csrf_token": csrf_of(client, "/")})
    post_form(client, "/signin", {"email": resident.email, "password": "wrong-password"})
    sign_in(client, resident.email)  # the earlier failures no longer count
    attempts = session.exec(select(LoginAttempt).order_by(LoginAttempt.id)).all()  # type: ignore[arg-type]
    assert [a.succeeded for a in attempts][-3:] == [True, False, True]


def _mails_to(session: Session, email: str) -> int:
    return len(session.exec(select(OutboxMessage).where(OutboxMessage.recipient == email)).all())


def _same_page(text: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", text)


def test_registration_mail_to_one_address_is_spaced_out_and_the_page_says_the_same(client, session: Session,
                                                                                    settings):
    free = settings.security.account_mail_free_per_address
    pages = [post_form(client, "/register", {"email": "target@example.org", "password": "a-good-password"},
                       page="/register") for _ in range(free + 2)]
    assert {page.status_code for page in pages} == {200}
    assert len({_same_page(page.text) for page in pages}) == 1  # held back or sent: the same answer
    assert _mails_to(session, "target@example.org") == free
    post_form(client, "/password/forgot", {"email": "target@example.org"}, page="/password/forgot")
    assert _mails_to(session, "target@example.org") == free  # reset requests count towards the same limit
    post_form(client, "/register", {"email": "other@example.org", "password": "a-good-password"}, page="/register")
    assert _mails_to(session, "other@example.org") == 1  # other addresses are not held back
    for request in session.exec(select(MailRequest)):
        request.at -= timedelta(seconds=settings.security.account_mail_delay_base_s + 1)  # the wait has passed
        session.add(request)
    session.commit()
    post_form(client, "/register", {"email": "target@example.org", "password": "a-good-password"}, page="/register")
    assert _mails_to(session, "target@example.org") == free + 1


def test_account_mail_from_one_client_address_is_throttled_known_address_or_not(app, resident, session: Session,
                                                                                settings):
    security = settings.security.model_copy(update={"account_mail_free_per_ip": 2})
    app.state.settings = settings.model_copy(update={"security": security})
    with TestClient(app, follow_redirects=False, client=("203.0.113.66", 40000)) as sender:
        for address in ("a@example.org", "ghost@example.org"):  # an unknown address counts too
            post_form(sender, "/password/forgot" if address.startswith("ghost") else "/register",
                      {"email": address, "password": "a-good-password"}, page="/register")
        held = post_form(sender, "/password/forgot", {"email": resident.email}, page="/password/forgot")
        assert held.status_code == 200 and "If an account exists" in held.text
        post_form(sender, "/register", {"email": "b@example.org", "password": "a-good-password"}, page="/register")
    assert (_mails_to(session, "a@example.org"), _mails_to(session, resident.email),
            _mails_to(session, "b@example.org")) == (1, 0, 0)
    with TestClient(app, follow_redirects=False, client=("198.51.100.20", 40000)) as office:
        post_form(office, "/password/forgot", {"email": resident.email}, page="/password/forgot")
    assert _mails_to(session, resident.email) == 1


def test_nobody_elsewhere_can_hold_back_a_persons_own_reset_mail_for_more_than_minutes(app, resident,
                                                                                       session: Session, settings):
    security = settings.security
    for n in range(security.account_mail_free_per_recipient + 3):  # a botnet asks for the resident's reset
        with TestClient(app, follow_redirects=False, client=(f"203.0.113.{n + 1}", 40000)) as attacker:
            for _ in range(security.account_mail_free_per_address + 1):
                post_form(attacker, "/password/forgot", {"email": resident.email}, page="/password/forgot")
    sent = _mails_to(session, resident.email)
    assert sent == security.account_mail_free_per_recipient  # then at most one per spacing
    for request in session.exec(select(MailRequest)):
        request.at -= timedelta(seconds=security.account_mail_recipient_spacing_s + 1)  # a few minutes later
        session.add(request)
    session.commit()
    with TestClient(app, follow_redirects=False, client=("198.51.100.20", 40000)) as own:
        post_form(own, "/password/forgot", {"email": resident.email}, page="/password/forgot")
    assert _mails_to(session, resident.email) == sent + 1  # the person's own request gets through


def test_housekeeping_deletes_expired_registrations_links_old_attempts_and_ended_sessions(session: Session,
                                                                                         settings, resident):
    from app import housekeeping, sessions
    from app.security import token_digest
    from models.accounts import PendingRegistration, UserSession

    now = utcnow()
    for address in ("late@example.org", "fresh@example.org"):
        accounts.register(session=session, settings=settings, email=address, password="a-good-password")
    late = session.exec(select(PendingRegistration).where(PendingRegistration.email == "late@example.org")).one()
    late.expires_at = now - timedelta(minutes=1)
    resets = [PasswordReset(user_id=resident.id, token_hash=f"{n:064d}", expires_at=now + expires, used_at=used)
              for n, (expires, used) in enumerate([(timedelta(hours=1), None), (timedelta(hours=1), now),
                                                   (-timedelta(minutes=1), None)])]
    attempts = [LoginAttempt(email=resident.email, ip="198.51.100.20", at=now - age)
                for age in (timedelta(days=31), timedelta(hours=1))]
    session.add_all([late, *resets, *attempts, MailRequest(email="x@example.org", ip="", at=now - timedelta(days=2))])
    session.commit()
    live, ended, idle = (sessions.start(session=session, settings=settings, user=resident, ip="", user_agent="")
                         for _ in range(3))
    sessions.end(session=session, token=ended)
    idle_row = session.exec(select(UserSession).where(UserSession.token_hash == token_digest(idle))).one()
    idle_row.last_seen_at = now - timedelta(seconds=settings.security.session_idle_s + 60)
    session.add(idle_row)
    session.commit()

    tidied = housekeeping.tidy(session=session, settings=settings)
    assert tidied.as_dict() == {"pending_registrations": 1, "password_resets": 2, "login_attempts": 1,
                                "sessions": 2, "mail_requests": 1}
    assert [p.email for p in session.exec(select(PendingRegistration))] == ["fresh@example.org"]
    assert [r.token_hash for r in session.exec(select(PasswordReset))] == [f"{0:064d}"]
    assert len(session.exec(select(LoginAttempt)).all()) == 1
    assert sessions.user_of(session=session, settings=settings, token=live) == resident  # still signed in
    assert len(session.exec(select(UserSession)).all()) == 1
    assert len(session.exec(select(MailRequest)).all()) == 2  # this window's registrations still count
    assert not any(housekeeping.tidy(session=session, settings=settings).as_dict().values())


def test_passwords_are_hashed_at_argon2id_s_full_cost_outside_the_tests() -> None:
    # the suite hashes at the smallest cost (tests/conftest.py); what the application itself holds is checked here
    from tests.conftest import PRODUCTION_PASSWORD_HASH

    hashed = PRODUCTION_PASSWORD_HASH.hash("a-long-test-password")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PRODUCTION_PASSWORD_HASH.verify("a-long-test-password", hashed)
