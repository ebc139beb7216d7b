"""Delivery, continued: contract awards as their own kind (not spending), the revenue collected by
year, and the delivery phases staff configure (seeded with design, procurement, construction,
complete).

Existing spending rows that recorded a contract award move to ``delivery_award`` with the same date,
amount and description and an empty contractor (the old rows never had one); pages show it as not
recorded. The old form had one free-text "What for" field, so only a description that *starts* as an
award does ("Contract awarded to …", "Contract award …", "Award of contract …", "Adjudicación …",
any case): "Progress payment 2 under awarded contract" is spending and stays spending.

The downgrade moves awards back to spending. It refuses, saying why, while staff's own phases are
in use (any phase other than the four it seeded, or those four renamed or re-weighted): the older
schema has only those four, and dropping the table would lose them and leave projects in phases it
does not know.

Revision ID: 0019_awards_revenue_phases
Revises: 0018_frozen_asset_snapshot
Create Date: 2026-12-04 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = '0019_awards_revenue_phases'
down_revision: str | None = '0018_frozen_asset_snapshot'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_PHASES = [("design", "Design", "Diseño", 0, 10), ("procurement", "Procurement", "Contratación", 1, 30),
                  ("construction", "Construction", "Construcción", 2, 60), ("complete", "Complete", "Terminado", 3, 100)]
# LOWER: PostgreSQL's LIKE minds case. 'adjudicaci%' also takes "ADJUDICACIÓN" (SQLite lowers ASCII only).
AWARD_LIKE = ("(LOWER(LTRIM(description)) LIKE 'contract award%' OR LOWER(LTRIM(description)) LIKE 'award of contract%'"
              " OR LOWER(LTRIM(description)) LIKE 'adjudicaci%')")


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


def custom_phases() -> list[str]:
    """What stops the downgrade: each configured phase that is not one of the seeded four as seeded, and
    each phase a project, its dates or its updates are in that is not one of them."""
    bind = op.get_bind()
    seeded = {(k, n, es, o, p) for k, n, es, o, p in DEFAULT_PHASES}
    rows = bind.execute(sa.text("SELECT key, name, name_es, progress FROM delivery_phase ORDER BY sort_order, id"))
    found = [f"{row.key} ({row.name})" for place, row in enumerate(rows)
             if (row.key, row.name, row.name_es, place, row.progress) not in seeded]
    keys = ", ".join(f"'{k}'" for k, *_rest in DEFAULT_PHASES)
    for table in ('delivery_project', 'delivery_phase_dates', 'delivery_update'):
        found += [f"{phase} (used in {table})" for (phase,) in bind.execute(sa.text(
            f"SELECT DISTINCT phase FROM {table} WHERE phase NOT IN ({keys}) ORDER BY phase"))]
    return found


def downgrade() -> None:
    custom = custom_phases()
    if custom:
        raise RuntimeError(
            "Cannot downgrade below 0019_awards_revenue_phases: staff have configured delivery phases the "
            f"older schema cannot hold: {'; '.join(custom)}. It knows only design, procurement, construction "
            "and complete, as first seeded. Put the phases back to those four on the staff phases page (and "
            "move projects out of any other phase) first; nothing was changed.")
    op.execute("INSERT INTO delivery_spending (project_id, spent_on, amount_cents, description, reason, "
               "recorded_by_id, recorded_at) SELECT project_id, awarded_on, amount_cents, "
               "SUBSTR(CASE WHEN description = '' THEN 'Contract awarded to ' || contractor ELSE description END, 1, 300), "
               "reason, "
               "recorded_by_id, recorded_at FROM delivery_award ORDER BY id")
    for table in ('revenue_collection', 'delivery_award', 'delivery_phase'):
        op.drop_table(table)
