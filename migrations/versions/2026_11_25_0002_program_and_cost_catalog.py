"""The referendum program (categories, tiers, district shares, phases) and the
versioned unit-cost catalog (versions and their treatments).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:31:44.222213
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from models.base import UTCDateTime

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('program',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('expected_revenue_cents', sa.BigInteger(), nullable=False),
    sa.Column('collection_years', sa.Integer(), nullable=False),
    sa.Column('program_management_bps', sa.Integer(), nullable=False),
    sa.Column('band_scheme', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('cost_catalog_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('design_engineering_bps', sa.Integer(), nullable=False),
    sa.Column('contingency_bps', sa.Integer(), nullable=False),
    sa.Column('escalation_bps', sa.Integer(), nullable=False),
    sa.Column('base_year', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('lane_width_mm', sa.Integer(), nullable=False),
    sa.Column('class_widths_mm', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_index(op.f('ix_cost_catalog_version_is_current'), 'cost_catalog_version', ['is_current'], unique=False)
    op.create_table('program_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('cap_cents', sa.BigInteger(), nullable=True),
    sa.Column('floor_cents', sa.BigInteger(), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('program_id', 'key')
    )
    op.create_index(op.f('ix_program_category_program_id'), 'program_category', ['program_id'], unique=False)
    op.create_table('program_district_share',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('min_share_bps', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('program_id', 'district')
    )
    op.create_index(op.f('ix_program_district_share_program_id'), 'program_district_share', ['program_id'], unique=False)
    op.create_table('program_phase',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('program_id', 'key')
    )
    op.create_index(op.f('ix_program_phase_program_id'), 'program_phase', ['program_id'], unique=False)
    op.create_table('program_tier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('share_bps', sa.Integer(), nullable=False),
    sa.Column('funded_only_if_revenue_exceeds', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('program_id', 'number')
    )
    op.create_index(op.f('ix_program_tier_program_id'), 'program_tier', ['program_id'], unique=False)
    op.create_table('cost_treatment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('catalog_version_id', sa.Integer(), nullable=False),
    sa.Column('layer_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('unit_cost_cents', sa.Integer(), nullable=False),
    sa.Column('min_pci', sa.Float(), nullable=True),
    sa.Column('max_pci', sa.Float(), nullable=True),
    sa.Column('functional_class', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('conditions', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('low_bps', sa.Integer(), nullable=False),
    sa.Column('high_bps', sa.Integer(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['catalog_version_id'], ['cost_catalog_version.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('catalog_version_id', 'layer_kind', 'key')
    )
    op.create_index(op.f('ix_cost_treatment_catalog_version_id'), 'cost_treatment', ['catalog_version_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_cost_treatment_catalog_version_id'), table_name='cost_treatment')
    op.drop_table('cost_treatment')
    op.drop_index(op.f('ix_program_tier_program_id'), table_name='program_tier')
    op.drop_table('program_tier')
    op.drop_index(op.f('ix_program_phase_program_id'), table_name='program_phase')
    op.drop_table('program_phase')
    op.drop_index(op.f('ix_program_district_share_program_id'), table_name='program_district_share')
    op.drop_table('program_district_share')
    op.drop_index(op.f('ix_program_category_program_id'), table_name='program_category')
    op.drop_table('program_category')
    op.drop_index(op.f('ix_cost_catalog_version_is_current'), table_name='cost_catalog_version')
    op.drop_table('cost_catalog_version')
    op.drop_table('program')
