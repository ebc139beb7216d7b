"""Ballot list versions, amendments and the published-list guard (reserved; filled in by its owner).

Revision ID: 0009_ballot_versions
Revises: 0008_asset_identity
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

revision: str = '0009_ballot_versions'
down_revision: str | None = '0008_asset_identity'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
