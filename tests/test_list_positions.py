"""A group's list positions stay unique: creations racing on real PostGIS connections each get
their own place, and migration 0011 renumbers duplicates left before the constraint existed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import groups, migrate
from app.db import make_engine
from app.proposals import ProposalError, editor, lists
from app.proposals.editor import ProposalInput
from models.proposals import Proposal
from tests.conftest import fresh_database, make_settings, make_user
from tests.proposal_city import build_city

RACERS = 30


def test_thirty_parallel_creations_in_one_group_take_thirty_places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url, remove = fresh_database("postgis", tmp_path)
    engine = make_engine(url, pool_size=RACERS, max_overflow=5)
    try:
        settings = make_settings(url)
        with Session(engine, expire_on_commit=False) as setup:
            build_city(setup)
            owner = make_user(setup, settings, "owner@example.org")
            group = groups.create_group(session=setup, creator=owner, name="Friends of Main Street")
        original = editor.prepare
        barrier = threading.Barrier(RACERS, timeout=60)

        def together(**kwargs):  # type: ignore[no-untyped-def]
            prepared = original(**kwargs)
            barrier.wait()  # every creation has read and priced its input; now they all write at once
            return prepared

        monkeypatch.setattr(editor, "prepare", together)
        failures: list[BaseException] = []

        def create(n: int) -> None:
            try:
                with Session(engine, expire_on_commit=False) as own:
                    editor.create_proposal(session=own, group_id=group.id or 0, actor=owner,
                                           data=ProposalInput(title=f"Project {n}"))
            except BaseException as error:  # noqa: BLE001 — reported below
                failures.append(error)

        threads = [threading.Thread(target=create, args=(n,)) for n in range(RACERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert failures == []
        with Session(engine) as check:
            positions = list(check.exec(select(Proposal.position).where(Proposal.group_id == group.id)
                                        .order_by(col(Proposal.position))))
        assert positions == list(range(1, RACERS + 1))
    finally:
        engine.dispose()
        remove()  # type: ignore[operator]


@pytest.mark.parametrize("kind", ["spatialite", "postgis"])
def test_the_migration_renumbers_duplicate_positions_then_refuses_new_ones(kind: str, tmp_path: Path):
    url, remove = fresh_database(kind, tmp_path)
    engine = make_engine(url)
    try:
        command.downgrade(migrate.alembic_config(url), "0010_district_shares")  # before the constraint
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO community_group (name, description, created_at) "
                                    "VALUES ('Elm Street', '', CURRENT_TIMESTAMP)"))
            group_id = connection.execute(text("SELECT id FROM community_group")).scalar_one()
            for title, position in (("a", 1), ("b", 2), ("c", 2), ("d", 2), ("e", 3)):
                connection.execute(text(
                    "INSERT INTO proposal (group_id, title, description, state, version, position, created_at, "
                    "updated_at) VALUES (:g, :t, '', 'draft', 1, :p, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                    {"g": group_id, "t": title, "p": position})
        migrate.upgrade(url)
        with engine.begin() as connection:
            rows = connection.execute(text("SELECT title, position FROM proposal ORDER BY position")).all()
        assert [tuple(r) for r in rows] == [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)]
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO proposal (group_id, title, description, state, version, position, created_at, "
                "updated_at) VALUES (:g, 'f', '', 'draft', 1, 5, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"g": group_id})
    finally:
        engine.dispose()
        remove()  # type: ignore[operator]


def test_fifty_parallel_list_moves_keep_every_place_once(tmp_path: Path):
    url, remove = fresh_database("postgis", tmp_path)
    engine = make_engine(url, pool_size=50, max_overflow=5)
    try:
        settings = make_settings(url)
        with Session(engine, expire_on_commit=False) as setup:
            build_city(setup)
            owner = make_user(setup, settings, "owner@example.org")
            group = groups.create_group(session=setup, creator=owner, name="Friends of Main Street")
            ids = [editor.create_proposal(session=setup, group_id=group.id or 0, actor=owner,
                                          data=ProposalInput(title=f"Project {n}")).id for n in range(6)]
        barrier = threading.Barrier(50, timeout=60)
        failures: list[BaseException] = []

        def move(n: int) -> None:
            try:
                with Session(engine, expire_on_commit=False) as own:
                    barrier.wait()
                    lists.move(session=own, group_id=group.id or 0, proposal_id=ids[n % 6] or 0, actor=owner,
                               direction="up" if n % 2 else "down")
            except ProposalError:
                pass  # "already at the top/bottom": a clear refusal, nothing written
            except BaseException as error:  # noqa: BLE001 — reported below
                failures.append(error)

        threads = [threading.Thread(target=move, args=(n,)) for n in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert failures == []
        with Session(engine) as check:
            positions = sorted(check.exec(select(Proposal.position).where(Proposal.group_id == group.id)))
        assert positions == [1, 2, 3, 4, 5, 6]
    finally:
        engine.dispose()
        remove()  # type: ignore[operator]
