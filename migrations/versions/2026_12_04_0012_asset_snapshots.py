"""Asset snapshots: what a submitted proposal and a ballot item covered.

``proposal.asset_snapshot`` is taken when the group submits (and again when it resubmits after staff
asked for more information): each asset's layer, id, source key, geometry, key attributes,
condition, cost inputs and estimate as they were. ``published_item.snapshot`` is the ballot item as
published (the proposal's facts and its asset snapshot), written once and never updated. Both are
JSON; proposals submitted before this migration get theirs when published (see
app/proposals/snapshots.py).

Revision ID: 0012_asset_snapshots
Revises: 0011_sessions_and_throttling
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012_asset_snapshots'
down_revision: str | None = '0011_sessions_and_throttling'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:  # plain ADD/DROP COLUMN: no table rebuild, so spatial indexes and triggers stay
    op.add_column("proposal", sa.Column("asset_snapshot", _JSON, nullable=True))
    op.add_column("published_item", sa.Column("snapshot", _JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("published_item", "snapshot")
    op.drop_column("proposal", "asset_snapshot")
