"""Outgoing mail keeps its extra headers (a follow mail's List-Unsubscribe and List-Unsubscribe-Post).

Revision ID: 0020_outbox_headers
Revises: 0019_awards_revenue_phases
Create Date: 2026-12-04 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0020_outbox_headers'
down_revision: str | None = '0019_awards_revenue_phases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('headers', _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('headers')
