"""Page weight of the public map: its HTML and every script and stylesheet it loads (and the
htmx partial it fetches on load), each compressed with gzip -9 — what a phone downloads before
any map data (tiles, GeoJSON) arrives.

    .venv/bin/python bench/page_weight.py [--scale 0.1]

A fresh SpatiaLite database gets a small demo city (so the page draws its map and legend rather
than the empty state); the app is called in-process. Prints one row per resource and the total,
against the 300 KB budget (issue 6). Reports; asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import re
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import migrate
from app.db import make_engine
from app.demo.loader import load_demo_city
from app.main import create_app
from app.settings import Settings

BUDGET = 300 * 1024
ASSETS = re.compile(r'<script[^>]+src="([^"]+)"|<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"')
PARTIALS = re.compile(r'hx-get="([^"]+)"[^>]*hx-trigger="load"')


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def measure(client: TestClient, page: str) -> list[tuple[str, str, int, int]]:
    html = client.get(page)
    html.raise_for_status()
    rows = [("html", page, len(html.content), gz(html.content))]
    for script, sheet in ASSETS.findall(html.text):
        url = script or sheet
        body = client.get(url).content
        rows.append(("js" if script else "css", url, len(body), gz(body)))
    for url in PARTIALS.findall(html.text):
        body = client.get(url, headers={"HX-Request": "true"}).content
        rows.append(("html", url, len(body), gz(body)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.1, help="demo city scale (default 0.1)")
    parser.add_argument("--page", default="/map")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'weight.sqlite'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            load_demo_city(session=session, scale=args.scale)
        settings = Settings(database_url=url, environment="test", secret_key="bench-" + "x" * 40,
                            base_url="http://testserver")
        with TestClient(create_app(settings, engine=engine), base_url="http://testserver") as client:
            rows = measure(client, args.page)
        engine.dispose()
    print(f"{'kind':<5} {'resource':<45} {'raw KB':>9} {'gzip -9 KB':>11}")
    for kind, name, raw, packed in rows:
        print(f"{kind:<5} {name:<45} {raw / 1024:>9.1f} {packed / 1024:>11.1f}")
    own = [r for r in rows if r[0] in ("js", "css")]
    total = sum(r[3] for r in rows)
    print(f"{'':<5} {'JS + CSS':<45} {sum(r[2] for r in own) / 1024:>9.1f} {sum(r[3] for r in own) / 1024:>11.1f}")
    print(f"{'':<5} {'total (with HTML)':<45} {sum(r[2] for r in rows) / 1024:>9.1f} {total / 1024:>11.1f}")
    print(f"budget {BUDGET / 1024:.0f} KB compressed: {'within' if total <= BUDGET else 'OVER'} "
          f"({total / BUDGET:.0%} used)")


if __name__ == "__main__":
    main()
