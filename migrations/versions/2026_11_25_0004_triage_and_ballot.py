"""Staff triage and whittling: reviews, staff estimates, the scoring rubric and reviewers' scores,
overlap links (alternates, merges), scenarios, and the published ballot list with its items.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:50:30.810670
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from models.base import UTCDateTime

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rubric_criterion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('scale_max', sa.Integer(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('scenario',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('target_share_bps', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('published_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.Integer(), nullable=True),
    sa.Column('published_at', UTCDateTime(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('export', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('total_cents', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scenario_id'], ['scenario.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version')
    )
    op.create_table('proposal_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['other_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('proposal_id', 'other_id', 'kind')
    )
    op.create_index(op.f('ix_proposal_link_other_id'), 'proposal_link', ['other_id'], unique=False)
    op.create_index(op.f('ix_proposal_link_proposal_id'), 'proposal_link', ['proposal_id'], unique=False)
    op.create_table('published_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('published_list_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('category_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('cost_cents', sa.BigInteger(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_list_id'], ['published_list.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('published_list_id', 'proposal_id')
    )
    op.create_index(op.f('ix_published_item_published_list_id'), 'published_item', ['published_list_id'], unique=False)
    op.create_table('reviewer_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['rubric_criterion.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('proposal_id', 'criterion_id', 'reviewer_id')
    )
    op.create_index(op.f('ix_reviewer_score_criterion_id'), 'reviewer_score', ['criterion_id'], unique=False)
    op.create_index(op.f('ix_reviewer_score_proposal_id'), 'reviewer_score', ['proposal_id'], unique=False)
    op.create_table('scenario_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=True),
    sa.Column('lock', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scenario_id'], ['scenario.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scenario_id', 'proposal_id')
    )
    op.create_index(op.f('ix_scenario_item_proposal_id'), 'scenario_item', ['proposal_id'], unique=False)
    op.create_index(op.f('ix_scenario_item_scenario_id'), 'scenario_item', ['scenario_id'], unique=False)
    op.create_table('staff_estimate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('total_cents', sa.BigInteger(), nullable=False),
    sa.Column('lines', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_staff_estimate_proposal_id'), 'staff_estimate', ['proposal_id'], unique=False)
    op.create_table('triage_review',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('internal_notes', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
    sa.Column('public_notes', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('proposal_id')
    )
    op.create_index(op.f('ix_triage_review_reviewer_id'), 'triage_review', ['reviewer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_triage_review_reviewer_id'), table_name='triage_review')
    op.drop_table('triage_review')
    op.drop_index(op.f('ix_staff_estimate_proposal_id'), table_name='staff_estimate')
    op.drop_table('staff_estimate')
    op.drop_index(op.f('ix_scenario_item_scenario_id'), table_name='scenario_item')
    op.drop_index(op.f('ix_scenario_item_proposal_id'), table_name='scenario_item')
    op.drop_table('scenario_item')
    op.drop_index(op.f('ix_reviewer_score_proposal_id'), table_name='reviewer_score')
    op.drop_index(op.f('ix_reviewer_score_criterion_id'), table_name='reviewer_score')
    op.drop_table('reviewer_score')
    op.drop_index(op.f('ix_published_item_published_list_id'), table_name='published_item')
    op.drop_table('published_item')
    op.drop_index(op.f('ix_proposal_link_proposal_id'), table_name='proposal_link')
    op.drop_index(op.f('ix_proposal_link_other_id'), table_name='proposal_link')
    op.drop_table('proposal_link')
    op.drop_table('published_list')
    op.drop_table('scenario')
    op.drop_table('rubric_criterion')
