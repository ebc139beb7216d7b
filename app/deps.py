"""Typed dependencies for routes: the session, the settings, the viewer and role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session
from starlette.datastructures import FormData

from app import i18n, sessions
from app.db import WRITE, get_session
from app.settings import Settings
from app.web import error_language
from models.accounts import Role, User

SessionDep = Annotated[Session, Depends(get_session)]


class SignInRequired(Exception):
    """Raised for anonymous requests to pages that need an account."""


class Forbidden(Exception):
    """Raised when the viewer's role does not allow the action."""


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


_ROW_ID_RANGE = range(-(2**31), 2**31)  # a database INTEGER on both databases


def reject_numbers_out_of_range(request: Request) -> None:
    """App-wide dependency: a whole-number path or query parameter beyond a database INTEGER names no
    record (404 in the path, 422 in the query) instead of reaching the database, where PostgreSQL
    would refuse it mid-transaction and SQLite overflow."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    for fields, values, status in ((dependant.path_params, request.path_params, 404),
                                   (dependant.query_params, request.query_params, 422)):
        for field in fields:
            if field.field_info.annotation not in (int, int | None):
                continue
            text = str(values.get(field.alias) or "").strip()
            if text.lstrip("-").isdigit() and int(text) not in _ROW_ID_RANGE:
                # before any router's language dependency has run, so the language is asked here
                words = i18n.translations(error_language(request)).gettext(
                    "{name}: {number} is out of range; there is no such record.")
                raise HTTPException(status, words.format(name=field.alias, number=text))


def load_viewer(request: Request, session: SessionDep) -> User | None:
    """The signed-in user, if the cookie's session is still live on the server (``app.sessions``)."""
    token = request.session.get(sessions.COOKIE_KEY)
    if isinstance(token, str) and not session.in_transaction():
        # reading who is signed in takes no write lock, even in a writing request's session (app.db)
        session.connection(execution_options={WRITE: False})
    user = (sessions.user_of(session=session, settings=request.app.state.settings, token=token)
            if isinstance(token, str) else None)
    if user is None and token is not None:
        request.session.pop(sessions.COOKIE_KEY, None)
    if session.in_transaction():
        # the viewer's read ends here: the request's own unit of work begins afresh (on SQLite, for a
        # request with an unsafe method, with BEGIN IMMEDIATE: app.db)
        session.commit()
    request.state.user = user
    return user


ViewerDep = Annotated[User | None, Depends(load_viewer)]


def require_user(viewer: ViewerDep) -> User:
    if viewer is None:
        raise SignInRequired()
    return viewer


CurrentUser = Annotated[User, Depends(require_user)]


def require_role(*roles: Role) -> Callable[[User], User]:
    def check(user: CurrentUser) -> User:
        if Role(user.role) not in roles:
            raise Forbidden()
        return user

    return check


StaffUser = Annotated[User, Depends(require_role(Role.staff, Role.admin))]
AdminUser = Annotated[User, Depends(require_role(Role.admin))]


async def posted_form(request: Request) -> AsyncIterator[FormData]:
    """The request's form, read on the event loop (Starlette keeps it on the request: the CSRF check has
    usually read it already), so that an endpoint taking it is a plain function run in the thread pool: its
    database work never blocks the event loop, and on SQLite its unit of work begins with BEGIN IMMEDIATE
    (app.db.get_session). Uploaded files' temporary copies are closed when the request is done."""
    form = await request.form()
    try:
        yield form
    finally:
        await form.close()


PostedForm = Annotated[FormData, Depends(posted_form)]
