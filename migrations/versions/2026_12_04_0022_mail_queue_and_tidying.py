"""The outbox becomes the mail queue; account mail is throttled; ``user_account.session_version`` goes.

- ``outbox_message``: ``attempts``, ``next_attempt_at``, ``claimed_at``, ``claimed_by``, ``failed_at``
  (a sender claims a message atomically, retries it with back-off, and gives up with the error);
  messages that already failed under the old inline SMTP send are marked failed, so they are not sent now.
- ``mail_request``: registration and reset mails asked for, by recipient and client address (throttling).
- ``user_account.session_version`` has been unused since sessions moved to ``user_session`` (0011).
  On SQLite it is dropped with ``ALTER TABLE … DROP COLUMN`` (batch mode, never recreating the table):
  copying ``user_account`` and dropping the original would, with foreign keys on, delete every row that
  cascades from an account (sessions, memberships …).

Revision ID: 0022_mail_queue_and_tidying
Revises: 0021_scenario_cash_flow
Create Date: 2026-12-04 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = '0022_mail_queue_and_tidying'
down_revision: str | None = '0021_scenario_cash_flow'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('outbox_message', sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
    for name in ('next_attempt_at', 'claimed_at', 'failed_at'):
        op.add_column('outbox_message', sa.Column(name, UTCDateTime(), nullable=True))
    op.add_column('outbox_message', sa.Column('claimed_by', sa.String(length=200), nullable=True))
    op.create_index('ix_outbox_message_sent_at', 'outbox_message', ['sent_at'])
    outbox = sa.table('outbox_message', sa.column('error', sa.String), sa.column('sent_at', UTCDateTime()),
                      sa.column('created_at', UTCDateTime()), sa.column('failed_at', UTCDateTime()),
                      sa.column('attempts', sa.Integer))
    op.execute(outbox.update().where(outbox.c.error.is_not(None), outbox.c.sent_at.is_(None))
               .values(failed_at=outbox.c.created_at, attempts=1))

    op.create_table(
        'mail_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('email', 'ip', 'at'):
        op.create_index(f'ix_mail_request_{column}', 'mail_request', [column])

    with op.batch_alter_table('user_account', recreate='never') as batch:
        batch.drop_column('session_version')


def downgrade() -> None:
    with op.batch_alter_table('user_account', recreate='never') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))
    op.drop_table('mail_request')
    op.drop_index('ix_outbox_message_sent_at', table_name='outbox_message')
    with op.batch_alter_table('outbox_message') as batch:
        for name in ('attempts', 'next_attempt_at', 'claimed_at', 'claimed_by', 'failed_at'):
            batch.drop_column(name)
