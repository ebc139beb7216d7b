"""Import jobs (reserved; its owner fills it in).

Revision ID: 0014_import_jobs
Revises: 0013_tile_cache
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

revision: str = '0014_import_jobs'
down_revision: str | None = '0013_tile_cache'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
