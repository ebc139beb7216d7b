"""Revocable sessions, sign-in throttling, unique list positions (reserved; filled in by its owner).

Revision ID: 0011_sessions_and_throttling
Revises: 0010_district_shares
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

revision: str = '0011_sessions_and_throttling'
down_revision: str | None = '0010_district_shares'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
