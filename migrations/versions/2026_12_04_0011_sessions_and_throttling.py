"""Revocable sessions, sign-in throttling, registration by mailed link, unique list positions.

- ``user_session``: one row per signed-in browser (the cookie holds a token, the table its SHA-256),
  so sign-out, "sign out of all devices", password and role changes end sessions on the server.
- ``login_attempt.succeeded``: every attempt is kept (staff see them); failures since the last
  success from the same address set the sign-in delays.
- ``pending_registration``: an account is made when its mailed link is opened.
- ``proposal (group_id, position)`` unique: duplicate positions left by racing creations are
  renumbered first (per group, by position then id), then the unique index is built.

Revision ID: 0011_sessions_and_throttling
Revises: 0010_district_shares
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = '0011_sessions_and_throttling'
down_revision: str | None = '0010_district_shares'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.create_table(
        "pending_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_pending_registration_email", "pending_registration", ["email"])
    op.add_column("login_attempt", sa.Column("succeeded", sa.Boolean(), nullable=False, server_default=sa.false()))
    _renumber_duplicate_positions()
    op.create_index("uq_proposal_group_position", "proposal", ["group_id", "position"], unique=True)


def _renumber_duplicate_positions() -> None:
    """Groups whose list has a position twice get 1..n in their current order (position, then id)."""
    bind = op.get_bind()
    proposal = sa.table("proposal", sa.column("id", sa.Integer), sa.column("group_id", sa.Integer),
                        sa.column("position", sa.Integer))
    clashing = bind.execute(sa.select(proposal.c.group_id).group_by(proposal.c.group_id, proposal.c.position)
                            .having(sa.func.count() > 1).distinct()).scalars().all()
    for group_id in clashing:
        ids = bind.execute(sa.select(proposal.c.id).where(proposal.c.group_id == group_id)
                           .order_by(proposal.c.position, proposal.c.id)).scalars().all()
        # Negative first, so no intermediate state repeats a position the index could see.
        bind.execute(proposal.update().where(proposal.c.group_id == group_id)
                     .values(position=-proposal.c.id))
        bind.execute(proposal.update().where(proposal.c.id == sa.bindparam("row_id"))
                     .values(position=sa.bindparam("new_position")),
                     [{"row_id": row_id, "new_position": n} for n, row_id in enumerate(ids, start=1)])


def downgrade() -> None:
    op.drop_index("uq_proposal_group_position", table_name="proposal")
    with op.batch_alter_table("login_attempt") as batch:
        batch.drop_column("succeeded")
    op.drop_index("ix_pending_registration_email", table_name="pending_registration")
    op.drop_table("pending_registration")
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")
