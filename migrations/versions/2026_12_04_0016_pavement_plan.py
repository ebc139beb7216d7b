"""Pavement plan (reserved; its owner fills it in).

Revision ID: 0016_pavement_plan
Revises: 0015_content_translations
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

revision: str = '0016_pavement_plan'
down_revision: str | None = '0015_content_translations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
