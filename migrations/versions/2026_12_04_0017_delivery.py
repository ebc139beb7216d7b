"""After the vote: the referendum's result and the delivery of each ballot project (phases and
their dates, milestones, spending, public updates with photos, followers). Beside the published
list, never in it.

Revision ID: 0017_delivery
Revises: 0016_pavement_plan
Create Date: 2026-12-04 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from models.base import UTCDateTime

revision: str = '0017_delivery'
down_revision: str | None = '0016_pavement_plan'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def _user(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([name], ['user_account.id'], ondelete='SET NULL')


def _project() -> list:
    return [sa.Column('project_id', sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(['project_id'], ['delivery_project.id'], ondelete='CASCADE')]


def upgrade() -> None:
    op.create_table('vote_result',
    sa.Column('id', sa.Integer(), primary_key=True),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('yes_votes', sa.Integer(), nullable=False),
    sa.Column('no_votes', sa.Integer(), nullable=False),
    sa.Column('source_url', sa.String(500), nullable=False),
    sa.Column('list_version', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    _user('recorded_by_id'),
    sa.CheckConstraint('yes_votes >= 0 AND no_votes >= 0', name='ck_vote_result_counts'))
    op.create_table('delivery_project',
    sa.Column('id', sa.Integer(), primary_key=True),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(20), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('completed', _JSON, nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.UniqueConstraint('proposal_id', name='uq_delivery_project_proposal_id'))
    op.create_index('ix_delivery_project_phase', 'delivery_project', ['phase'])
    op.create_table('delivery_phase_dates',
    sa.Column('id', sa.Integer(), primary_key=True), *_project(),
    sa.Column('phase', sa.String(20), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.UniqueConstraint('project_id', 'phase', name='uq_delivery_phase_dates_project_phase'))
    op.create_table('delivery_milestone',
    sa.Column('id', sa.Integer(), primary_key=True), *_project(),
    sa.Column('title', sa.String(200), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True))
    op.create_table('delivery_spending',
    sa.Column('id', sa.Integer(), primary_key=True), *_project(),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(300), nullable=False),
    sa.Column('reason', sa.String(2000), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    _user('recorded_by_id'))
    op.create_table('delivery_update',
    sa.Column('id', sa.Integer(), primary_key=True), *_project(),
    sa.Column('body', sa.String(4000), nullable=False),
    sa.Column('phase', sa.String(20), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('at', UTCDateTime(), nullable=False),
    _user('author_id'))
    op.create_index('ix_delivery_update_at', 'delivery_update', ['at'])
    op.create_table('delivery_photo',
    sa.Column('id', sa.Integer(), primary_key=True),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(80), nullable=False),
    sa.Column('alt_text', sa.String(300), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['update_id'], ['delivery_update.id'], ondelete='CASCADE'),
    sa.UniqueConstraint('stored_name', name='uq_delivery_photo_stored_name'))
    op.create_index('ix_delivery_photo_update_id', 'delivery_photo', ['update_id'])
    op.create_table('delivery_follow',
    sa.Column('id', sa.Integer(), primary_key=True), *_project(),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.UniqueConstraint('project_id', 'user_id', name='uq_delivery_follow_once'))
    op.create_index('ix_delivery_follow_user_id', 'delivery_follow', ['user_id'])
    for table in ('delivery_phase_dates', 'delivery_milestone', 'delivery_spending', 'delivery_update',
                  'delivery_follow'):
        op.create_index(f'ix_{table}_project_id', table, ['project_id'])


def downgrade() -> None:
    for table in ('delivery_follow', 'delivery_photo', 'delivery_update', 'delivery_spending', 'delivery_milestone',
                  'delivery_phase_dates', 'delivery_project', 'vote_result'):
        op.drop_table(table)
