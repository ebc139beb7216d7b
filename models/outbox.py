"""Every mail Groundwork sends, kept so development can read it and admins can trace it."""

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
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, max_length=1000)
