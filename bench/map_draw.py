"""Map-draw benchmark: how long the public map takes to draw, and what it weighs before any data.

    .venv/bin/python bench/map_draw.py [--scale 1.0] [--runs 5] [--width 1366 --height 900]

A fresh SpatiaLite database gets the demo city (``--scale``, with its sample proposals) and the app
runs under uvicorn on a loopback port. Debian's Chromium (headless, under Playwright, software GL as
in the browser tests) opens ``/map`` in a new browser context each run (cold cache) and records:

- **draw**: milliseconds from navigation start until the map has drawn completely — static/js/map.js
  sets ``#map[data-ready=true]`` on MapLibre's first ``idle`` after every layer is added (all tiles in
  view loaded and painted);
- **weight**: every network response (not blob:/data: URLs) that is not map data (tiles, TileJSON,
  GeoJSON, OGC items, glyphs), each body compressed with ``gzip -9`` — what a phone downloads before data.

Targets (issue 13): draw ≤ 2 s, weight ≤ 300 KB. Prints each run, the median and the worst; asserts
nothing. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import gzip
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import migrate  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.demo.loader import load_demo_city  # noqa: E402
from app.demo.proposals import seed_demo_proposals  # noqa: E402
from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402

DRAW_TARGET_MS = 2000
WEIGHT_TARGET = 300 * 1024
DATA = ("/tiles/", ".geojson", "/ogc/", ".pbf", ".mvt")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(directory: Path, scale: float) -> tuple[str, uvicorn.Server]:
    url = f"sqlite:///{directory / 'draw.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    port = _port()
    settings = Settings(database_url=url, environment="test", secret_key="bench-" + "x" * 40,
                        base_url=f"http://127.0.0.1:{port}")
    with Session(engine) as session:
        load_demo_city(session=session, scale=scale)
    with Session(engine) as session:
        seed_demo_proposals(session=session, settings=settings)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine=engine), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return base, server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def one_run(browser, base: str, viewport: dict[str, int]) -> tuple[float, int, list[tuple[str, int, int]]]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    responses = []
    page.on("response", lambda r: responses.append(r))
    page.goto(base + "/map")
    page.wait_for_function("() => document.querySelector('#map')?.dataset.ready === 'true'", timeout=120_000)
    draw_ms = page.evaluate("() => performance.now()")  # navigation start is performance's time origin
    page.wait_for_load_state("networkidle")
    rows = []
    for response in responses:
        if not response.url.startswith(base):  # blob: (MapLibre's worker, made from its own bundle) or data:
            continue
        path = response.url.removeprefix(base)
        if any(marker in path for marker in DATA):
            continue
        try:
            body = response.body()
        except Exception:  # noqa: BLE001 — a redirect or aborted request has no body
            continue
        rows.append((path, len(body), len(gzip.compress(body, compresslevel=9))))
    context.close()
    return draw_ms, sum(r[2] for r in rows), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="demo city scale (1.0 ≈ 100,000 residents)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--width", type=int, default=1366)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as directory:
        base, server = serve(Path(directory), args.scale)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                one_run(browser, base, {"width": args.width, "height": args.height})  # warm the server's caches
                draws, weights, rows = [], [], []
                for run in range(args.runs):
                    draw_ms, weight, rows = one_run(browser, base, {"width": args.width, "height": args.height})
                    draws.append(draw_ms)
                    weights.append(weight)
                    print(f"run {run + 1}: draw {draw_ms:,.0f} ms, weight {weight / 1024:.1f} KB gzip -9")
                browser.close()
        finally:
            server.should_exit = True
    print(f"\n{'resource':<58} {'raw KB':>8} {'gzip KB':>8}")
    for path, raw, packed in sorted(rows, key=lambda r: -r[2]):
        print(f"{path[:58]:<58} {raw / 1024:>8.1f} {packed / 1024:>8.1f}")
    median, worst = statistics.median(draws), max(draws)
    print(f"\ndraw: median {median:,.0f} ms, worst {worst:,.0f} ms (target ≤ {DRAW_TARGET_MS:,} ms: "
          f"{'met' if median <= DRAW_TARGET_MS else 'NOT met'})")
    print(f"weight before data: {max(weights) / 1024:.1f} KB gzip -9 (target ≤ {WEIGHT_TARGET // 1024} KB: "
          f"{'met' if max(weights) <= WEIGHT_TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
