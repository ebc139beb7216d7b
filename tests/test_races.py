"""Real parallel connections on PostGIS: twenty supports from one person at once count once, and two
staff saving the same review at once leave one saved and tell the other."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from app import participation
from app.db import make_engine
from app.triage import ReviewConflict, review
from models.accounts import Role
from tests.conftest import fresh_database, make_settings, make_user
from tests.triage_data import build_triage


def _race(engine, count: int, act: Callable[[Session, int], object]) -> tuple[list[object], list[BaseException]]:  # type: ignore[no-untyped-def]
    """Run ``act`` in ``count`` threads, each on its own connection, released together."""
    barrier = threading.Barrier(count, timeout=60)
    results: list[object] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                results.append(act(own, n))
            except BaseException as error:  # noqa: BLE001 — returned to the test
                errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results, errors


def test_twenty_supports_at_once_count_once_and_two_staff_on_one_review(tmp_path: Path):
    url, remove = fresh_database("postgis", tmp_path)
    engine = make_engine(url, pool_size=25, max_overflow=5)
    try:
        settings = make_settings(url)
        with Session(engine, expire_on_commit=False) as setup:
            owner = make_user(setup, settings, "owner@example.org")
            triage = build_triage(setup, owner)
            resident = make_user(setup, settings, "resident@example.org")
            staff = [make_user(setup, settings, f"staff{n}@city.gov", Role.staff) for n in range(2)]
        proposal_id = triage.proposals[0].id or 0

        added, errors = _race(engine, 20, lambda own, n: participation.support(
            session=own, proposal_id=proposal_id, user=resident))
        assert errors == [] and sorted(added) == [False] * 19 + [True]  # type: ignore[type-var]
        with Session(engine) as check:
            assert participation.support_count(session=check, proposal_id=proposal_id) == 1

        saved, conflicts = _race(engine, 2, lambda own, n: review.save_review(
            session=own, actor=staff[n], proposal_id=proposal_id, expected_version=0,
            internal_notes=f"notes by staff {n}", public_notes=""))
        assert len(saved) == 1 and len(conflicts) == 1 and isinstance(conflicts[0], ReviewConflict)
        with Session(engine) as check:
            kept = review.review_of(session=check, proposal_id=proposal_id)
            assert kept.version == 1 and kept.internal_notes in ("notes by staff 0", "notes by staff 1")
    finally:
        engine.dispose()
        remove()  # type: ignore[operator]
