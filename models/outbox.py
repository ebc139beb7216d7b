"""Every mail Groundwork sends: the queue a mail sender delivers from (app/mail.py), kept so development
can read it and admins can trace it.

A message is queued (``sent_at`` and ``failed_at`` empty), claimed by one sender (``claimed_at``,
``claimed_by``; ``attempts`` counts claims), then sent, or tried again from ``next_attempt_at``, or
failed for good (``failed_at``, ``error``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    recipient: str = Field(max_length=320, index=True)
    subject: str = Field(max_length=300)
    body: str
    headers: dict[str, Any] | None = Field(default=None, sa_type=JSONType,
                                           description="Extra headers sent, e.g. List-Unsubscribe.")
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    error: str | None = Field(default=None, max_length=1000)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=200)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
