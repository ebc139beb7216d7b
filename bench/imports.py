"""Import benchmark: `groundwork import` of Groundwork's own GeoJSON exports beside ogr2ogr, same files, same PostGIS.

    .venv/bin/python bench/imports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/city
        [--demo-scale 10] [--layers pavement streetlight] [--runs 2]

The database must hold a city (``--demo-scale`` loads the demo city first, about 4 minutes at scale 10 on
2 cores). Each layer is exported with `groundwork export`, then imported back (a re-import: every key kept,
proposals' links checked) and loaded by `ogr2ogr -f PostgreSQL` into a scratch database; both run under
`/usr/bin/time -v` for wall time, CPU time and peak memory (Debian: gdal-bin, time). Runs alternate.
``bench/peers.py`` runs the same functions as its ``imports`` part and puts them in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
GROUNDWORK = [sys.executable, "-m", "app"]
LAYERS = ("pavement", "streetlight")
TOOLS = ("groundwork import", "ogr2ogr")


@dataclass
class ImportRun:
    layer: str
    features: int
    tool: str  # one of TOOLS
    pair: int
    wall_s: float
    cpu_s: float
    peak_mb: int


def timed(command: list[str], env: Mapping[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak memory in MB of one command."""
    done = subprocess.run(["/usr/bin/time", "-v", *command], env=dict(env), cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")

    def field(name: str) -> str:
        match = re.search(rf"{re.escape(name)}: (.+)", done.stderr)
        assert match, name
        return match.group(1).strip()

    parts = reversed(field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"))
    wall = sum(float(part) * 60**i for i, part in enumerate(parts))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    return wall, cpu, int(field("Maximum resident set size (kbytes)")) // 1024


@contextmanager
def scratch_database(database_url: str) -> Iterator[str]:
    """A PostGIS database beside ``database_url``'s for ogr2ogr to write into; yields its OGR ``PG:`` name and
    drops it afterwards."""
    from app.db import make_engine

    url = make_url(database_url)
    scratch = f"gw_ogr_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=None)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        scratch_engine = make_engine(url.set(database=scratch).render_as_string(hide_password=False),
                                     isolation_level="AUTOCOMMIT", poolclass=None)
        with scratch_engine.connect() as connection:
            connection.execute(text("CREATE EXTENSION postgis"))
        scratch_engine.dispose()
        password = f" password={url.password}" if url.password else ""
        yield (f"PG:dbname={scratch} host={url.host or '127.0.0.1'} port={url.port or 5432} "
               f"user={url.username or 'postgres'}{password}")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def export_layer(layer: str, path: Path, env: Mapping[str, str]) -> int:
    """`groundwork export LAYER` to ``path`` (GeoJSON); the number of features written."""
    subprocess.run([*GROUNDWORK, "export", layer, "-o", str(path)], env=dict(env), cwd=ROOT, check=True,
                   capture_output=True)
    return path.read_text().count('"type":"Feature"')


def import_runs(database_url: str, env: Mapping[str, str], *, layers: tuple[str, ...] | list[str] = LAYERS,
                pairs: int = 2) -> Iterator[ImportRun]:
    """Each layer exported once, then ``pairs`` times `groundwork import` (a re-import into the city) and
    `ogr2ogr` (into a scratch database), one after the other: a shared machine drifts, so compare within a pair."""
    env = {**env, "GROUNDWORK_DATABASE_URL": database_url}
    with scratch_database(database_url) as target, tempfile.TemporaryDirectory(prefix="groundwork-bench-") as folder:
        for layer in layers:
            path = Path(folder) / f"{layer}.geojson"
            features = export_layer(layer, path, env)
            for pair in range(1, pairs + 1):
                for tool, command in ((TOOLS[0], [*GROUNDWORK, "import", layer, str(path)]),
                                      (TOOLS[1], ["ogr2ogr", "-f", "PostgreSQL", target, str(path),
                                                  "-overwrite", "-nln", layer])):
                    wall, cpu, peak = timed(command, env)
                    yield ImportRun(layer, features, tool, pair, wall, cpu, peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--demo-scale", type=float)
    parser.add_argument("--layers", nargs="+", default=list(LAYERS))
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    env = {**os.environ, "GROUNDWORK_DATABASE_URL": args.database_url}
    if args.demo_scale:
        subprocess.run([*GROUNDWORK, "db", "upgrade"], env=env, cwd=ROOT, check=True)
        subprocess.run([*GROUNDWORK, "demo", "--scale", str(args.demo_scale), "--force"], env=env, cwd=ROOT, check=True)
    print("| layer | features | tool | wall s | CPU s | peak MB |\n|---|---:|---|---:|---:|---:|")
    for run in import_runs(args.database_url, env, layers=args.layers, pairs=args.runs):
        print(f"| {run.layer} | {run.features:,} | {run.tool} | {run.wall_s:.1f} | {run.cpu_s:.1f} | {run.peak_mb} |",
              flush=True)


if __name__ == "__main__":
    main()
