"""A proposal on a published list keeps its asset snapshot: the database refuses to change it.

Migration 0009 guards a ballot proposal's public columns; the snapshot of what it covered
(``proposal.asset_snapshot``, migration 0012) joins them here, in a trigger of its own (the
earlier triggers stay as they are).

Revision ID: 0018_frozen_asset_snapshot
Revises: 0017_delivery
Create Date: 2026-12-04 12:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0018_frozen_asset_snapshot'
down_revision: str | None = '0017_delivery'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSED = "groundwork: the published ballot list cannot change"
ON_A_LIST = "EXISTS (SELECT 1 FROM published_item WHERE published_item.proposal_id = OLD.id)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE TRIGGER ballot_proposal_snapshot_frozen BEFORE UPDATE OF asset_snapshot ON proposal "
                   f"WHEN {ON_A_LIST} AND NEW.asset_snapshot IS NOT OLD.asset_snapshot BEGIN "
                   f"SELECT RAISE(ABORT, '{REFUSED}: a proposal on it keeps its snapshot'); END")
        return
    run = op.get_bind().exec_driver_sql
    run(f"""CREATE FUNCTION ballot_guard_snapshot() RETURNS trigger LANGUAGE plpgsql AS $guard$
        BEGIN
          IF {ON_A_LIST} AND NEW.asset_snapshot::text IS DISTINCT FROM OLD.asset_snapshot::text THEN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
              MESSAGE = '{REFUSED}: proposal ' || OLD.id || ' is on it and keeps its snapshot';
          END IF;
          RETURN NEW;
        END $guard$""")
    run("CREATE TRIGGER ballot_proposal_snapshot_frozen BEFORE UPDATE OF asset_snapshot ON proposal "
        "FOR EACH ROW EXECUTE FUNCTION ballot_guard_snapshot()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ballot_proposal_snapshot_frozen")
        return
    op.execute("DROP TRIGGER IF EXISTS ballot_proposal_snapshot_frozen ON proposal")
    op.execute("DROP FUNCTION IF EXISTS ballot_guard_snapshot()")
