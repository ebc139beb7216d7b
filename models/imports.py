"""Import jobs: an import confirmed on the staff page, run by a worker in the background."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, utcnow


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ImportJob(SQLModel, table=True):
    __tablename__ = "import_job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, description="The layer it imports into (a LayerKind value).")
    name: str = Field(max_length=2000, description="The source as the layer records it.")
    state: str = Field(default=JobState.queued.value, max_length=20, index=True)
    stage: str | None = Field(default=None, max_length=20, description="reading, checking, writing")
    done: int = 0
    total: int = 0
    message: str | None = None
    request: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType,
                                    description="What to import and how: the waiting upload and the choices.")
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    worker: str | None = Field(default=None, max_length=100)
