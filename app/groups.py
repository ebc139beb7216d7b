"""Community groups: create, invite by an expiring link, join, leave, remove, and membership checks.

A group's pages and drafts are for its members only. ``require_member`` raises ``GroupNotFound``
for anyone else — the route answers 404, never 403, so groups' drafts cannot be discovered.
Every command is a unit of work: it validates, writes, commits, or raises ``GroupError`` having
written nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit, mail
from app.accounts import AccountError, normalize_email
from app.i18n import gettext as _
from app.security import new_token, token_digest
from app.settings import Settings
from models.accounts import Group, GroupMembership, GroupRole, User
from models.base import saved_id, utcnow
from models.groups import GroupInvite


class GroupError(ValueError):
    """A problem the person can fix; the message is shown to them as is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class GroupNotFound(LookupError):
    """No such group, or the viewer is not a member (the same answer on purpose)."""


@dataclass(frozen=True)
class MemberView:
    user_id: int
    display_name: str
    email: str
    role: str
    joined_at: datetime


@dataclass(frozen=True)
class GroupSummary:
    id: int
    name: str
    description: str
    role: str
    member_count: int


@dataclass(frozen=True)
class InviteLink:
    invite: GroupInvite
    link: str


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise GroupError(_("Give the group a name."), field="name")
    if len(name) > 160:
        raise GroupError(_("Keep the group's name under 160 characters."), field="name")
    return name


def create_group(*, session: Session, creator: User, name: str, description: str = "") -> Group:
    """A new group; its creator is its first owner."""
    name = _clean_name(name)
    description = description.strip()
    if len(description) > 4000:
        raise GroupError(_("Keep the description under 4,000 characters."), field="description")
    taken = session.exec(select(Group).where(func.lower(Group.name) == name.lower())).first()
    if taken:
        raise GroupError(_("A group with that name already exists; choose another name."), field="name")
    group = Group(name=name, description=description)
    session.add(group)
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise GroupError(_("A group with that name already exists; choose another name."), field="name") from error
    session.add(GroupMembership(group_id=saved_id(group.id), user_id=saved_id(creator.id), role=GroupRole.owner))
    audit.record(session=session, actor=creator, action="group.create", object_type="group", object_id=group.id,
                 after={"name": name})
    session.commit()
    return group


def membership(*, session: Session, group_id: int, user: User | None) -> GroupMembership | None:
    if user is None:
        return None
    return session.exec(select(GroupMembership).where(GroupMembership.group_id == group_id,
                                                      GroupMembership.user_id == user.id)).first()


def require_member(*, session: Session, group_id: int, user: User | None) -> Group:
    """The group, if the user belongs to it; otherwise ``GroupNotFound`` (shown as 404)."""
    group = session.get(Group, group_id)
    if group is None or membership(session=session, group_id=group_id, user=user) is None:
        raise GroupNotFound()
    return group


def require_owner(*, session: Session, group_id: int, user: User) -> Group:
    group = require_member(session=session, group_id=group_id, user=user)
    member = membership(session=session, group_id=group_id, user=user)
    if member is None or member.role != GroupRole.owner:
        raise GroupError(_("Only the group's owners can do that."))
    return group


def groups_of(*, session: Session, user: User) -> list[GroupSummary]:
    counts = (select(GroupMembership.group_id, func.count().label("n"))
              .group_by(col(GroupMembership.group_id)).subquery())
    query = (select(Group, GroupMembership.role, counts.c.n)
             .join(GroupMembership, col(GroupMembership.group_id) == Group.id)
             .join(counts, counts.c.group_id == Group.id)
             .where(GroupMembership.user_id == user.id).order_by(Group.name))
    return [GroupSummary(g.id or 0, g.name, g.description, str(role), int(n)) for g, role, n in session.exec(query)]


def members(*, session: Session, group_id: int) -> list[MemberView]:
    query = (select(User, GroupMembership).join(GroupMembership, col(GroupMembership.user_id) == User.id)
             .where(GroupMembership.group_id == group_id)
             .order_by(col(GroupMembership.role).desc(), User.display_name))
    return [MemberView(u.id or 0, u.display_name, u.email, str(m.role), m.joined_at) for u, m in session.exec(query)]


def _owner_count(session: Session, group_id: int) -> int:
    query = select(func.count()).select_from(GroupMembership).where(
        GroupMembership.group_id == group_id, GroupMembership.role == GroupRole.owner)
    return int(session.exec(query).one())


def invite(*, session: Session, settings: Settings, group_id: int, actor: User,
           email: str | None = None) -> InviteLink:
    """An invitation link valid for ``settings.groups.invite_ttl_s``; mailed when an address is given.
    Only the token's digest is stored, so the link is shown once."""
    group = require_owner(session=session, group_id=group_id, user=actor)
    address = None
    if email and email.strip():
        try:
            address = normalize_email(email)
        except AccountError as error:
            raise GroupError(str(error), field="email") from error
    token = new_token()
    record = GroupInvite(group_id=group_id, token_hash=token_digest(token), email=address, created_by_id=actor.id,
                         expires_at=utcnow() + timedelta(seconds=settings.groups.invite_ttl_s))
    session.add(record)
    link = f"{settings.base_url.rstrip('/')}/groups/join/{token}"
    if address:
        days = max(1, settings.groups.invite_ttl_s // 86400)
        mail.send(session=session, settings=settings, recipient=address,
                  subject=_("Join {group} on {site}").format(group=group.name, site=settings.site_name),
                  body=_("{name} invites you to join {group}, a community group drafting projects for the "
                         "infrastructure program.\n\nOpen this link within {days} days to join (create an "
                         "account first if you have none):\n\n{link}\n").format(
                      name=actor.display_name, group=group.name, days=days, link=link))
    audit.record(session=session, actor=actor, action="group.invite", object_type="group", object_id=group_id,
                 after={"email": address})
    session.commit()
    return InviteLink(record, link)


def _valid_invite(session: Session, token: str) -> GroupInvite:
    record = session.exec(select(GroupInvite).where(GroupInvite.token_hash == token_digest(token))).first()
    if record is None or record.used_at is not None:
        raise GroupError(_("This invitation link is not valid or was already used. Ask the group for a new one."))
    if record.expires_at < utcnow():
        raise GroupError(_("This invitation link has expired. Ask the group for a new one."))
    return record


def invited_group(*, session: Session, token: str) -> Group:
    """The group an invitation is for (GroupError if the link is not valid)."""
    group = session.get(Group, _valid_invite(session, token).group_id)
    if group is None:
        raise GroupError(_("This invitation link is not valid."))
    return group


def accept_invite(*, session: Session, token: str, user: User) -> Group:
    record = _valid_invite(session, token)
    group = session.get(Group, record.group_id)
    if group is None:
        raise GroupError(_("This invitation link is not valid."))
    if membership(session=session, group_id=record.group_id, user=user) is not None:
        raise GroupError(_("You are already a member of {group}.").format(group=group.name))
    record.used_at = utcnow()
    record.used_by_id = user.id
    session.add_all([record, GroupMembership(group_id=record.group_id, user_id=saved_id(user.id),
                                             role=GroupRole.member)])
    audit.record(session=session, actor=user, action="group.join", object_type="group", object_id=group.id)
    session.commit()
    return group


def leave(*, session: Session, group_id: int, user: User) -> None:
    require_member(session=session, group_id=group_id, user=user)
    member = membership(session=session, group_id=group_id, user=user)
    assert member is not None
    if member.role == GroupRole.owner and _owner_count(session, group_id) == 1:
        raise GroupError(_("You are the group's only owner: make another member an owner before you leave."))
    session.delete(member)
    audit.record(session=session, actor=user, action="group.leave", object_type="group", object_id=group_id)
    session.commit()


def remove_member(*, session: Session, group_id: int, actor: User, user_id: int) -> None:
    require_owner(session=session, group_id=group_id, user=actor)
    if user_id == actor.id:
        raise GroupError(_("To leave the group yourself, use “Leave group”."))
    member = session.exec(select(GroupMembership).where(GroupMembership.group_id == group_id,
                                                        GroupMembership.user_id == user_id)).first()
    if member is None:
        raise GroupError(_("That person is not a member of the group."))
    session.delete(member)
    audit.record(session=session, actor=actor, action="group.remove_member", object_type="group",
                 object_id=group_id, before={"user_id": user_id, "role": str(member.role)})
    session.commit()


def set_member_role(*, session: Session, group_id: int, actor: User, user_id: int, role: GroupRole) -> None:
    require_owner(session=session, group_id=group_id, user=actor)
    member = session.exec(select(GroupMembership).where(GroupMembership.group_id == group_id,
                                                        GroupMembership.user_id == user_id)).first()
    if member is None:
        raise GroupError(_("That person is not a member of the group."))
    if member.role == GroupRole.owner and role != GroupRole.owner and _owner_count(session, group_id) == 1:
        raise GroupError(_("The group needs at least one owner."))
    before = str(member.role)
    member.role = role
    session.add(member)
    audit.record(session=session, actor=actor, action="group.role", object_type="group", object_id=group_id,
                 before={"user_id": user_id, "role": before}, after={"user_id": user_id, "role": role.value})
    session.commit()


def mail_members(*, session: Session, settings: Settings, lines_by_group: dict[int, list[str]], subject: str,
                 opening: str, closing: str) -> None:
    """Mail every member of each group its own lines, between a greeting line and a closing line
    (through the outbox, in the caller's unit of work)."""
    for group_id, lines in lines_by_group.items():
        group = session.get(Group, group_id)
        emails = session.exec(select(User.email).join(GroupMembership, col(GroupMembership.user_id) == User.id)
                              .where(GroupMembership.group_id == group_id))
        for email in emails:
            mail.send(session=session, settings=settings, recipient=email, subject=subject,
                      body=f"Hello {group.name if group else ''},\n\n{opening}" + "\n".join(lines) + closing)
