"""CSRF on every unsafe request, cookie flags, security headers, escaping."""

from __future__ import annotations

from sqlmodel import Session, select

from models.accounts import Role, User
from tests.conftest import csrf_of, make_user, post_form, sign_in


def test_post_without_csrf_token_is_refused_with_403_and_changes_nothing(client, session: Session):
    response = client.post("/register", data={"email": "x@example.org", "password": "long-enough-pw"},
                           headers={"accept": "text/html"})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert session.exec(select(User)).all() == []


def test_stale_csrf_token_from_before_sign_in_is_refused(client, resident):
    stale = csrf_of(client)
    sign_in(client, resident.email)  # signing in rotates the token
    response = client.post("/signout", data={"csrf_token": stale})
    assert response.status_code == 403
    assert "Sign out" in client.get("/").text


def test_htmx_requests_send_the_token_in_a_header(client, session: Session, settings, admin):
    target = make_user(session, settings, "helper@example.org")
    sign_in(client, admin.email)
    token = csrf_of(client, "/admin/users")
    refused = client.post(f"/admin/users/{target.id}/role", data={"role": "staff"}, headers={"HX-Request": "true"})
    assert refused.status_code == 403
    accepted = client.post(f"/admin/users/{target.id}/role", data={"role": "staff"},
                           headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert accepted.status_code == 303
    session.refresh(target)
    assert target.role == Role.staff


def test_json_api_posts_need_the_header_too(client):
    response = client.post("/signout", json={})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def test_session_cookie_is_httponly_and_samesite(client):
    cookie = client.get("/signin").headers.get("set-cookie", "")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_pages_carry_security_headers(client):
    headers = client.get("/").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_names_with_html_are_shown_inert(client, session: Session, settings, admin):
    make_user(session, settings, "mallory@example.org").display_name = "<script>alert(1)</script>"
    session.commit()
    sign_in(client, admin.email)
    page = client.get("/admin/users").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_admin_cannot_demote_themselves(client, admin, session: Session):
    sign_in(client, admin.email)
    response = post_form(client, f"/admin/users/{admin.id}/role", {"role": "resident"}, page="/admin/users")
    assert response.status_code == 303
    session.refresh(admin)
    assert admin.role == Role.admin


def test_role_change_is_in_the_audit_log_and_its_export(client, admin, session: Session, settings):
    target = make_user(session, settings, "=cmd@example.org")
    sign_in(client, admin.email)
    post_form(client, f"/admin/users/{target.id}/role", {"role": "staff"}, page="/admin/users")
    log = client.get("/staff/audit").text
    assert "user.role" in log and "staff" in log
    export = client.get("/staff/audit.csv")
    assert export.status_code == 200 and "user.role" in export.text
    assert ",=" not in export.text  # a formula-looking cell is quoted for spreadsheets


def test_the_audit_log_names_who_did_what_to_which_object_field_by_field(client, admin, session: Session, settings):
    target = make_user(session, settings, "clerk@example.org")
    sign_in(client, admin.email)
    post_form(client, f"/admin/users/{target.id}/role", {"role": "staff"}, page="/admin/users")
    log = client.get("/staff/audit").text
    assert "Who = 1" not in log and f"{admin.display_name} ({admin.email})" in log
    assert "User “clerk@example.org”" in log
    assert "<strong>role</strong>:\n          resident → staff" in log or "resident → staff" in log
    assert '{"role"' not in log  # no raw JSON
    only = client.get("/staff/audit", params={"action": "user.role"}).text
    assert "User role" in only and "User create" not in only
    export = client.get("/staff/audit.csv").text
    assert f"{admin.display_name} ({admin.email})" in export and "User “clerk@example.org”" in export
