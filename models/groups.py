"""What community groups add to their membership: invitations and their list's share link."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class GroupInvite(SQLModel, table=True):
    """An expiring invitation link. Only the token's SHA-256 is stored."""

    __tablename__ = "group_invite"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="community_group.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    email: str | None = Field(default=None, max_length=320, description="Who it was sent to, if mailed.")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class GroupListShare(SQLModel, table=True):
    """A read-only link to a group's list: an unguessable token, revocable by the group."""

    __tablename__ = "group_list_share"

    group_id: int = Field(foreign_key="community_group.id", primary_key=True, ondelete="CASCADE")
    token: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
