"""Tile cache: a random key per layer revision, and a notification when a layer changes.

``layer.tile_key`` is set by the database itself whenever a layer row is inserted or its revision
changes, so the pair (revision, tile_key) names one state of the layer's data exactly: cached tiles
and immutable tile URLs carry it, and a database that is recreated, restored or rolled back never
reuses another state's key. On PostGIS the same trigger sends ``NOTIFY groundwork_layers`` with the
layer's kind, so every worker hears of an import at its commit (app/tiles/versions.py).

Revision ID: 0013_tile_cache
Revises: 0012_asset_snapshots
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_tile_cache'
down_revision: str | None = '0012_asset_snapshots'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_KEY = "lower(hex(randomblob(6)))"
_POSTGRES_KEY = "substr(md5(random()::text || clock_timestamp()::text), 1, 12)"


def upgrade() -> None:  # plain ADD COLUMN: no table rebuild, so other triggers stay
    op.add_column("layer", sa.Column("tile_key", sa.String(16), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"UPDATE layer SET tile_key = {_SQLITE_KEY}")
        op.execute(f"""CREATE TRIGGER layer_tile_key_on_insert AFTER INSERT ON layer
            BEGIN UPDATE layer SET tile_key = {_SQLITE_KEY} WHERE kind = NEW.kind; END""")
        op.execute(f"""CREATE TRIGGER layer_tile_key_on_revision AFTER UPDATE OF revision ON layer
            WHEN OLD.revision IS NOT NEW.revision
            BEGIN UPDATE layer SET tile_key = {_SQLITE_KEY} WHERE kind = NEW.kind; END""")
        return
    op.execute(f"UPDATE layer SET tile_key = {_POSTGRES_KEY}")
    op.execute(f"""CREATE FUNCTION groundwork_layer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('groundwork_layers', OLD.kind);
                RETURN OLD;
            END IF;
            IF TG_OP = 'INSERT' OR NEW.revision IS DISTINCT FROM OLD.revision THEN
                NEW.tile_key := {_POSTGRES_KEY};
            END IF;
            PERFORM pg_notify('groundwork_layers', NEW.kind);
            RETURN NEW;
        END $$""")
    op.execute("""CREATE TRIGGER layer_changed BEFORE INSERT OR UPDATE OR DELETE ON layer
        FOR EACH ROW EXECUTE FUNCTION groundwork_layer_changed()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS layer_tile_key_on_revision")
        op.execute("DROP TRIGGER IF EXISTS layer_tile_key_on_insert")
    else:
        op.execute("DROP TRIGGER IF EXISTS layer_changed ON layer")
        op.execute("DROP FUNCTION IF EXISTS groundwork_layer_changed()")
    op.drop_column("layer", "tile_key")
