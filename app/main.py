"""The application factory: settings, engine, middleware, error pages, routers, static files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import routes
from app import i18n
from app.db import make_engine
from app.deps import Forbidden, SignInRequired, load_viewer, reject_numbers_out_of_range
from app.i18n import N_
from app.importers import jobs
from app.mail_sender import MailSender
from app.migrate import ensure_current
from app.navigation import Navigation
from app.security import signing_secret
from app.settings import PROJECT_ROOT, Settings, TileSettings, get_settings
from app.tiles.fastpath import TileFastPath
from app.tiles.service import TileServer
from app.web import CSRFError, error_language, render, speaks_viewer_language, verify_csrf, wants_html

log = logging.getLogger(__name__)


class SecurityHeaders:
    """Security headers on every response; a strict Content-Security-Policy for pages."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        extra = ""
        if settings.map.basemap_style_url:
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(settings.map.basemap_style_url))
            extra = f" {origin} https:"
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"permissions-policy", b"geolocation=(self), camera=(), microphone=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"content-security-policy", (
                "default-src 'self'; script-src 'self'; style-src 'self'; "
                f"img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; "
                "worker-src 'self' blob:; child-src blob:; font-src 'self'; object-src 'none'; "
                "frame-ancestors 'none'; base-uri 'self'; form-action 'self'").encode()),
        ]
        if settings.security.https_only_cookies:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (name, value) for name, value in self.headers if name not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Groundwork(FastAPI):
    """The application. A tile request meets the lean path (app/tiles/fastpath.py) before anything
    else runs: no middleware, no FastAPI wrapper (error page, body limit, telemetry check); what the
    lean path does not answer goes on to all of them."""

    def __init__(self, *, tiles: TileServer, tile_settings: TileSettings, **options: Any) -> None:
        super().__init__(**options)
        self.tile_fast_path = TileFastPath(super().__call__, server=tiles, tiles=tile_settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.tile_fast_path(scope, receive, send)


# pydantic's own words (word for word) for what a query string or form most often gets wrong: they are
# in the catalogue, so such a 422 reads in the viewer's language; any other message stays pydantic's
TRANSLATED_VALIDATION = frozenset((N_("Field required"),
                                   N_("Input should be a valid integer, unable to parse string as an integer"),
                                   N_("Input should be a valid number, unable to parse string as a number"),
                                   N_("Input should be a valid boolean, unable to interpret input")))


def _validation_message(message: str) -> str:
    return i18n.gettext(message) if message in TRANSLATED_VALIDATION else message


def _problem(status: int, title: str, detail: str, *, localized: bool) -> JSONResponse:
    """RFC 9457 problem details; ``localized``: in the asker's language (RFC 9457 allows it for an
    about:blank title), so a cache keeps the languages apart."""
    return JSONResponse({"type": "about:blank", "title": title, "status": status, "detail": detail},
                        status_code=status, media_type="application/problem+json",
                        headers={"Content-Language": i18n.current(), "Vary": "Accept-Language, Cookie"}
                        if localized else None)


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    """The error as a page or as problem details, in ``error_language``: fixed titles and details are
    in the catalogue; a detail an endpoint already translated is not, and is kept as it is."""
    i18n.activate(error_language(request))
    title, detail = i18n.gettext(title), i18n.gettext(detail) if detail else ""
    if wants_html(request):
        return render(request, "error.html", {"status": status, "title": title, "detail": detail},
                      status_code=status)
    return _problem(status, title, detail, localized=speaks_viewer_language(request))


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CSRFError)
    async def csrf_failed(request: Request, _: CSRFError) -> Response:
        return _error_page(request, 403, N_("This form has expired"),
                           N_("The security token sent with this request is missing or out of date. "
                              "Reload the page and try again; nothing was changed."))

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, _: SignInRequired) -> Response:
        if wants_html(request) and request.method == "GET":
            target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            return RedirectResponse(f"/signin?next={target}", status_code=303)
        return _error_page(request, 401, N_("Sign in required"), N_("Sign in to do this."))

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, _: Forbidden) -> Response:
        return _error_page(request, 403, N_("Not allowed"), N_("Your account's role does not allow this."))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        titles = {404: N_("Not found"), 405: N_("Method not allowed"), 413: N_("Too large"), 409: N_("Conflict")}
        detail = error.detail if isinstance(error.detail, str) else N_("The request could not be completed.")
        response = _error_page(request, error.status_code, titles.get(error.status_code, N_("Error")), detail)
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(OverflowError)
    async def number_out_of_range(request: Request, _: OverflowError) -> Response:
        """A number in the request beyond what the database stores (SQLite: 64 bits) names nothing."""
        return _error_page(request, 422, N_("Some fields are not valid"),
                           N_("A number in the request is too large; nothing was changed."))

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, error: OperationalError) -> Response:
        """SQLite's one writer was busy past the wait (or what this request read went stale as another
        writer committed): the request's transaction is rolled back, so nothing was changed."""
        if "database is locked" not in str(error.orig):
            raise error
        log.warning("%s %s: the database was busy; answered 503", request.method, request.url.path)
        response = _error_page(request, 503, N_("Busy for a moment"),
                               N_("Someone else was saving at the same moment, so nothing was changed. "
                                  "Try again in a few seconds."))
        response.headers["Retry-After"] = "2"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        i18n.activate(error_language(request))
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {_validation_message(e['msg'])}"
            for e in error.errors())
        return _error_page(request, 422, N_("Some fields are not valid"), problems)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               check_schema: bool = True) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url, spatialite_path=settings.spatialite_path)

    tiles = TileServer(engine, settings.tiles)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if check_schema:
            ensure_current(engine)
        tiles.prerender_current()  # low zooms missing from the disk cache are drawn in the background
        workers: list[jobs.Worker | MailSender] = [
            jobs.Worker(engine, settings.imports, n + 1) for n in range(settings.imports.job_workers)]
        if settings.mail.background_sender:
            workers.append(MailSender(engine, settings))
        for worker in workers:
            worker.start()
        yield
        for worker in workers:
            worker.stop()
        tiles.close()
        engine.dispose()

    app = Groundwork(
        tiles=tiles,
        tile_settings=settings.tiles,
        title=f"{settings.site_name} API",
        version="1",
        description="Condition layers, proposals, the program and the ballot list.",
        lifespan=lifespan,
        dependencies=[Depends(reject_numbers_out_of_range), Depends(load_viewer), Depends(verify_csrf)],
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.tiles = tiles
    route_modules = routes.discover()
    app.state.navigation = Navigation([entry for module in route_modules for entry in getattr(module, "NAV", [])])

    app.add_middleware(
        SessionMiddleware,
        secret_key=signing_secret(settings),
        session_cookie=settings.security.session_cookie,
        max_age=settings.security.session_max_age_s,
        same_site="lax",
        https_only=settings.security.https_only_cookies,
    )
    app.add_middleware(SecurityHeaders, settings=settings)
    _install_error_handlers(app)

    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static")
    for module in route_modules:
        app.include_router(module.router)
    return app
