"""Content translations (reserved; its owner fills it in).

Revision ID: 0015_content_translations
Revises: 0014_import_jobs
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

revision: str = '0015_content_translations'
down_revision: str | None = '0014_import_jobs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
