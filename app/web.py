"""Server-rendered pages: templates, flash messages, CSRF, and one renderer for
full pages, htmx partials and JSON from the same view model (after fasthx)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app import i18n
from app.security import (
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    CSRF_SESSION_KEY,
    UNSUBSCRIBE_PURPOSE,
    TokenInvalid,
    new_token,
    read_token,
    tokens_match,
)
from app.settings import PROJECT_ROOT

templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(PROJECT_ROOT / "templates"),
                                            autoescape=select_autoescape(), extensions=["jinja2.ext.i18n"]))
templates.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
templates.env.filters.update(money=i18n.money, money_short=i18n.money_short, number=i18n.number,
                             percent=i18n.percent, date=i18n.format_date)
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
UNSUBSCRIBE_PATH = re.compile(r"/unsubscribe/([A-Za-z0-9_.-]{1,400})")


class CSRFError(Exception):
    pass


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = request.session[CSRF_SESSION_KEY] = new_token()
    return str(token)


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: every unsafe request carries the session's CSRF token,
    in the X-CSRF-Token header (htmx, fetch) or the csrf_token form field."""
    if request.method not in UNSAFE_METHODS or await _one_click_unsubscribe(request):
        return
    expected = request.session.get(CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        reject_oversized_upload(request)  # before any of the body is read
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # cached by Starlette; the endpoint reads it again for free
        value = form.get(CSRF_FORM_FIELD)
        sent = value if isinstance(value, str) else None
    if not tokens_match(sent, expected):
        raise CSRFError()


async def _one_click_unsubscribe(request: Request) -> bool:
    """RFC 8058: a mail client unsubscribes by POSTing ``List-Unsubscribe=One-Click`` to the link in
    the message, with no cookie, so no CSRF token. Exempt only such a POST to /unsubscribe/{token}
    whose token this site signed (expired or not: the endpoint says so): the signature is what an
    attacker cannot forge, and all it allows is stopping that one follower's mail."""
    match = UNSUBSCRIBE_PATH.fullmatch(request.url.path)
    if request.method != "POST" or match is None or not request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        return False
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        reject_oversized_upload(request)
    form = await request.form()
    if form.get("List-Unsubscribe") != "One-Click":
        return False
    try:
        read_token(request.app.state.settings, UNSUBSCRIBE_PURPOSE, match.group(1), max_age_s=None)
    except TokenInvalid:
        return False
    return True


def reject_oversized_upload(request: Request) -> None:
    """413 for a body whose declared length is over the upload limit (settings.imports.max_upload_mb)."""
    limit_mb = request.app.state.settings.imports.max_upload_mb
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit_mb * 1_000_000:
        raise HTTPException(413, f"The upload is larger than the limit of {limit_mb} MB; nothing was read.")


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether a conditional request may get 304: If-None-Match uses the weak comparison (RFC 9110 §13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def flash(request: Request, message: str, category: str = "info") -> None:
    request.session.setdefault("flash", []).append({"message": message, "category": category})


def pop_flashes(request: Request) -> list[dict[str, str]]:
    return list(request.session.pop("flash", []))


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_html(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/ogc", "/tiles")) and "f=html" not in str(request.url.query):
        return False
    accept = request.headers.get("accept", "")
    return is_htmx(request) or "text/html" in accept


def viewer_language(request: Request) -> str:
    """The viewer's chosen language (cookie, then account), else the browser's, else English."""
    viewer = getattr(request.state, "user", None)
    chosen = request.cookies.get(i18n.LANGUAGE_COOKIE) or (viewer.locale if viewer else None)
    return i18n.negotiate(chosen=chosen, accept_language=request.headers.get("accept-language"))


async def use_viewer_language(request: Request) -> None:
    """Router dependency: what the endpoint and its services say (errors, flashes, mail) is in the
    viewer's language. Async, so the choice reaches the endpoint's thread; runs after ``load_viewer``."""
    i18n.activate(viewer_language(request))


def speaks_viewer_language(request: Request) -> bool:
    """Whether the request's route speaks the viewer's language (its router depends on ``use_viewer_language``)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    return dependant is not None and any(d.call is use_viewer_language for d in dependant.dependencies)


def error_language(request: Request) -> str:
    """The language an error is told in: the viewer's on a page, or from a route that speaks the viewer's
    language (the public delivery API); English from an API that keeps English for its clients
    (/api/v1 groups and proposals)."""
    if wants_html(request) or speaks_viewer_language(request):
        return viewer_language(request)
    return i18n.DEFAULT_LANGUAGE


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render a page. Templates get plain values: the page's own context plus the viewer."""
    viewer = getattr(request.state, "user", None)
    language = viewer_language(request)
    i18n.activate(language)
    base = {
        "lang": language,
        "languages": i18n.LANGUAGES,
        "request": request,
        "viewer": viewer,
        "csrf_token": csrf_token(request),
        "flashes": pop_flashes(request),
        "settings": request.app.state.settings,
        "nav": request.app.state.navigation.for_viewer(viewer, request.url.path),
    }
    return templates.TemplateResponse(request, template, {**base, **(context or {})},
                                      status_code=status_code, headers=headers)
