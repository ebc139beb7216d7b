"""Tile cache (reserved; its owner fills it in).

Revision ID: 0013_tile_cache
Revises: 0012_asset_snapshots
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

revision: str = '0013_tile_cache'
down_revision: str | None = '0012_asset_snapshots'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
