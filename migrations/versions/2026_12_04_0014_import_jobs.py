"""Import jobs: the staff page's imports run in the background, their state in the database.

Revision ID: 0014_import_jobs
Revises: 0013_tile_cache
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from models.base import UTCDateTime

revision: str = '0014_import_jobs'
down_revision: str | None = '0013_tile_cache'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('import_job',
    sa.Column('id', sa.Integer(), primary_key=True),
    sa.Column('kind', sa.String(20), nullable=False),
    sa.Column('name', sa.String(2000), nullable=False),
    sa.Column('state', sa.String(20), nullable=False),
    sa.Column('stage', sa.String(20), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('request', _JSON, nullable=False),
    sa.Column('result', _JSON, nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=True),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('heartbeat_at', UTCDateTime(), nullable=True),
    sa.Column('worker', sa.String(100), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name='ck_import_job_state'))
    op.create_index('ix_import_job_state', 'import_job', ['state'])


def downgrade() -> None:
    op.drop_index('ix_import_job_state', table_name='import_job')
    op.drop_table('import_job')
