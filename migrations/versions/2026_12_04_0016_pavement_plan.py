"""Pavement plan: deterioration-curve versions, kept survey observations, saved budget scenarios.

Revision ID: 0016_pavement_plan
Revises: 0015_content_translations
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from models.base import UTCDateTime

revision: str = '0016_pavement_plan'
down_revision: str | None = '0015_content_translations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('pavement_curve_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('curves', _JSON, nullable=False),
    sa.Column('effects', _JSON, nullable=False),
    sa.Column('fit', _JSON, nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_index('ix_pavement_curve_version_is_current', 'pavement_curve_version', ['is_current'])
    op.create_table('pavement_survey_observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('functional_class', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('survey_date', sa.Date(), nullable=False),
    sa.Column('pci', sa.Float(), nullable=False),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'survey_date')
    )
    op.create_index('ix_pavement_survey_observation_source_id', 'pavement_survey_observation', ['source_id'])
    op.create_table('pavement_plan_scenario',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('policy', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('first_year', sa.Integer(), nullable=False),
    sa.Column('years', sa.Integer(), nullable=False),
    sa.Column('yearly_budget_cents', sa.BigInteger(), nullable=False),
    sa.Column('target_pci', sa.Float(), nullable=True),
    sa.Column('result', _JSON, nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('pavement_plan_scenario')
    op.drop_index('ix_pavement_survey_observation_source_id', table_name='pavement_survey_observation')
    op.drop_table('pavement_survey_observation')
    op.drop_index('ix_pavement_curve_version_is_current', table_name='pavement_curve_version')
    op.drop_table('pavement_curve_version')
