"""Cash flow in scenarios: whether the optimizer respects annual cash flow and the borrowing limit it
may use; each scenario item's year, as staff set it and as the optimizer last scheduled it.

Revision ID: 0021_scenario_cash_flow
Revises: 0020_outbox_headers
Create Date: 2026-12-04 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021_scenario_cash_flow'
down_revision: str | None = '0020_outbox_headers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('scenario', sa.Column('respect_cash_flow', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('scenario', sa.Column('borrowing_limit_cents', sa.BigInteger(), nullable=False,
                                        server_default='0'))
    op.add_column('scenario_item', sa.Column('year', sa.Integer(), nullable=True))
    op.add_column('scenario_item', sa.Column('planned_year', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('scenario_item') as batch:
        batch.drop_column('planned_year')
        batch.drop_column('year')
    with op.batch_alter_table('scenario') as batch:
        batch.drop_column('borrowing_limit_cents')
        batch.drop_column('respect_cash_flow')
