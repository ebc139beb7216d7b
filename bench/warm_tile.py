"""In-process cost of one warm tile request on the lean path (app/tiles/fastpath.py), and of the
layer-version check inside it (``LayerVersions.fresh``), on SpatiaLite and PostGIS.

    .venv/bin/python bench/warm_tile.py [--requests 20000] [--checks 200000] [--repeats 5]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

One tile is drawn once, then the same request (a plain URL, no ``If-None-Match``) is sent straight
to the ASGI application ``--requests`` times on one event loop, with no HTTP server and no
network: what is left is the work of the application itself. Best of ``--repeats`` runs, in µs per
call, on one core. (The peers benchmark, bench/peers.py, measures requests per second over HTTP.)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app import migrate  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402
from tests.layer_data import CENTRE, load_city, tile_of  # noqa: E402


def _database(kind: str, directory: Path, postgres_url: str) -> tuple[str, Any]:
    if kind == "spatialite":
        url = f"sqlite:///{directory / 'warm.sqlite'}"
        migrate.upgrade(url)
        return url, lambda: None
    from tests.conftest import create_postgres_database, drop_postgres_database

    name = f"gw_bench_{uuid.uuid4().hex[:10]}"
    url = create_postgres_database(postgres_url, name)
    migrate.upgrade(url)
    return url, lambda: drop_postgres_database(postgres_url, name)


def bench(kind: str, *, requests: int, checks: int, repeats: int, postgres_url: str) -> list[str]:
    with tempfile.TemporaryDirectory() as directory:
        url, remove = _database(kind, Path(directory), postgres_url)
        try:
            engine = make_engine(url)
            with Session(engine) as session:
                load_city(session)
                session.commit()
            settings = Settings(
                database_url=url, environment="test", secret_key="bench-" + "x" * 32, base_url="http://testserver"
            )
            settings.tiles.cache_dir = str(Path(directory) / "tiles")
            settings.tiles.revision_ttl_s = 3600  # only changes make the versions be read again
            settings.tiles.prerender_max_zoom = 0  # no drawing in the background while measuring
            app = create_app(settings, engine=engine, check_schema=False)
            z, x, y = tile_of(*CENTRE, 14)
            path = f"/tiles/pavement/{z}/{x}/{y}.mvt"
            with TestClient(app) as client:
                assert client.get(path).status_code == 200
                assert client.get(path).status_code == 200  # now warm: from memory on the lean path
                fresh = app.state.tiles.versions.fresh
                deadline = time.monotonic() + 10  # PostGIS: until the change listener is connected
                while fresh() is None and time.monotonic() < deadline:
                    client.get(path)
                    time.sleep(0.05)
                assert fresh() is not None
                check = _best(repeats, checks, lambda n: _time_calls(fresh, n))
                request = _best(repeats, requests, lambda n: asyncio.run(_time_requests(app, path, n)))
            engine.dispose()
        finally:
            remove()
    return [f"{kind:<10}  version check {check:6.2f} µs   warm tile request {request:6.2f} µs"]


def _best(repeats: int, n: int, run: Any) -> float:
    return min(run(n) for _ in range(repeats)) / n * 1e6


def _time_calls(function: Any, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        function()
    return time.perf_counter() - start


async def _time_requests(app: Any, path: str, n: int) -> float:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"accept-encoding", b"gzip")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(dict(scope), receive, send)
    assert statuses == [200], statuses
    start = time.perf_counter()
    for _ in range(n):
        await app(dict(scope), receive, send)
    elapsed = time.perf_counter() - start
    assert set(statuses) == {200}
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--checks", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--postgres-url", default="")
    options = parser.parse_args()
    kinds = ["spatialite"] + (["postgis"] if options.postgres_url else [])
    for kind in kinds:
        for line in bench(
            kind,
            requests=options.requests,
            checks=options.checks,
            repeats=options.repeats,
            postgres_url=options.postgres_url,
        ):
            print(line, flush=True)


if __name__ == "__main__":
    main()
