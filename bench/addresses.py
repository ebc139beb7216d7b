"""Address search benchmark: find-a-place queries against 100,000 address points, on SpatiaLite and
PostGIS, through ``app.layers.addresses.find_addresses`` (no HTTP).

    .venv/bin/python bench/addresses.py [--addresses 100000] [--runs 200]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Data: the demo city's address generator at the scale that gives about that many points (numbers
along every street, both sides), written with ``write_layer`` like an import. Queries: what a
resident types, letter by letter ("4", "41", … "412 Oak Street"), for addresses drawn at random;
wall time per query, p50 and p95.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app import migrate
from app.db import make_engine
from app.demo.addresses import address_records
from app.demo.city import make_plan
from app.demo.streets import build_network
from app.layers.addresses import find_addresses
from app.layers.store import write_layer
from models.layers import LayerKind

ADDRESSES_AT_SCALE_1 = 22_000


def queries(addresses: list[str], runs: int, seed: int = 3) -> list[str]:
    """Prefixes of random addresses as they are typed, with "Street"/"Avenue" spelled out."""
    rng = random.Random(seed)
    typed = []
    while len(typed) < runs:
        full = re.sub(r" Ave$", " Avenue", re.sub(r" St$", " Street", rng.choice(addresses)))
        typed += [full[:n] for n in range(2, len(full) + 1, 3)] + [full]
    return typed[:runs]


def run(url: str, label: str, records: list, runs: int) -> None:  # type: ignore[type-arg]
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        started = time.perf_counter()
        write_layer(session=session, kind=LayerKind.address, records=records, source="bench", actor=None)
        written = time.perf_counter() - started
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE address_point"))
        typed = queries([r.fields["full_address"] for r in records], runs)
        find_addresses(session=session, query=typed[0])  # warm the connection and caches
        times, found = [], 0
        for query in typed:
            started = time.perf_counter()
            found += bool(find_addresses(session=session, query=query))
            times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"| {label} | {len(records):,} | {written:.1f} | {statistics.median(times):.2f} | {p95:.2f} | "
          f"{found}/{len(typed)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--addresses", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--postgres-url")
    args = parser.parse_args()
    plan = make_plan(42, args.addresses / ADDRESSES_AT_SCALE_1)
    records = address_records(plan, build_network(plan))
    print("| backend | addresses | write s | p50 ms | p95 ms | queries with results |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{Path(folder) / 'bench.sqlite'}", "SpatiaLite", records, args.runs)
    if args.postgres_url:
        name = f"gw_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
        try:
            run(url, "PostGIS", records, args.runs)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
