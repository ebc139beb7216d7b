"""Proposal district shares from their assets (reserved; filled in by its owner).

Revision ID: 0010_district_shares
Revises: 0009_ballot_versions
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

revision: str = '0010_district_shares'
down_revision: str | None = '0009_ballot_versions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
