"""Import benchmark: `groundwork import` of Groundwork's own GeoJSON exports beside ogr2ogr, same files, same PostGIS.

    .venv/bin/python bench/imports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/city
        [--demo-scale 10] [--layers pavement streetlight] [--runs 2]

The database must hold a city (``--demo-scale`` loads the demo city first, about 4 minutes at scale 10 on
2 cores). Each layer is exported with `groundwork export`, then imported back (a re-import: every key kept,
proposals' links checked) and loaded by `ogr2ogr -f PostgreSQL` into a scratch database; both run under
`/usr/bin/time -v` for wall time, CPU time and peak memory (Debian: gdal-bin, time). Runs alternate.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
GROUNDWORK = [sys.executable, "-m", "app"]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak memory in MB of one command."""
    done = subprocess.run(["/usr/bin/time", "-v", *command], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")

    def field(name: str) -> str:
        match = re.search(rf"{re.escape(name)}: (.+)", done.stderr)
        assert match, name
        return match.group(1).strip()

    minutes, _, seconds = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").rpartition(":")
    wall = float(seconds) + 60 * float(minutes.split(":")[-1] or 0)
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    return wall, cpu, int(field("Maximum resident set size (kbytes)")) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--demo-scale", type=float)
    parser.add_argument("--layers", nargs="+", default=["pavement", "streetlight"])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    env = {**os.environ, "GROUNDWORK_DATABASE_URL": args.database_url}
    if args.demo_scale:
        subprocess.run([*GROUNDWORK, "db", "upgrade"], env=env, cwd=ROOT, check=True)
        subprocess.run([*GROUNDWORK, "demo", "--scale", str(args.demo_scale), "--force"], env=env, cwd=ROOT, check=True)
    url = make_url(args.database_url)
    scratch = f"gw_ogr_{uuid.uuid4().hex[:8]}"
    from app.db import make_engine

    admin = make_engine(args.database_url, isolation_level="AUTOCOMMIT", poolclass=None)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    target = f"PG:dbname={scratch} host={url.host or '127.0.0.1'} port={url.port or 5432} user={url.username}"
    try:
        scratch_engine = make_engine(url.set(database=scratch).render_as_string(hide_password=False),
                                     isolation_level="AUTOCOMMIT", poolclass=None)
        with scratch_engine.connect() as connection:
            connection.execute(text("CREATE EXTENSION postgis"))
        scratch_engine.dispose()
        print("| layer | features | tool | wall s | CPU s | peak MB |\n|---|---:|---|---:|---:|---:|")
        with tempfile.TemporaryDirectory(prefix="groundwork-bench-") as folder:
            for layer in args.layers:
                path = Path(folder) / f"{layer}.geojson"
                subprocess.run([*GROUNDWORK, "export", layer, "-o", str(path)], env=env, cwd=ROOT, check=True,
                               capture_output=True)
                features = path.read_text().count('"type":"Feature"')
                for _ in range(args.runs):  # alternate the two tools: a shared machine drifts
                    for tool, command in (("groundwork import", [*GROUNDWORK, "import", layer, str(path)]),
                                          ("ogr2ogr", ["ogr2ogr", "-f", "PostgreSQL", target, str(path),
                                                       "-overwrite", "-nln", layer])):
                        wall, cpu, peak = timed(command, env)
                        print(f"| {layer} | {features:,} | {tool} | {wall:.1f} | {cpu:.1f} | {peak} |", flush=True)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
