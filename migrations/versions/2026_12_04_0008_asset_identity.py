"""Stable asset identity: proposal links keep the asset's source key (reserved; filled in by its owner).

Revision ID: 0008_asset_identity
Revises: 0007_address_ordinals
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

revision: str = '0008_asset_identity'
down_revision: str | None = '0007_address_ordinals'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
