"""Vector tile benchmark: a dense z14 tile and a z12 tile of ~50k pavement segments, on
SpatiaLite (spatial index + Python encoding) and PostGIS (ST_AsMVT), beside the floor on
PostGIS: a bare ST_AsMVT query on the same rows (no simplification, no feature cap).

    .venv/bin/python bench/tiles.py [--segments 50000] [--runs 30]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Data: a seeded street grid (~65 m blocks, a little jitter, three functional classes, PCI 0–100)
around Somerville, MA; the z14 tile is in its middle, the z12 tile holds the whole grid (and is
capped at the tile settings' max_features). Tiles are rendered through app.tiles.service
without HTTP; wall time per tile, p50 and p95, and tiles per second on one core.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, MultiLineString
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app import migrate
from app.db import make_engine
from app.layers.bands import DEFAULT_SCHEME
from app.settings import TileSettings
from app.tiles import service
from models.layers import Layer, LayerKind, PavementSegment

ORIGIN = (-71.16, 42.35)
STEP = 0.0008  # degrees between grid streets (~65 m north–south, ~60 m east–west here)
CLASSES = ("arterial", "collector", "local", "local", "local")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def city(segments: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    side = int(math.sqrt(segments / 2)) + 1
    rows = []
    for i in range(side):
        for j in range(side):
            x, y = ORIGIN[0] + i * STEP, ORIGIN[1] + j * STEP
            for dx, dy in ((STEP, 0), (0, STEP)):
                if len(rows) == segments:
                    return rows
                mid = (x + dx / 2 + rng.uniform(-STEP / 8, STEP / 8), y + dy / 2 + rng.uniform(-STEP / 8, STEP / 8))
                line = MultiLineString([LineString([(x, y), mid, (x + dx, y + dy)])])
                pci = rng.randint(0, 100)
                rows.append({"street_name": f"{'AVE' if dy else 'ST'} {j if dx else i}", "length_m": 65.0,
                             "functional_class": rng.choice(CLASSES), "pci": pci,
                             "band": DEFAULT_SCHEME.band_for(pci).key, "attributes": {"seq": len(rows)},
                             "geom": from_shape(line, srid=4326)})
    return rows


def load(url: str, rows: list[dict]) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        for start in range(0, len(rows), 2000):
            session.execute(insert(PavementSegment.__table__), rows[start:start + 2000])
        side = int(math.sqrt(len(rows) / 2)) + 1
        session.add(Layer(kind=LayerKind.pavement.value, title="Pavement", revision=1, feature_count=len(rows),
                          min_lon=ORIGIN[0], min_lat=ORIGIN[1], max_lon=ORIGIN[0] + side * STEP,
                          max_lat=ORIGIN[1] + side * STEP))
        session.commit()
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE pavement_segment"))
            session.commit()
    engine.dispose()


def timings(function: Callable[[], bytes], runs: int) -> tuple[list[float], int]:
    size = len(function())  # warm up: caches, connection, query plan
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples, size


def report(label: str, samples: list[float], size: int) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    p50 = statistics.median(ordered)
    line = f"| {label} | {p50:.1f} | {p95:.1f} | {1000 / p50:.1f} | {size / 1024:.0f} |"
    print(line, flush=True)
    return line


def bench(url: str, name: str, runs: int, tiles: TileSettings, segments: int) -> list[str]:
    engine = make_engine(url)
    lines = []
    half = (int(math.sqrt(segments / 2)) + 1) * STEP / 2
    centre = (ORIGIN[0] + half, ORIGIN[1] + half)
    with Session(engine) as session:
        for z, count in ((14, runs), (12, max(5, runs // 3))):
            z, x, y = tile_of(*centre, z)
            plan = service.plan_tile(versions={}, tiles=tiles, dialect=engine.dialect.name, layer_id="pavement",
                                     z=z, x=x, y=y)
            samples, size = timings(lambda plan=plan: service.render_tile(session=session, tiles=tiles, plan=plan),
                                    count)
            lines.append(report(f"{name}, z{z} ({x}/{y})", samples, size))
            if engine.dialect.name == "postgresql":
                floor = text(
                    "SELECT ST_AsMVT(t, 'pavement', 4096, 'geom') FROM ("
                    " SELECT id, street_name, band, functional_class,"
                    " ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS geom"
                    " FROM pavement_segment WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326)) AS t")
                samples, size = timings(
                    lambda z=z, x=x, y=y, floor=floor: bytes(
                        session.execute(floor, {"z": z, "x": x, "y": y}).scalar_one()),
                    count)
                lines.append(report(f"floor: bare ST_AsMVT, z{z}", samples, size))
    engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres-url", default=None, help="a server whose role may create databases")
    args = parser.parse_args()
    tiles = TileSettings()
    rows = city(args.segments)
    print(f"{len(rows)} segments; extent {tiles.extent}, buffer {tiles.buffer}, max {tiles.max_features}/tile\n")
    print("| backend, tile | p50 ms | p95 ms | tiles/s (p50) | size KiB |\n|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.sqlite'}"
        load(url, rows)
        bench(url, "SpatiaLite", args.runs, tiles, len(rows))
    if args.postgres_url:
        name = f"gw_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
        try:
            load(url, rows)
            bench(url, "PostGIS", args.runs, tiles, len(rows))
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
