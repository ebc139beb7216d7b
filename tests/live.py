"""A real Groundwork server for browser and GDAL tests.

``live_server(kind, tmp_path)`` migrates a fresh database (SpatiaLite file or PostGIS
database), runs uvicorn in a background thread on a free port, and yields a ``LiveServer``
with its base URL and an engine for loading data. Browser tests use ``launch_chromium``:
Debian's Chromium driven by Playwright, never a downloaded browser.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.db import make_engine
from app.main import create_app
from models.outbox import OutboxMessage
from tests.conftest import fresh_database, make_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@dataclass
class LiveServer:
    url: str
    engine: Engine
    kind: str

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def register_in_browser(page: Any, server: LiveServer, email: str, password: str) -> None:
    """Register as a resident does: the form, then the link mailed to the outbox, then its button."""
    page.goto(server.url + "/register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("We have sent a message to").wait_for()
    with server.session() as session:
        mail = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == email)
                            .order_by(col(OutboxMessage.id).desc())).first()
    link = re.search(r"/register/confirm/\S+", mail.body if mail else "")
    assert link, f"no registration mail to {email}"
    page.goto(server.url + link.group(0))
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(server.url + "/")


@contextmanager
def live_server(kind: str, directory: Path, **settings_overrides: Any) -> Iterator[LiveServer]:
    url, remove = fresh_database(kind, directory)
    port = _free_port()
    settings = make_settings(url, base_url=f"http://127.0.0.1:{port}", **settings_overrides)
    engine = make_engine(url)
    app = create_app(settings, engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        server.should_exit = True
        raise RuntimeError("live server did not start")
    try:
        yield LiveServer(base, engine, kind)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
        remove()  # type: ignore[operator]


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """A headless Debian Chromium under Playwright; skips cleanly where it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


MAP_READY = "() => document.querySelector('#map') && document.querySelector('#map').dataset.ready === 'true'"


def script_errors(page: Any) -> list[str]:
    """A list that fills with the page's uncaught script errors and console errors."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def open_map(browser: Any, url: str, viewport: dict[str, int]) -> tuple[Any, list[str]]:
    """A new page at a map URL, once the map has drawn; with the list of its script errors."""
    page = browser.new_page(viewport=viewport)
    errors = script_errors(page)
    page.goto(url)
    page.wait_for_function(MAP_READY, timeout=45_000)
    return page, errors


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.1 A/AA rules) in the page; return violations of the given impacts."""
    origin = "/".join(page.url.split("/")[:3])
    page.add_script_tag(url=f"{origin}/static/vendor/axe/axe.min.js")  # same origin: allowed by our CSP
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    return [v for v in result["violations"] if v["impact"] in impacts]
