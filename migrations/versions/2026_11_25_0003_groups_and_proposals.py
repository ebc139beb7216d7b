"""Community groups' invitations and list share links; proposals with their selected assets,
edit history (revisions) and state transitions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:37:03.449512
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from models.base import UTCDateTime

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('group_invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('used_at', UTCDateTime(), nullable=True),
    sa.Column('used_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['community_group.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['used_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_group_invite_group_id'), 'group_invite', ['group_id'], unique=False)
    op.create_table('group_list_share',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['community_group.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id'),
    sa.UniqueConstraint('token')
    )
    op.create_geospatial_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
    sa.Column('category_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('scheduled_year', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='GEOMETRY', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('alternate_of_id', sa.Integer(), nullable=True),
    sa.Column('estimate', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('estimate_catalog_version_id', sa.Integer(), nullable=True),
    sa.Column('estimate_total_cents', sa.BigInteger(), nullable=True),
    sa.Column('estimate_low_cents', sa.BigInteger(), nullable=True),
    sa.Column('estimate_high_cents', sa.BigInteger(), nullable=True),
    sa.Column('override_cents', sa.BigInteger(), nullable=True),
    sa.Column('override_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('submitted_snapshot', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('submitted_at', UTCDateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['alternate_of_id'], ['proposal.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['estimate_catalog_version_id'], ['cost_catalog_version.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['community_group.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('idx_proposal_geom', 'proposal', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_proposal_alternate_of_id'), 'proposal', ['alternate_of_id'], unique=False)
    op.create_index(op.f('ix_proposal_district_id'), 'proposal', ['district_id'], unique=False)
    op.create_index(op.f('ix_proposal_group_id'), 'proposal', ['group_id'], unique=False)
    op.create_index(op.f('ix_proposal_state'), 'proposal', ['state'], unique=False)
    op.create_table('proposal_asset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('layer', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('proposal_id', 'layer', 'asset_id')
    )
    op.create_index(op.f('ix_proposal_asset_asset_id'), 'proposal_asset', ['asset_id'], unique=False)
    op.create_index(op.f('ix_proposal_asset_proposal_id'), 'proposal_asset', ['proposal_id'], unique=False)
    op.create_table('proposal_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('proposal_id', 'version')
    )
    op.create_index(op.f('ix_proposal_revision_proposal_id'), 'proposal_revision', ['proposal_id'], unique=False)
    op.create_table('proposal_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('public_note', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_proposal_transition_proposal_id'), 'proposal_transition', ['proposal_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_proposal_transition_proposal_id'), table_name='proposal_transition')
    op.drop_table('proposal_transition')
    op.drop_index(op.f('ix_proposal_revision_proposal_id'), table_name='proposal_revision')
    op.drop_table('proposal_revision')
    op.drop_index(op.f('ix_proposal_asset_proposal_id'), table_name='proposal_asset')
    op.drop_index(op.f('ix_proposal_asset_asset_id'), table_name='proposal_asset')
    op.drop_table('proposal_asset')
    op.drop_index(op.f('ix_proposal_state'), table_name='proposal')
    op.drop_index(op.f('ix_proposal_group_id'), table_name='proposal')
    op.drop_index(op.f('ix_proposal_district_id'), table_name='proposal')
    op.drop_index(op.f('ix_proposal_alternate_of_id'), table_name='proposal')
    op.drop_geospatial_index('idx_proposal_geom', table_name='proposal', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('proposal')
    op.drop_table('group_list_share')
    op.drop_index(op.f('ix_group_invite_group_id'), table_name='group_invite')
    op.drop_table('group_invite')
