"""Register, sign in and out, reset a password, and (in development) read the outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import accounts, mail
from app.accounts import AccountError, TooManySignIns
from app.deps import SessionDep, SettingsDep, ViewerDep
from app.i18n import gettext as _
from app.security import CSRF_SESSION_KEY, new_token
from app.web import flash, render, use_viewer_language

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _start_session(request: Request, user_id: int, version: int) -> None:
    """A fresh session on sign-in: no fixation, a new CSRF token."""
    request.session.clear()
    request.session.update({"uid": user_id, "sv": version, CSRF_SESSION_KEY: new_token()})


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request) -> HTMLResponse:
    return render(request, "accounts/register.html", {"form": {}, "errors": {}})


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
        user = accounts.create_user(session=session, settings=settings, email=email, password=password,
                                    display_name=display_name)
    except AccountError as error:
        return render(request, "accounts/register.html",
                      {"form": {"email": email, "display_name": display_name},
                       "errors": {error.field or "form": str(error)}}, status_code=400)
    assert user.id is not None
    _start_session(request, user.id, user.session_version)
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
                                     ip=_client_ip(request))
    except AccountError as error:
        status = 429 if isinstance(error, TooManySignIns) else 400
        return render(request, "accounts/signin.html",
                      {"form": {"email": email}, "next": _safe_next(next), "error": str(error)},
                      status_code=status)
    assert user.id is not None
    _start_session(request, user.id, user.session_version)
    flash(request, _("Signed in as {name}.").format(name=user.display_name), "success")
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/signout")
def signout(request: Request) -> RedirectResponse:
    request.session.clear()
    flash(request, _("You are signed out."), "info")
    return RedirectResponse("/", status_code=303)


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_form(request: Request) -> HTMLResponse:
    return render(request, "accounts/forgot.html", {"sent": False})


@router.post("/password/forgot", response_class=HTMLResponse)
def forgot(request: Request, session: SessionDep, settings: SettingsDep,
           email: Annotated[str, Form(max_length=320)]) -> HTMLResponse:
    accounts.request_password_reset(session=session, settings=settings, email=email)
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
    request.session.clear()
    flash(request, _("Password changed for {email}. Sign in with the new password.").format(email=user.email),
          "success")
    return RedirectResponse("/signin", status_code=303)


@router.get("/outbox", response_class=HTMLResponse)
def outbox(request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep) -> HTMLResponse:
    """Development mail: open to all while no SMTP server is set; admins only otherwise."""
    is_admin = viewer is not None and viewer.role == "admin"
    if not (settings.outbox_is_public or is_admin):
        raise HTTPException(404, _("There is no such page."))
    return render(request, "accounts/outbox.html", {"messages": mail.outbox(session=session)})
