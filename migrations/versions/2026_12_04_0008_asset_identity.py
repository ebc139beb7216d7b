"""Stable asset identity: a proposal's link to an asset keeps the asset's source key.

``proposal_asset.source_key`` is the asset's ``source_id`` (its id in the city's own data), so an
import that replaces a layer can keep links, and bring back links to assets that come back;
``proposal_asset.missing`` marks a link whose asset the current layer no longer has. Existing
links get their key from the asset they point at.

Revision ID: 0008_asset_identity
Revises: 0007_address_ordinals
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_asset_identity'
down_revision: str | None = '0007_address_ordinals'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ASSET_TABLES = {"pavement": "pavement_segment", "sidewalk": "sidewalk_segment", "ramp": "curb_ramp",
                 "streetlight": "streetlight"}


def upgrade() -> None:
    with op.batch_alter_table("proposal_asset") as batch:
        batch.add_column(sa.Column("source_key", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("missing", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_proposal_asset_source_key", ["source_key"])
    links = sa.table("proposal_asset", sa.column("layer", sa.String), sa.column("asset_id", sa.Integer),
                     sa.column("source_key", sa.String), sa.column("missing", sa.Boolean))
    for layer, table_name in _ASSET_TABLES.items():
        assets = sa.table(table_name, sa.column("id", sa.Integer), sa.column("source_id", sa.String))
        key = sa.select(assets.c.source_id).where(assets.c.id == links.c.asset_id).scalar_subquery()
        present = sa.exists().where(assets.c.id == links.c.asset_id)
        op.execute(links.update().where(links.c.layer == layer).values(source_key=key, missing=~present))


def downgrade() -> None:
    with op.batch_alter_table("proposal_asset") as batch:
        batch.drop_index("ix_proposal_asset_source_key")
        batch.drop_column("missing")
        batch.drop_column("source_key")
