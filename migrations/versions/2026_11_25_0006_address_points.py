"""Address points: street addresses residents search to find a place on the map.

``search_key`` holds the address normalized for prefix search; its B-tree index answers
``search_key >= :prefix AND search_key < :next`` on both databases (a "C" collation on
PostgreSQL, so the order is byte order there as it is in SQLite).

Revision ID: 0006_address_points
Revises: 0005
Create Date: 2026-11-25 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = '0006_address_points'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table('address_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('tract_id', sa.Integer(), nullable=True),
    sa.Column('full_address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('house_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('street_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('zip_code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('search_key', sa.String(length=300).with_variant(sa.String(length=300, collation='C'), 'postgresql'), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tract_id'], ['census_tract.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('idx_address_point_geom', 'address_point', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_address_point_district_id'), 'address_point', ['district_id'], unique=False)
    op.create_index(op.f('ix_address_point_tract_id'), 'address_point', ['tract_id'], unique=False)
    op.create_index(op.f('ix_address_point_street_name'), 'address_point', ['street_name'], unique=False)
    op.create_index(op.f('ix_address_point_search_key'), 'address_point', ['search_key'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_address_point_search_key'), table_name='address_point')
    op.drop_index(op.f('ix_address_point_street_name'), table_name='address_point')
    op.drop_index(op.f('ix_address_point_tract_id'), table_name='address_point')
    op.drop_index(op.f('ix_address_point_district_id'), table_name='address_point')
    op.drop_geospatial_index('idx_address_point_geom', table_name='address_point', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('address_point')
