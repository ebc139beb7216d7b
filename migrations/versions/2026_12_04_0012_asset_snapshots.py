"""Asset snapshots: what a submitted proposal and a ballot item covered (reserved; filled in by its owner).

Revision ID: 0012_asset_snapshots
Revises: 0011_sessions_and_throttling
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

revision: str = '0012_asset_snapshots'
down_revision: str | None = '0011_sessions_and_throttling'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
