"""Delivery, continued: contract awards as their own kind (not spending), the revenue collected by
year, and the delivery phases staff configure (seeded with design, procurement, construction,
complete).

Existing spending rows that recorded a contract award (their description says "award" or, in
Spanish, "adjudica") move to ``delivery_award`` with the same date, amount and description and an
empty contractor (the old rows never had one); pages show it as not recorded. The downgrade moves
them back.

Revision ID: 0020_awards_revenue_phases
Revises: 0018_frozen_asset_snapshot
Create Date: 2026-12-04 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = '0020_awards_revenue_phases'
down_revision: str | None = '0018_frozen_asset_snapshot'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_PHASES = [("design", "Design", "Diseño", 0, 10), ("procurement", "Procurement", "Contratación", 1, 30),
                  ("construction", "Construction", "Construcción", 2, 60), ("complete", "Complete", "Terminado", 3, 100)]
AWARD_LIKE = "(LOWER(description) LIKE '%award%' OR LOWER(description) LIKE '%adjudica%')"


def upgrade() -> None:
    phases = op.create_table('delivery_phase',
    sa.Column('id', sa.Integer(), primary_key=True),
    sa.Column('key', sa.String(20), nullable=False),
    sa.Column('name', sa.String(80), nullable=False),
    sa.Column('name_es', sa.String(80), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.UniqueConstraint('key', name='uq_delivery_phase_key'),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name='ck_delivery_phase_progress'))
    op.bulk_insert(phases, [{"key": k, "name": n, "name_es": es, "sort_order": o, "progress": p}
                            for k, n, es, o, p in DEFAULT_PHASES])
    op.create_table('delivery_award',
    sa.Column('id', sa.Integer(), primary_key=True),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('awarded_on', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('contractor', sa.String(200), nullable=False),
    sa.Column('description', sa.String(300), nullable=False),
    sa.Column('reason', sa.String(2000), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['delivery_project.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.CheckConstraint('amount_cents > 0', name='ck_delivery_award_amount'))
    op.create_index('ix_delivery_award_project_id', 'delivery_award', ['project_id'])
    op.create_table('revenue_collection',
    sa.Column('id', sa.Integer(), primary_key=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.UniqueConstraint('year', name='uq_revenue_collection_year'),
    sa.CheckConstraint('amount_cents >= 0', name='ck_revenue_collection_amount'))
    move_award_spending()


def move_award_spending() -> None:
    """Spending rows that recorded a contract award become awards (tests/test_delivery_phases_awards.py runs this)."""
    op.execute("INSERT INTO delivery_award (project_id, awarded_on, amount_cents, contractor, description, reason, "
               "recorded_by_id, recorded_at) SELECT project_id, spent_on, amount_cents, '', description, reason, "
               f"recorded_by_id, recorded_at FROM delivery_spending WHERE {AWARD_LIKE} ORDER BY id")
    op.execute(f"DELETE FROM delivery_spending WHERE {AWARD_LIKE}")


def downgrade() -> None:
    op.execute("INSERT INTO delivery_spending (project_id, spent_on, amount_cents, description, reason, "
               "recorded_by_id, recorded_at) SELECT project_id, awarded_on, amount_cents, "
               "SUBSTR(CASE WHEN description = '' THEN 'Contract awarded to ' || contractor ELSE description END, 1, 300), "
               "reason, "
               "recorded_by_id, recorded_at FROM delivery_award ORDER BY id")
    for table in ('revenue_collection', 'delivery_award', 'delivery_phase'):
        op.drop_table(table)
