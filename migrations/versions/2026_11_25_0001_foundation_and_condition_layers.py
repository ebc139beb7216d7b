"""Foundation (accounts, groups, audit, outbox) and condition layers.

The first migration also readies the spatial database: the PostGIS extension on
PostgreSQL, SpatiaLite's metadata tables (WGS84 and Web Mercator only) on SQLite.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 09:46:17.181875
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from models.base import UTCDateTime

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ready_spatial_database() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        return
    has_metadata = bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'spatial_ref_sys'"
    ).first()
    if not has_metadata:
        bind.exec_driver_sql("SELECT InitSpatialMetadata(0, 'WGS84_ONLY')")
    if not bind.exec_driver_sql("SELECT 1 FROM spatial_ref_sys WHERE srid = 3857").first():
        bind.exec_driver_sql("SELECT InsertEpsgSrid(3857)")


def upgrade() -> None:
    _ready_spatial_database()
    op.create_geospatial_table('census_tract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('geoid', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('poverty_rate', sa.Float(), nullable=True),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('idx_census_tract_geom', 'census_tract', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_census_tract_geoid'), 'census_tract', ['geoid'], unique=False)
    op.create_geospatial_table('district',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('idx_district_geom', 'district', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('community_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_geospatial_table('curb_ramp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('street_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('condition', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('tract_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tract_id'], ['census_tract.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('idx_curb_ramp_geom', 'curb_ramp', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_curb_ramp_district_id'), 'curb_ramp', ['district_id'], unique=False)
    op.create_index(op.f('ix_curb_ramp_tract_id'), 'curb_ramp', ['tract_id'], unique=False)
    op.create_index(op.f('ix_curb_ramp_condition'), 'curb_ramp', ['condition'], unique=False)
    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_login_attempt_at'), 'login_attempt', ['at'], unique=False)
    op.create_index(op.f('ix_login_attempt_email'), 'login_attempt', ['email'], unique=False)
    op.create_index(op.f('ix_login_attempt_ip'), 'login_attempt', ['ip'], unique=False)
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_outbox_message_created_at'), 'outbox_message', ['created_at'], unique=False)
    op.create_index(op.f('ix_outbox_message_recipient'), 'outbox_message', ['recipient'], unique=False)
    op.create_geospatial_table('pavement_segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('street_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('from_street', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('to_street', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('functional_class', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('width_m', sa.Float(), nullable=True),
    sa.Column('lanes', sa.Integer(), nullable=True),
    sa.Column('length_m', sa.Float(), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=True),
    sa.Column('pci', sa.Float(), nullable=True),
    sa.Column('band', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('survey_date', sa.Date(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('tract_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tract_id'], ['census_tract.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('idx_pavement_segment_geom', 'pavement_segment', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_pavement_segment_district_id'), 'pavement_segment', ['district_id'], unique=False)
    op.create_index(op.f('ix_pavement_segment_tract_id'), 'pavement_segment', ['tract_id'], unique=False)
    op.create_index(op.f('ix_pavement_segment_band'), 'pavement_segment', ['band'], unique=False)
    op.create_index(op.f('ix_pavement_segment_street_name'), 'pavement_segment', ['street_name'], unique=False)
    op.create_geospatial_table('sidewalk_segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('street_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('width_m', sa.Float(), nullable=True),
    sa.Column('condition', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('is_gap', sa.Boolean(), nullable=False),
    sa.Column('trip_hazards', sa.Integer(), nullable=False),
    sa.Column('length_m', sa.Float(), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('tract_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tract_id'], ['census_tract.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('idx_sidewalk_segment_geom', 'sidewalk_segment', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_sidewalk_segment_district_id'), 'sidewalk_segment', ['district_id'], unique=False)
    op.create_index(op.f('ix_sidewalk_segment_tract_id'), 'sidewalk_segment', ['tract_id'], unique=False)
    op.create_index(op.f('ix_sidewalk_segment_condition'), 'sidewalk_segment', ['condition'], unique=False)
    op.create_index(op.f('ix_sidewalk_segment_street_name'), 'sidewalk_segment', ['street_name'], unique=False)
    op.create_geospatial_table('streetlight',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('pole_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('street_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('fixture', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('lamp_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('wattage', sa.Integer(), nullable=True),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('tract_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tract_id'], ['census_tract.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('idx_streetlight_geom', 'streetlight', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_streetlight_district_id'), 'streetlight', ['district_id'], unique=False)
    op.create_index(op.f('ix_streetlight_tract_id'), 'streetlight', ['tract_id'], unique=False)
    op.create_index(op.f('ix_streetlight_pole_id'), 'streetlight', ['pole_id'], unique=False)
    op.create_index(op.f('ix_streetlight_status'), 'streetlight', ['status'], unique=False)
    op.create_table('user_account',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_user_account_email'), 'user_account', ['email'], unique=True)
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('object_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('after', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_event_action'), 'audit_event', ['action'], unique=False)
    op.create_index(op.f('ix_audit_event_actor_id'), 'audit_event', ['actor_id'], unique=False)
    op.create_index(op.f('ix_audit_event_at'), 'audit_event', ['at'], unique=False)
    op.create_table('group_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('joined_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['community_group.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'user_id')
    )
    op.create_index(op.f('ix_group_membership_group_id'), 'group_membership', ['group_id'], unique=False)
    op.create_index(op.f('ix_group_membership_user_id'), 'group_membership', ['user_id'], unique=False)
    op.create_table('layer',
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('source_crs', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('imported_at', UTCDateTime(), nullable=True),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('feature_count', sa.Integer(), nullable=False),
    sa.Column('min_lon', sa.Float(), nullable=True),
    sa.Column('min_lat', sa.Float(), nullable=True),
    sa.Column('max_lon', sa.Float(), nullable=True),
    sa.Column('max_lat', sa.Float(), nullable=True),
    sa.Column('field_map', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('band_scheme', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('report', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['imported_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('kind')
    )
    op.create_table('password_reset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('used_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_password_reset_user_id'), 'password_reset', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_password_reset_user_id'), table_name='password_reset')
    op.drop_table('password_reset')
    op.drop_table('layer')
    op.drop_index(op.f('ix_group_membership_user_id'), table_name='group_membership')
    op.drop_index(op.f('ix_group_membership_group_id'), table_name='group_membership')
    op.drop_table('group_membership')
    op.drop_index(op.f('ix_audit_event_at'), table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_actor_id'), table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_action'), table_name='audit_event')
    op.drop_table('audit_event')
    op.drop_index(op.f('ix_user_account_email'), table_name='user_account')
    op.drop_table('user_account')
    op.drop_index(op.f('ix_streetlight_status'), table_name='streetlight')
    op.drop_index(op.f('ix_streetlight_pole_id'), table_name='streetlight')
    op.drop_index(op.f('ix_streetlight_district_id'), table_name='streetlight')
    op.drop_index(op.f('ix_streetlight_tract_id'), table_name='streetlight')
    op.drop_geospatial_index('idx_streetlight_geom', table_name='streetlight', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('streetlight')
    op.drop_index(op.f('ix_sidewalk_segment_street_name'), table_name='sidewalk_segment')
    op.drop_index(op.f('ix_sidewalk_segment_condition'), table_name='sidewalk_segment')
    op.drop_index(op.f('ix_sidewalk_segment_district_id'), table_name='sidewalk_segment')
    op.drop_index(op.f('ix_sidewalk_segment_tract_id'), table_name='sidewalk_segment')
    op.drop_geospatial_index('idx_sidewalk_segment_geom', table_name='sidewalk_segment', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('sidewalk_segment')
    op.drop_index(op.f('ix_pavement_segment_street_name'), table_name='pavement_segment')
    op.drop_index(op.f('ix_pavement_segment_band'), table_name='pavement_segment')
    op.drop_index(op.f('ix_pavement_segment_district_id'), table_name='pavement_segment')
    op.drop_index(op.f('ix_pavement_segment_tract_id'), table_name='pavement_segment')
    op.drop_geospatial_index('idx_pavement_segment_geom', table_name='pavement_segment', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('pavement_segment')
    op.drop_index(op.f('ix_outbox_message_recipient'), table_name='outbox_message')
    op.drop_index(op.f('ix_outbox_message_created_at'), table_name='outbox_message')
    op.drop_table('outbox_message')
    op.drop_index(op.f('ix_login_attempt_ip'), table_name='login_attempt')
    op.drop_index(op.f('ix_login_attempt_email'), table_name='login_attempt')
    op.drop_index(op.f('ix_login_attempt_at'), table_name='login_attempt')
    op.drop_table('login_attempt')
    op.drop_index(op.f('ix_curb_ramp_condition'), table_name='curb_ramp')
    op.drop_index(op.f('ix_curb_ramp_district_id'), table_name='curb_ramp')
    op.drop_index(op.f('ix_curb_ramp_tract_id'), table_name='curb_ramp')
    op.drop_geospatial_index('idx_curb_ramp_geom', table_name='curb_ramp', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('curb_ramp')
    op.drop_table('community_group')
    op.drop_geospatial_index('idx_district_geom', table_name='district', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('district')
    op.drop_index(op.f('ix_census_tract_geoid'), table_name='census_tract')
    op.drop_geospatial_index('idx_census_tract_geom', table_name='census_tract', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('census_tract')
