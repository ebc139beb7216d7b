"""Address search keys spell numbered streets one way: "First Street" is ``1st st``.

Recomputes ``address_point.search_key`` with the current spelling rules
(``app.layers.addresses.search_key``), only for rows whose key changes, in batches. Downgrading
keeps the new keys: the older code still finds "1st St" typed as numbers.

Revision ID: 0007_address_ordinals
Revises: 0006_address_points
Create Date: 2026-11-25 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.layers.addresses import search_key

revision: str = '0007_address_ordinals'
down_revision: str | None = '0006_address_points'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5_000


def upgrade() -> None:
    bind = op.get_bind()
    points = sa.table("address_point", sa.column("id", sa.Integer), sa.column("full_address", sa.String),
                      sa.column("search_key", sa.String))
    rows = bind.execute(sa.select(points.c.id, points.c.full_address, points.c.search_key)).all()
    changed = [{"row_id": row_id, "key": search_key(address)} for row_id, address, key in rows
               if search_key(address) != key]
    statement = (points.update().where(points.c.id == sa.bindparam("row_id"))
                 .values(search_key=sa.bindparam("key")))
    for start in range(0, len(changed), _BATCH):
        bind.execute(statement, changed[start:start + _BATCH])


def downgrade() -> None:
    pass
