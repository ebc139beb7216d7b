"""People, their roles, and community groups."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Column, String, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class Role(StrEnum):
    resident = "resident"
    staff = "staff"
    admin = "admin"

    @property
    def is_staff(self) -> bool:
        return self in (Role.staff, Role.admin)


class GroupRole(StrEnum):
    owner = "owner"
    member = "member"


class UserBase(SQLModel):
    email: str = Field(sa_column=Column(String(320), unique=True, nullable=False, index=True))
    display_name: str = Field(max_length=120)


class User(UserBase, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    role: Role = Field(default=Role.resident, sa_column=Column(String(16), nullable=False))
    is_active: bool = True
    locale: str = Field(default="en", max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserPublic(UserBase):
    id: int
    role: Role


class Group(SQLModel, table=True):
    __tablename__ = "community_group"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160, unique=True)
    description: str = Field(default="", max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class GroupMembership(SQLModel, table=True):
    __tablename__ = "group_membership"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="community_group.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    role: GroupRole = Field(default=GroupRole.member, sa_column=Column(String(16), nullable=False))
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PasswordReset(SQLModel, table=True):
    """A mailed reset link. Only the token's SHA-256 is stored."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """Sign-in attempts, kept in the database so every worker sees the same throttle and staff see
    who tried; failures since the last success from the same address set the delays."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    ip: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    succeeded: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


class MailRequest(SQLModel, table=True):
    """A registration or password-reset mail someone asked for, kept to throttle such mail per
    recipient and per client address (like sign-in failures); tidied away after the window."""

    __tablename__ = "mail_request"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    ip: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so the
    session can be ended on the server (sign-out, all devices, password or role change, time-outs)."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, description="The absolute time-out.")
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=200)


class PendingRegistration(SQLModel, table=True):
    """A registration waiting for its mailed link: the account is made when the link is opened,
    so the registration page answers the same whether or not the address has an account."""

    __tablename__ = "pending_registration"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    display_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
