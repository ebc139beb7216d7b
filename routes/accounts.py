"""Register (by mailed link), sign in and out (here or on every device), reset a password, and, while
no mail server is set, let admins read the outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import accounts, mail, sessions
from app.accounts import AccountError, TooManySignIns
from app.deps import CurrentUser, SessionDep, SettingsDep, ViewerDep
from app.i18n import gettext as _
from app.security import CSRF_SESSION_KEY, client_address, new_token
from app.settings import Settings
from app.web import flash, render, use_viewer_language
from models.accounts import Role, User

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _client_ip(request: Request, settings: Settings) -> str:
    return client_address(request.client.host if request.client else None, request.headers.get("x-forwarded-for"),
                          settings.security.trusted_proxies)


def _start_session(request: Request, session: Session, settings: Settings, user: User) -> None:
    """A fresh session on sign-in: a new server-side session (no fixation) and a new CSRF token."""
    token = sessions.start(session=session, settings=settings, user=user, ip=_client_ip(request, settings),
                           user_agent=request.headers.get("user-agent", ""))
    request.session.clear()
    request.session.update({sessions.COOKIE_KEY: token, CSRF_SESSION_KEY: new_token()})


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request) -> HTMLResponse:
    return render(request, "accounts/register.html", {"form": {}, "errors": {}, "sent_to": None})


@router.post("/register", response_model=None)
def register(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    display_name: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    try:
        sent_to = accounts.register(session=session, settings=settings, email=email, password=password,
                                    display_name=display_name, ip=_client_ip(request, settings))
    except AccountError as error:
        return render(request, "accounts/register.html",
                      {"form": {"email": email, "display_name": display_name}, "sent_to": None,
                       "errors": {error.field or "form": str(error)}}, status_code=400)
    return render(request, "accounts/register.html", {"form": {}, "errors": {}, "sent_to": sent_to})


@router.get("/register/confirm/{token}", response_class=HTMLResponse)
def confirm_form(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """The mailed link opens a page with one button, so a mail scanner following links makes nothing."""
    try:
        email = accounts.check_registration_token(session=session, token=token)
    except AccountError as error:
        return render(request, "accounts/confirm.html", {"token": None, "error": str(error)}, status_code=400)
    return render(request, "accounts/confirm.html", {"token": token, "email": email, "error": None})


@router.post("/register/confirm/{token}", response_model=None)
def confirm(request: Request, session: SessionDep, settings: SettingsDep, token: str) -> Response:
    try:
        user = accounts.confirm_registration(session=session, token=token)
    except AccountError as error:
        return render(request, "accounts/confirm.html", {"token": None, "error": str(error)}, status_code=400)
    _start_session(request, session, settings, user)
    flash(request, _("Welcome, {name}. Your account is ready.").format(name=user.display_name), "success")
    return RedirectResponse("/", status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "accounts/signin.html", {"form": {}, "next": _safe_next(next), "error": None})


@router.post("/signin", response_model=None)
def signin(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = accounts.authenticate(session=session, settings=settings, email=email, password=password,
                                     ip=_client_ip(request, settings))
    except AccountError as error:
        wait = error.retry_after_s if isinstance(error, TooManySignIns) else None
        return render(request, "accounts/signin.html",
                      {"form": {"email": email}, "next": _safe_next(next), "error": str(error)},
                      status_code=400 if wait is None else 429,
                      headers=None if wait is None else {"Retry-After": str(wait)})
    _start_session(request, session, settings, user)
    flash(request, _("Signed in as {name}.").format(name=user.display_name), "success")
    target = _safe_next(next)
    if target == "/" and user.role in (Role.staff, Role.admin):
        target = "/staff"  # staff land on what needs them now
    return RedirectResponse(target, status_code=303)


@router.post("/signout")
def signout(request: Request, session: SessionDep) -> RedirectResponse:
    """Ends the session on the server too: a copy of the cookie stops working."""
    token = request.session.get(sessions.COOKIE_KEY)
    if isinstance(token, str):
        sessions.end(session=session, token=token)
    request.session.clear()
    flash(request, _("You are signed out."), "info")
    return RedirectResponse("/", status_code=303)


@router.post("/signout/everywhere")
def signout_everywhere(request: Request, session: SessionDep, user: CurrentUser) -> RedirectResponse:
    sessions.end_all(session=session, user_id=user.id or 0)
    request.session.clear()
    flash(request, _("You are signed out on every device."), "info")
    return RedirectResponse("/", status_code=303)


def _account_page(request: Request, session: Session, settings: Settings, user: User,
                  errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    live = sessions.live_sessions(session=session, settings=settings, user_id=user.id or 0)
    return render(request, "accounts/account.html", {"sessions": live, "errors": errors or {}},
                  status_code=status_code)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser) -> HTMLResponse:
    return _account_page(request, session, settings, user)


@router.post("/account/password", response_model=None)
def change_password(request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser,
                    current_password: Annotated[str, Form(max_length=1024)],
                    new_password: Annotated[str, Form(max_length=1024)]) -> Response:
    """A new password ends every session of the account; this browser gets a fresh one."""
    try:
        accounts.change_password(session=session, settings=settings, user=user, current=current_password,
                                 new=new_password)
    except AccountError as error:
        field = "new_password" if error.field == "password" else (error.field or "current_password")
        return _account_page(request, session, settings, user, {field: str(error)}, status_code=400)
    _start_session(request, session, settings, user)
    flash(request, _("Password changed. Every other device is signed out."), "success")
    return RedirectResponse("/account", status_code=303)


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_form(request: Request) -> HTMLResponse:
    return render(request, "accounts/forgot.html", {"sent": False})


@router.post("/password/forgot", response_class=HTMLResponse)
def forgot(request: Request, session: SessionDep, settings: SettingsDep,
           email: Annotated[str, Form(max_length=320)]) -> HTMLResponse:
    accounts.request_password_reset(session=session, settings=settings, email=email, ip=_client_ip(request, settings))
    return render(request, "accounts/forgot.html", {"sent": True, "email": email})


@router.get("/password/reset/{token}", response_class=HTMLResponse)
def reset_form(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    try:
        accounts.check_reset_token(session=session, token=token)
    except AccountError as error:
        return render(request, "accounts/reset.html", {"token": None, "error": str(error)}, status_code=400)
    return render(request, "accounts/reset.html", {"token": token, "error": None})


@router.post("/password/reset/{token}", response_model=None)
def reset(request: Request, session: SessionDep, settings: SettingsDep, token: str,
          password: Annotated[str, Form(max_length=1024)]) -> Response:
    try:
        user = accounts.reset_password(session=session, settings=settings, token=token, password=password)
    except AccountError as error:
        still_valid = error.field == "password"
        return render(request, "accounts/reset.html", {"token": token if still_valid else None,
                                                       "error": str(error)}, status_code=400)
    request.session.clear()  # the reset ended every session of the account (app.accounts.reset_password)
    flash(request, _("Password changed for {email}. Sign in with the new password.").format(email=user.email),
          "success")
    return RedirectResponse("/signin", status_code=303)


@router.get("/outbox", response_class=HTMLResponse)
def outbox(request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep) -> HTMLResponse:
    """Mail kept while no SMTP server is set, for signed-in admins only: it holds reset links."""
    if not (settings.outbox_available and viewer is not None and viewer.role == Role.admin):
        raise HTTPException(404, _("There is no such page."))
    return render(request, "accounts/outbox.html", {"messages": mail.outbox(session=session)})
