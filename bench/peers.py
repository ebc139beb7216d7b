"""Groundwork beside the servers a GIS team would deploy instead, on one machine, one command.

    .venv/bin/python bench/peers.py [--scale 10] [--duration 15] [--pairs 2] [--smoke] [--only tiles,items,imports]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--out docs/BENCHMARKS.md]

What it does (../shared/BENCH-PEERS.md has the method):

1. installs what is missing: wrk, nginx-light and gdal-bin (apt-get), tipg, pygeoapi and py-spy (PyPI,
   in their own virtualenv, kept outside the clone in ``${XDG_CACHE_HOME:-~/.cache}/groundwork/`` under a
   name made from the package list, so a fresh clone reuses it and a changed list builds a new one);
2. builds the demo city in PostGIS (``groundwork demo --scale S --if-empty`` into ``gw_peers_<S>``; kept
   between runs, where it holds the imports part's re-imports of its own layers) and exposes exactly what
   Groundwork's tiles and items carry as views in a ``peers`` schema;
3. serves it with Groundwork (one uvicorn worker), tipg (one worker), pygeoapi (items) and nginx (the
   same tiles written to files first: the physical limit for a warm tile); Groundwork also serves the same
   city from a SpatiaLite file (``groundwork demo`` with the same seed into ``gw_peers_<S>.sqlite``);
4. runs wrk from its own process over a fixed-seed shuffled list of tiles covering the city (z12–z17,
   pavement and streetlights; pavement's first zooms below z12 apart: the heavy tiles), cold (one pass
   after a restart and an emptied cache, each tile fetched at most once: the run stops when the list is
   done) and warm (the same list again, round and round), at concurrency 1, 8 and 64; the servers alternate
   in pairs and every ratio is taken pair by pair (a shared machine drifts between rounds);
5. times imports (bench/imports.py's functions): for pavement and streetlights, `groundwork export`, then
   `groundwork import` of that file (a re-import into the city) and `ogr2ogr -f PostgreSQL` of the same file
   into a scratch database, under ``/usr/bin/time -v`` (wall, CPU, peak memory), alternating, ``--pairs`` times;
6. writes ``docs/BENCHMARKS.md``: the machine, the ratio table (tiles, items, imports), then every run
   (req/s, p50/p95/p99; imports' seconds and MB; bytes by zoom).

The parts are ``tiles`` (Groundwork on PostGIS and SpatiaLite, tipg, nginx; 304s), ``items`` (Groundwork,
tipg, pygeoapi) and ``imports``; ``--only imports`` (or ``tiles,items``…) reruns some of them and keeps the
other parts' runs from the report already in ``--out`` (its section carries them as data in a comment).

``--smoke`` runs everything at scale 0.05 for 1 second a run over 10 tiles per layer and zoom, one pair
(imports too), into its own database and a temporary report (no timing is asserted anywhere):
tests/test_bench_peers.py runs it when the tools are installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.layers.specs import spec_for  # noqa: E402
from bench.imports import TOOLS, ImportRun, import_runs  # noqa: E402
from models.layers import public_columns  # noqa: E402

PARTS = ("tiles", "items", "imports")

TILE_LAYERS = ("pavement", "streetlight")
ITEMS_LAYER = "pavement"
ITEMS_PAGE = 1000
APT_PACKAGES = {"wrk": "wrk", "nginx": "nginx-light", "ogr2ogr": "gdal-bin"}
PYPI_PACKAGES = ["tipg", "pygeoapi", "uvicorn", "py-spy", "psycopg2-binary", "geoalchemy2"]

WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end
function init(args)
  local share = math.floor(#paths / tonumber(os.getenv("BENCH_THREADS")))
  position = (id * share) % #paths
  last = position + share  -- BENCH_ONCE: this thread's share of the list, each path once
  if id == tonumber(os.getenv("BENCH_THREADS")) - 1 then last = #paths end
  wanted = last - position
end
function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position])
end
if os.getenv("BENCH_ONCE") == "1" then
  -- wrk always runs for its whole duration: the time is taken here, first request to last answer
  local ffi = require("ffi")
  ffi.cdef("typedef struct { long s; long ns; } bench_time; int clock_gettime(int, bench_time *);")
  local function now_us()
    local t = ffi.new("bench_time")
    ffi.C.clock_gettime(1, t)  -- CLOCK_MONOTONIC
    return tonumber(t.s) * 1000000 + tonumber(t.ns) / 1000
  end
  answered, asked = 0, 0
  function delay()  -- called before each request(): a connection with no tile left for it waits instead
    if started == nil then started = now_us() end
    if asked >= wanted then return 3600000 end
    asked = asked + 1
    return 0
  end
  function response(status, headers, body)
    answered = answered + 1
    if answered >= wanted then
      finished = now_us()
      wrk.thread:stop()  -- every tile of this thread's share has been answered
    end
  end
end
function done(summary, latency, requests)
  local duration, first, final = summary.duration, nil, nil
  for _, thread in ipairs(threads) do
    local s, f = thread:get("started"), thread:get("finished")
    if s and (first == nil or s < first) then first = s end
    if f == nil then final = nil; break end
    if final == nil or f > final then final = f end
  end
  if first and final then duration = final - first end
  io.write(string.format('BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "errors": %d, ' ..
    '"status_errors": %d, "p50": %d, "p95": %d, "p99": %d}\n',
    summary.requests, duration, summary.bytes,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass
class Run:
    server: str
    workload: str
    phase: str  # cold | warm
    connections: int
    pair: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    bytes: int
    errors: int


@dataclass
class Report:
    scale: float
    duration: int
    runs: list[Run] = field(default_factory=list)
    bytes_by_zoom: dict[str, dict[int, tuple[int, int]]] = field(default_factory=dict)  # server → z → (tiles, bytes)
    notes: list[str] = field(default_factory=list)
    imports: list[ImportRun] = field(default_factory=list)
    measured: dict[str, str] = field(default_factory=dict)  # part → when and by which command


def part_of(run: Run) -> str:
    return "items" if run.workload == "items" else "tiles"


# Setup ----------------------------------------------------------------------------------------------

def install(parts: set[str]) -> Path | None:
    """The Debian tools the parts need, and the peers' virtualenv (tiles, items): built once per package
    list in the user's cache, outside the clone, so a fresh CI clone finds it ready."""
    needed = {"wrk", "nginx"} if "tiles" in parts else {"wrk"} if "items" in parts else set()
    needed |= {"ogr2ogr"} if "imports" in parts else set()
    missing = [APT_PACKAGES[tool] for tool in sorted(needed) if shutil.which(tool) is None]
    if missing:
        command = ["apt-get", "install", "-y", "-q", *missing]
        if subprocess.run(command, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}).returncode:
            subprocess.run(["apt-get", "update", "-q"], check=True)
            subprocess.run(command, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, check=True)
    return peers_venv() if parts & {"tiles", "items"} else None


def peers_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "groundwork"
    key = hashlib.sha256(" ".join([platform.python_version(), *sorted(PYPI_PACKAGES)]).encode()).hexdigest()[:12]
    venv = cache / f"bench-peers-venv-{key}"
    stamp = venv / ".installed"
    if stamp.exists():
        return venv
    cache.mkdir(parents=True, exist_ok=True)
    import fcntl

    with open(cache / "bench-peers-venv.lock", "w") as lock:  # two runs at once: the second waits
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            print(f"installing tipg and pygeoapi into {venv} (once per package list)", flush=True)
            for old in cache.glob("bench-peers-venv-*"):  # an older list's, or an unfinished one
                shutil.rmtree(old, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                            *PYPI_PACKAGES], check=True)
            stamp.write_text(" ".join(PYPI_PACKAGES) + "\n")
    return venv


def groundwork_env(database_url: str, work: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "GROUNDWORK_DATABASE_URL": database_url, "GROUNDWORK_ENVIRONMENT": "production",
            "GROUNDWORK_SECRET_KEY": "bench-" + "x" * 40, "GROUNDWORK_LOG_LEVEL": "warning",
            "GROUNDWORK_TILES__CACHE_DIR": str(work / "tile-cache"),
            "GROUNDWORK_TILES__PRERENDER_MAX_ZOOM": "0",  # "cold" means drawn on request, as tipg's are
            **extra}


def build_city(base_url: str, scale: float, work: Path) -> str:
    name = f"gw_peers_{str(scale).replace('.', '_')}"
    admin = make_url(base_url)
    from app.db import make_engine

    engine = make_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=None)
    with engine.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = admin.set(database=name).render_as_string(hide_password=False)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "app", "db", "upgrade"], cwd=ROOT, check=True,
                   env=groundwork_env(url, work), stdout=subprocess.DEVNULL)
    # --if-empty: a city kept from an earlier run may hold the imports part's re-imports, which `demo` would refuse
    subprocess.run([sys.executable, "-m", "app", "demo", "--scale", str(scale), "--if-empty"], cwd=ROOT, check=True,
                   env=groundwork_env(url, work), stdout=subprocess.DEVNULL)
    print(f"city at scale {scale} ready in {time.monotonic() - started:.0f} s ({name})", flush=True)
    return url


def build_spatialite_city(scale: float, work: Path) -> str:
    """The same demo city (same seed) in a SpatiaLite file, ``<work>/gw_peers_<S>.sqlite``; kept between runs."""
    path = work / f"gw_peers_{str(scale).replace('.', '_')}.sqlite"
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    started = time.monotonic()
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    for command in (["db", "upgrade"], ["demo", "--scale", str(scale)]):
        subprocess.run([sys.executable, "-m", "app", *command], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       env=groundwork_env(f"sqlite:///{building}", work))
    building.rename(path)
    print(f"SpatiaLite city at scale {scale} ready in {time.monotonic() - started:.0f} s ({path})", flush=True)
    return url


def create_views(url: str) -> None:
    """The same content for every server: tile views with the tiles' properties, an items view with /ogc's."""
    from app.db import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE SCHEMA IF NOT EXISTS peers"))
        for layer in TILE_LAYERS:
            spec = spec_for(layer)
            columns = []
            for prop in spec.tile_properties:
                expression = f"CAST(round({prop.column}) AS integer)" if prop.convert == "rounded" else (
                    f"CAST({prop.column} AS integer)" if prop.convert == "flag" else prop.column)
                columns.append(f'{expression} AS "{prop.name}"')
            connection.execute(text(f"CREATE OR REPLACE VIEW peers.{layer} AS SELECT {', '.join(columns)}, geom "
                                    f"FROM public.{spec.table.name}"))
        spec = spec_for(ITEMS_LAYER)
        names = ", ".join(c.name for c in public_columns(spec.table))
        connection.execute(text(f"CREATE OR REPLACE VIEW peers.{ITEMS_LAYER}_items AS SELECT {names}, attributes, "
                                f"geom FROM public.{spec.table.name}"))
    engine.dispose()


def vacuum(url: str) -> None:
    """VACUUM ANALYZE the city: the imports part's re-imports leave dead rows behind, and a PostgreSQL with
    autovacuum off (or behind) would make every server's queries read them."""
    from app.db import make_engine

    engine = make_engine(url, isolation_level="AUTOCOMMIT", poolclass=None)
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def tile_paths(url: str, zooms: range, per_zoom: int, seed: int = 12) -> list[tuple[str, int, int, int]]:
    """(layer, z, x, y) covering the city, shuffled with a fixed seed; only the zooms a layer is drawn at
    (below its min zoom Groundwork answers an empty tile at once, while a peer would draw every feature)."""
    from app.db import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        bounds = {kind: (a, b, c, d) for kind, a, b, c, d in connection.execute(
            text("SELECT kind, min_lon, min_lat, max_lon, max_lat FROM layer"))}
    engine.dispose()
    rng = random.Random(seed)
    chosen = []
    for layer in TILE_LAYERS:
        west, south, east, north = bounds[layer]
        for z in (z for z in zooms if z >= spec_for(layer).min_zoom):
            x0, y0 = _tile(west, north, z)
            x1, y1 = _tile(east, south, z)
            tiles = [(layer, z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
            chosen += rng.sample(tiles, min(per_zoom, len(tiles)))
    rng.shuffle(chosen)
    return chosen


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


# Servers --------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(command: list[str], *, env: dict[str, str], port: int, cwd: Path | None = None,
            ready_path: str = "/") -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=30)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not start: {process.stderr.read().decode()[-2000:]}"
                                       if process.stderr else "did not start") from None
                time.sleep(0.3)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def groundwork_server(url: str, work: Path, port: int, source: Path = ROOT) -> contextmanager:  # type: ignore[valid-type]
    # as `groundwork serve` runs it: uvicorn with app.serving's protocol (one write per response), where the tree has it
    protocol = ["--http", "app.serving:HttpProtocol"] if (source / "app" / "serving.py").exists() else []
    return serving([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port),
                    "--workers", "1", "--log-level", "warning", "--no-access-log", *protocol],
                   env=groundwork_env(url, work), port=port, cwd=source, ready_path="/tiles/pavement.json")


def tipg_server(url: str, venv: Path, port: int) -> contextmanager:  # type: ignore[valid-type]
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": dsn, "TIPG_DB_SCHEMAS": '["peers"]', "TIPG_TILE_BUFFER": "64",
           "TIPG_MAX_FEATURES_PER_TILE": "20000"}
    return serving([str(venv / "bin" / "uvicorn"), "tipg.main:app", "--port", str(port), "--workers", "1",
                    "--log-level", "warning", "--no-access-log"], env=env, port=port, ready_path="/collections")


def pygeoapi_server(url: str, venv: Path, work: Path, port: int) -> contextmanager:  # type: ignore[valid-type]
    parsed = make_url(url)
    config = work / "pygeoapi.yml"
    config.write_text(json.dumps({  # YAML is a superset of JSON
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "language": "en-US",
                   "limits": {"default_items": 100, "max_items": ITEMS_PAGE}, "map": {"url": "", "attribution": ""}},
        "logging": {"level": "ERROR"},
        "metadata": {"identification": {"title": "peers", "description": "peers", "keywords": [],
                                        "terms_of_service": "", "url": ""},
                     "license": {"name": "x", "url": "http://127.0.0.1/"},
                     "provider": {"name": "x", "url": "http://127.0.0.1/"},
                     "contact": {"name": "x", "position": "x", "address": "x", "city": "x", "stateorprovince": "x",
                                 "postalcode": "x", "country": "x", "phone": "x", "fax": "x", "email": "x@x.x",
                                 "url": "http://127.0.0.1/", "hours": "x", "instructions": "x",
                                 "role": "pointOfContact"}},
        "resources": {ITEMS_LAYER: {
            "type": "collection", "title": ITEMS_LAYER, "description": ITEMS_LAYER, "keywords": [],
            "extents": {"spatial": {"bbox": [-180, -90, 180, 90]}}, "links": [],
            "providers": [{"type": "feature", "name": "PostgreSQL", "id_field": "id", "geom_field": "geom",
                           "table": f"{ITEMS_LAYER}_items",
                           "data": {"host": parsed.host or "127.0.0.1", "port": parsed.port or 5432,
                                    "dbname": parsed.database, "user": parsed.username or "postgres",
                                    "password": parsed.password or "", "search_path": ["peers", "public"]}}]}}}))
    openapi = work / "pygeoapi-openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    subprocess.run([str(venv / "bin" / "pygeoapi"), "openapi", "generate", str(config), "--output-file",
                    str(openapi)], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return serving([str(venv / "bin" / "uvicorn"), "pygeoapi.starlette_app:APP", "--port", str(port),
                    "--workers", "1", "--log-level", "warning", "--no-access-log"], env=env, port=port,
                   ready_path="/collections")


def nginx_server(root: Path, work: Path, port: int) -> contextmanager:  # type: ignore[valid-type]
    conf = work / "nginx.conf"
    conf.write_text(f"""worker_processes 1; daemon off; pid {work}/nginx.pid; error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; etag on; types {{ application/vnd.mapbox-vector-tile mvt; }}
  server {{ listen 127.0.0.1:{port}; root {root}; location / {{ try_files $uri =204; }} }} }}
""")
    return serving(["nginx", "-c", str(conf), "-p", str(work)], env=dict(os.environ), port=port)


# Load -----------------------------------------------------------------------------------------------

def wrk(base: str, paths: list[str], *, connections: int, duration: int, work: Path,
        once: bool = False) -> dict[str, float]:
    """Walk ``paths`` for ``duration`` seconds; ``once``: fetch each path at most once (a cold run
    stops early when the list is done, so no tile is asked for twice)."""
    threads = min(2, connections)
    listing = work / f"paths-{os.getpid()}.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = work / "walk.lua"
    script.write_text(WRK_SCRIPT)
    result = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s",
                             "-s", str(script), base], capture_output=True, text=True, check=True,
                            env={**os.environ, "BENCH_PATHS": str(listing), "BENCH_THREADS": str(threads),
                                 "BENCH_ONCE": "1" if once else "0"})
    line = next(x for x in result.stdout.splitlines() if x.startswith("BENCH "))
    numbers = json.loads(line.removeprefix("BENCH "))
    seconds = numbers["duration_us"] / 1e6
    return {"rps": numbers["requests"] / seconds, "p50_ms": numbers["p50"] / 1000, "p95_ms": numbers["p95"] / 1000,
            "p99_ms": numbers["p99"] / 1000, "bytes": numbers["bytes"],
            "errors": numbers["errors"] + numbers["status_errors"]}


def fetch_all(base: str, paths: list[str], *, into: Path | None = None) -> dict[int, tuple[int, int]]:
    """GET every path once (4 at a time); sizes by zoom; optionally write each body to ``into``/path."""
    sizes: dict[int, list[int]] = defaultdict(list)

    def one(path: str) -> None:
        response = httpx.get(base + path, timeout=120)
        z = int(path.split("/")[-3])
        sizes[z].append(len(response.content))
        if into is not None and response.status_code == 200:
            target = into / path.lstrip("/").split("?")[0]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(response.content)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, paths))
    return {z: (len(v), sum(v)) for z, v in sorted(sizes.items())}


# The comparison -------------------------------------------------------------------------------------

def compare(args: argparse.Namespace, parts: set[str]) -> Report:
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    venv = install(parts)
    url = args.database_url or build_city(args.postgres_url, args.scale, work)
    report = Report(args.scale, args.duration)
    if parts & {"tiles", "items"}:
        assert venv is not None
        serve(args, parts, url, venv, work, report)
    if "imports" in parts:
        for pair_run in import_runs(url, groundwork_env(url, work), pairs=args.pairs):
            report.imports.append(pair_run)
            print(f"pair {pair_run.pair} {pair_run.tool:17} {pair_run.layer:11} {pair_run.features:9,} features "
                  f"{pair_run.wall_s:7.1f} s wall {pair_run.cpu_s:7.1f} s CPU {pair_run.peak_mb:6} MB peak", flush=True)
    return report


def serve(args: argparse.Namespace, parts: set[str], url: str, venv: Path, work: Path, report: Report) -> None:
    """The servers' parts, tiles and items: each pair starts every server in turn."""
    tiles, items_part = "tiles" in parts, "items" in parts
    create_views(url)
    vacuum(url)
    spatialite_url = build_spatialite_city(args.scale, work) if tiles else ""
    per_zoom = 10 if args.smoke else args.tiles_per_zoom
    light = tile_paths(url, range(12, 18), per_zoom)
    heavy = tile_paths(url, range(spec_for("pavement").min_zoom, 12), per_zoom)  # the zooms with pavement
    gw = {"light": [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for layer, z, x, y in light],
          "heavy": [f"/tiles/pavement/{z}/{x}/{y}.mvt" for layer, z, x, y in heavy if layer == "pavement"]}
    tp = {"light": [f"/collections/peers.{layer}/tiles/WebMercatorQuad/{z}/{x}/{y}" for layer, z, x, y in light],
          "heavy": [f"/collections/peers.pavement/tiles/WebMercatorQuad/{z}/{x}/{y}"
                    for layer, z, x, y in heavy if layer == "pavement"]}
    pages = max(1, min(30, 36_569 * args.scale // 10 // ITEMS_PAGE))
    items = {"groundwork": [f"/ogc/collections/{ITEMS_LAYER}/items?limit={ITEMS_PAGE}&offset={i * ITEMS_PAGE}"
                            for i in range(pages)],
             "tipg": [f"/collections/peers.{ITEMS_LAYER}_items/items?limit={ITEMS_PAGE}&offset={i * ITEMS_PAGE}"
                      for i in range(pages)],
             "pygeoapi": [f"/collections/{ITEMS_LAYER}/items?f=json&limit={ITEMS_PAGE}&offset={i * ITEMS_PAGE}"
                          for i in range(pages)]}
    levels = (1, 8, 64)

    def record(server: str, workload: str, phase: str, c: int, pair: int, numbers: dict[str, float]) -> None:
        run = Run(server, workload, phase, c, pair, **numbers)  # type: ignore[arg-type]
        report.runs.append(run)
        print(f"pair {pair} {server:10} {workload:6} {phase:4} c{c:<3} {run.rps:9.1f} req/s "
              f"p50 {run.p50_ms:7.1f} p99 {run.p99_ms:8.1f} ms errors {run.errors}", flush=True)

    tiles_dir = work / "files"
    for pair in range(1, args.pairs + 1):
        shutil.rmtree(work / "tile-cache", ignore_errors=True)
        port = free_port()
        with groundwork_server(url, work, port):
            base = f"http://127.0.0.1:{port}"
            if tiles:
                for workload in ("light", "heavy"):
                    record("groundwork", workload, "cold", 8, pair, wrk(base, gw[workload], connections=8,
                                                                       duration=args.duration, work=work, once=True))
                for workload in ("light", "heavy"):
                    sizes = fetch_all(base, gw[workload],
                                      into=tiles_dir if workload == "light" and pair == 1 else None)
                    report.bytes_by_zoom.setdefault("groundwork", {}).update(sizes)
                for workload in ("light", "heavy"):
                    for c in levels if workload == "light" else (8,):
                        record("groundwork", workload, "warm", c, pair, wrk(base, gw[workload], connections=c,
                                                                           duration=args.duration, work=work))
                record("groundwork", "304", "warm", 8, pair, revalidations(base, gw["light"], args, work))
            if items_part:
                httpx.get(base + items["groundwork"][0], timeout=120)  # warm: a first page before the timed run
                record("groundwork", "items", "warm", 8, pair, wrk(base, items["groundwork"], connections=8,
                                                                  duration=args.duration, work=work))
        if tiles:
            port = free_port()
            with groundwork_server(spatialite_url, work, port):  # the same city from a SpatiaLite file
                base = f"http://127.0.0.1:{port}"
                record("spatialite", "light", "cold", 8, pair, wrk(base, gw["light"], connections=8,
                                                                   duration=args.duration, work=work, once=True))
                fetch_all(base, gw["light"])
                record("spatialite", "light", "warm", 8, pair, wrk(base, gw["light"], connections=8,
                                                                   duration=args.duration, work=work))
        if args.before:  # the same Groundwork before a change (e.g. `git archive <commit>` unpacked)
            port = free_port()
            with groundwork_server(url, work, port, Path(args.before)):
                base = f"http://127.0.0.1:{port}"
                if tiles:
                    record("before", "light", "cold", 8, pair, wrk(base, gw["light"], connections=8,
                                                                  duration=args.duration, work=work, once=True))
                    record("before", "light", "warm", 8, pair, wrk(base, gw["light"], connections=8,
                                                                  duration=args.duration, work=work))
                if items_part:
                    httpx.get(base + items["groundwork"][0], timeout=120)
                    record("before", "items", "warm", 8, pair, wrk(base, items["groundwork"], connections=8,
                                                                  duration=args.duration, work=work))
        port = free_port()
        with tipg_server(url, venv, port):
            base = f"http://127.0.0.1:{port}"
            if tiles:
                for workload in ("light", "heavy"):
                    record("tipg", workload, "cold", 8, pair, wrk(base, tp[workload], connections=8,
                                                                 duration=args.duration, work=work, once=True))
                if pair == 1:
                    report.bytes_by_zoom["tipg"] = fetch_all(base, tp["light"] + tp["heavy"])
                for workload in ("light", "heavy"):
                    for c in levels if workload == "light" else (8,):
                        record("tipg", workload, "warm", c, pair, wrk(base, tp[workload], connections=c,
                                                                     duration=args.duration, work=work))
            if items_part:
                httpx.get(base + items["tipg"][0], timeout=120)
                record("tipg", "items", "warm", 8, pair, wrk(base, items["tipg"], connections=8,
                                                            duration=args.duration, work=work))
        if items_part:
            port = free_port()
            with pygeoapi_server(url, venv, work, port):
                httpx.get(f"http://127.0.0.1:{port}" + items["pygeoapi"][0], timeout=120)
                record("pygeoapi", "items", "warm", 8, pair, wrk(f"http://127.0.0.1:{port}", items["pygeoapi"],
                                                                connections=8, duration=args.duration, work=work))
        if tiles:
            port = free_port()
            with nginx_server(tiles_dir, work, port):
                for c in levels:
                    record("nginx", "light", "warm", c, pair, wrk(f"http://127.0.0.1:{port}", gw["light"],
                                                                 connections=c, duration=args.duration, work=work))


def revalidations(base: str, paths: list[str], args: argparse.Namespace, work: Path) -> dict[str, float]:
    """304s: wrk sends each tile's ETag (a second list: path and tag, the Lua script adds the header)."""
    tags = {}
    for path in paths[:200]:
        tags[path] = httpx.get(base + path, timeout=60).headers.get("etag", "")
    listing = work / "etags.txt"
    listing.write_text("\n".join(f"{p}\t{t}" for p, t in tags.items()) + "\n")
    script = work / "revalidate.lua"
    script.write_text(WRK_SCRIPT.replace(
        'for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end',
        'for line in io.lines(os.getenv("BENCH_PATHS")) do local p, t = line:match("([^\\t]+)\\t(.*)"); '
        'paths[#paths + 1] = {p, t} end').replace(
        'return wrk.format("GET", paths[position])',
        'return wrk.format("GET", paths[position][1], {["If-None-Match"] = paths[position][2]})'))
    result = subprocess.run(["wrk", "-t2", "-c8", f"-d{args.duration}s", "-s", str(script), base],
                            capture_output=True, text=True, check=True,
                            env={**os.environ, "BENCH_PATHS": str(listing), "BENCH_THREADS": "2"})
    numbers = json.loads(next(x for x in result.stdout.splitlines() if x.startswith("BENCH ")).removeprefix("BENCH "))
    seconds = numbers["duration_us"] / 1e6
    return {"rps": numbers["requests"] / seconds, "p50_ms": numbers["p50"] / 1000, "p95_ms": numbers["p95"] / 1000,
            "p99_ms": numbers["p99"] / 1000, "bytes": numbers["bytes"], "errors": numbers["errors"]}


# The report -----------------------------------------------------------------------------------------

def _rps(report: Report, server: str, workload: str, phase: str, c: int, measure: str = "rps") -> dict[int, float]:
    return {r.pair: getattr(r, measure) for r in report.runs
            if (r.server, r.workload, r.phase, r.connections) == (server, workload, phase, c)}


def _ratio(report: Report, a: tuple[str, str, str, int], b: tuple[str, str, str, int], measure: str = "rps") -> str:
    ours, theirs = _rps(report, *a, measure=measure), _rps(report, *b, measure=measure)
    ratios = [ours[p] / theirs[p] for p in ours if p in theirs and theirs[p] > 0]
    if not ratios:
        return "—"
    middle = statistics.median(ratios)
    spread = f" ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""
    return f"{middle:.2f}×{spread}"


def _median(report: Report, *key: object, measure: str = "rps") -> str:
    values = list(_rps(report, *key, measure=measure).values())  # type: ignore[arg-type]
    return (f"{statistics.median(values):,.0f}" if measure == "rps" else f"{statistics.median(values):,.1f} ms") \
        if values else "—"


def _import_values(report: Report, layer: str, tool: str, measure: str) -> dict[int, float]:
    return {r.pair: getattr(r, measure) for r in report.imports if (r.layer, r.tool) == (layer, tool)}


def _import_row(report: Report, layer: str, name: str, measure: str, unit: str, target: str) -> str:
    ours, theirs = (_import_values(report, layer, tool, measure) for tool in TOOLS)
    ratios = [ours[p] / theirs[p] for p in ours if theirs.get(p)]
    ratio = "—" if not ratios else f"{statistics.median(ratios):.2f}×" + (
        f" ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else "")

    def median(values: dict[int, float]) -> str:
        return f"{statistics.median(values.values()):,.{1 if unit == 's' else 0}f} {unit}" if values else "—"

    features = next((r.features for r in report.imports if r.layer == layer), 0)
    return (f"| import {layer} ({features:,} features), {name} | {median(ours)} | ogr2ogr {median(theirs)} | "
            f"{ratio} | {target} |")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return (f"{os.cpu_count()} × {cpu}, {memory:,} MB RAM, {platform.platform()}, Python {platform.python_version()}"
            f" (shared with other work: figures drift between rounds, ratios are taken pair by pair)")


def write(report: Report, out: Path, *, targets: bool) -> None:
    rows = [
        ("warm tiles z12–17, c8", ("groundwork", "light", "warm", 8), ("tipg", "light", "warm", 8), "≥ 3× tipg"),
        ("warm tiles vs files, c8", ("groundwork", "light", "warm", 8), ("nginx", "light", "warm", 8),
         "≥ 0.3× nginx"),
        ("cold tiles z12–17, c8", ("groundwork", "light", "cold", 8), ("tipg", "light", "cold", 8), "≥ 1× tipg"),
        ("heavy z11 pavement, cold, c8", ("groundwork", "heavy", "cold", 8), ("tipg", "heavy", "cold", 8), ""),
        ("heavy z11 pavement, warm, c8", ("groundwork", "heavy", "warm", 8), ("tipg", "heavy", "warm", 8), ""),
        ("items, 1,000 a page, c8", ("groundwork", "items", "warm", 8), ("tipg", "items", "warm", 8), "≥ 1.5× tipg"),
        ("items vs pygeoapi, c8", ("groundwork", "items", "warm", 8), ("pygeoapi", "items", "warm", 8),
         "≥ 5× pygeoapi"),
        ("warm tiles vs before this change, c8", ("groundwork", "light", "warm", 8),
         ("before", "light", "warm", 8), ""),
        ("cold tiles vs before, c8", ("groundwork", "light", "cold", 8), ("before", "light", "cold", 8), ""),
        ("items vs before, c8", ("groundwork", "items", "warm", 8), ("before", "items", "warm", 8), ""),
        ("warm tiles, c1", ("groundwork", "light", "warm", 1), ("tipg", "light", "warm", 1), ""),
        ("warm tiles, c64", ("groundwork", "light", "warm", 64), ("tipg", "light", "warm", 64), ""),
        ("warm tiles vs files, c64", ("groundwork", "light", "warm", 64), ("nginx", "light", "warm", 64), ""),
    ]
    by_command: dict[str, list[str]] = defaultdict(list)
    for part in PARTS:
        if part in report.measured:
            by_command[report.measured[part]].append(part)
    measured = "; ".join(f"{', '.join(parts[:-1]) + ' and ' if parts[1:] else ''}{parts[-1]} measured {when}"
                         for when, parts in by_command.items())
    measured = measured[:1].upper() + measured[1:]
    lines = ["# Benchmarks", "", "## Groundwork beside its peers", "",
             f"{measured} (method: the script's docstring).", "", f"**Machine.** {machine()}", "",
             "### Ratios (median of the pairs; range in brackets)", "",
             "Requests a second unless a unit is given; imports: Groundwork's `groundwork import` of its own export "
             "(a re-import) beside `ogr2ogr -f PostgreSQL` of the same file; CPU and peak memory are the command's "
             "own (the PostgreSQL server's work shows in the wall time only).", "",
             "| figure | Groundwork | peer | ratio | target |", "|---|---:|---:|---:|---|"]
    for name, ours, theirs, target in rows:
        lines.append(f"| {name} | {_median(report, *ours)} | {theirs[0]} {_median(report, *theirs)} | "
                     f"{_ratio(report, ours, theirs)} | {target if targets else ''} |")
    lines.append(f"| 304 revalidation, c8 | {_median(report, 'groundwork', '304', 'warm', 8)} | — | — | |")
    spatialite, postgis = ("spatialite", "light", "warm", 8), ("groundwork", "light", "warm", 8)
    for name, measure, target in (("SpatiaLite vs PostGIS warm tiles, c8", "rps", "≥ 0.8× PostGIS"),
                                  ("SpatiaLite vs PostGIS warm tiles, p99, c8", "p99_ms", "≤ 1.5× PostGIS's")):
        lines.append(f"| {name} | {_median(report, *spatialite, measure=measure)} | PostGIS "
                     f"{_median(report, *postgis, measure=measure)} | {_ratio(report, spatialite, postgis, measure)} | "
                     f"{target if targets else ''} |")
    cold = (("spatialite", "light", "cold", 8), ("groundwork", "light", "cold", 8))
    lines.append(f"| SpatiaLite vs PostGIS cold tiles, c8 | {_median(report, *cold[0])} | PostGIS "
                 f"{_median(report, *cold[1])} | {_ratio(report, *cold)} | |")
    for layer in dict.fromkeys(r.layer for r in report.imports):
        for name, measure, unit, target in (("wall time", "wall_s", "s", "≤ 1.5× ogr2ogr"),
                                            ("CPU time", "cpu_s", "s", ""),
                                            ("peak memory", "peak_mb", "MB", "≤ 2× ogr2ogr")):
            lines.append(_import_row(report, layer, name, measure, unit, target if targets else ""))
    lines += ["", "### Every run", "",
              "| pair | server | workload | phase | c | req/s | p50 ms | p95 ms | p99 ms | errors |",
              "|---:|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in report.runs:
        lines.append(f"| {r.pair} | {r.server} | {r.workload} | {r.phase} | {r.connections} | {r.rps:,.1f} | "
                     f"{r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.errors} |")
    lines += ["", "### Imports, every run (`/usr/bin/time -v`)", "",
              "| pair | layer | features | tool | wall s | CPU s | peak MB |", "|---:|---|---:|---|---:|---:|---:|"]
    for i in report.imports:
        lines.append(f"| {i.pair} | {i.layer} | {i.features:,} | {i.tool} | {i.wall_s:.1f} | {i.cpu_s:.1f} | "
                     f"{i.peak_mb:,} |")
    lines += ["", "### Bytes by zoom (each tile of the lists fetched once)", "",
              "| server | zoom | tiles | bytes | mean bytes |", "|---|---:|---:|---:|---:|"]
    for server, zooms in report.bytes_by_zoom.items():
        for z, (count, size) in sorted(zooms.items()):
            lines.append(f"| {server} | {z} | {count:,} | {size:,} | {size // max(count, 1):,} |")
    lines += ["", *report.notes, "", DATA + json.dumps(asdict(report), ensure_ascii=False) + " -->"]
    merge(out, "\n".join(lines))
    print(f"wrote {out}")


START, END = "<!-- peers: written by bench/peers.py -->", "<!-- peers: end -->"
DATA = "<!-- peers-data (read back by bench/peers.py --only): "


def previous(out: Path, scale: float) -> Report | None:
    """The report last written to ``out`` by this script at the same scale, from the data in its comment."""
    text = out.read_text() if out.exists() else ""
    line = next((x for x in text.splitlines() if x.startswith(DATA)), None)
    if line is None:
        return None
    data = json.loads(line.removeprefix(DATA).removesuffix(" -->"))
    if data["scale"] != scale:
        return None
    return Report(scale=data["scale"], duration=data["duration"], runs=[Run(**r) for r in data["runs"]],
                  bytes_by_zoom={server: {int(z): (v[0], v[1]) for z, v in zooms.items()}
                                 for server, zooms in data["bytes_by_zoom"].items()},
                  notes=data["notes"], imports=[ImportRun(**r) for r in data["imports"]], measured=data["measured"])


def keep(old: Report | None, new: Report, parts: set[str]) -> Report:
    """``new``'s parts, and the other parts' runs from ``old``."""
    if old is None:
        return new
    new.runs = [r for r in old.runs if part_of(r) not in parts] + new.runs
    new.imports = new.imports if "imports" in parts else old.imports
    if "tiles" not in parts:
        new.bytes_by_zoom = old.bytes_by_zoom
    new.measured = {**{p: m for p, m in old.measured.items() if p not in parts}, **new.measured}
    return new


def merge(out: Path, block: str) -> None:
    """Put the peers' section first in ``out``, replacing the previous one and keeping everything else."""
    text = out.read_text() if out.exists() else ""
    if START in text and END in text:
        text = text[:text.index(START)] + text[text.index(END) + len(END):].lstrip("\n")
    out.write_text(f"{START}\n{block}\n{END}\n\n{text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--pairs", type=int, default=2, help="rounds of alternating servers")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--work-dir", default=str(ROOT / ".bench-peers"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    parser.add_argument("--database-url", help="an existing demo city in PostGIS (skips building one)")
    parser.add_argument("--tiles-per-zoom", type=int, default=400, help="tiles per layer and zoom in the lists")
    parser.add_argument("--before", help="a Groundwork source tree to run beside this one (A/B of a change)")
    parser.add_argument("--smoke", action="store_true",
                        help="scale 0.05, 1-second runs, 10 tiles per layer and zoom, one pair")
    parser.add_argument("--only", default=",".join(PARTS),
                        help="the parts to run, e.g. imports or tiles,items (the others' runs are kept from --out)")
    args = parser.parse_args()
    parts = {part.strip() for part in args.only.split(",") if part.strip()}
    if not parts or parts - set(PARTS):
        parser.error(f"--only takes some of {', '.join(PARTS)}")
    if args.smoke:
        args.scale, args.duration, args.pairs = 0.05, 1, 1
        if args.out == parser.get_default("out"):
            args.out = str(Path(tempfile.gettempdir()) / "groundwork-peers-smoke.md")
    out = Path(args.out)
    old = previous(out, args.scale) if parts != set(PARTS) else None
    if parts != set(PARTS) and old is None:
        print(f"{out} holds no earlier run at scale {args.scale}: the parts not run stay empty", flush=True)
    report = compare(args, parts)
    command = f"bench/peers.py --scale {args.scale} --pairs {args.pairs}"
    command += f" --duration {args.duration}" if parts & {"tiles", "items"} else ""
    command += f" --only {','.join(p for p in PARTS if p in parts)}" if parts != set(PARTS) else ""
    report.measured = {part: f"{datetime.now(UTC):%Y-%m-%d} by `{command}`" for part in parts}
    write(keep(old, report, parts), out, targets=not args.smoke)


if __name__ == "__main__":
    main()
