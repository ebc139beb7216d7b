"""The audit log of staff decisions and account changes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models.accounts import Group, User
from models.audit import AuditEvent
from models.proposals import Proposal
from models.triage import PublishedList, Scenario


def record(
    *,
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's unit of work (committed with it, or not at all)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=before,
        after=after,
        ip=ip,
    )
    session.add(event)
    return event


def recent(*, session: Session, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)))


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None  # None: the field was not there before
    after: str | None  # None: the field is gone


@dataclass(frozen=True)
class Entry:
    """One audit event as people read it: names instead of ids, field by field."""

    at: datetime
    who: str
    action: str  # the raw action, e.g. proposal.state
    what: str  # in words, e.g. "Proposal state"
    object_label: str
    object_url: str | None
    changes: list[Change]
    ip: str | None


_OBJECTS: dict[str, tuple[Any, str, str | None]] = {
    # object type → (table, the column that names it, the staff page for it)
    "proposal": (Proposal, "title", "/staff/triage/{id}"),
    "user": (User, "email", None),
    "group": (Group, "name", None),
    "scenario": (Scenario, "name", "/staff/scenarios/{id}"),
    "published_list": (PublishedList, "version", "/ballot"),
}


def actions(*, session: Session) -> list[str]:
    """Every action recorded so far, for the log's filter."""
    return sorted(session.exec(select(AuditEvent.action).distinct()))


def entries(*, session: Session, limit: int = 100, offset: int = 0, action: str | None = None) -> list[Entry]:
    """Recent events, newest first, with the names of who did it and of what it was done to."""
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    if action:
        query = query.where(AuditEvent.action == action)
    events = list(session.exec(query.offset(offset).limit(limit)))
    people = _names(session, User, "display_name", {e.actor_id for e in events if e.actor_id})
    emails = _names(session, User, "email", {e.actor_id for e in events if e.actor_id})
    labels: dict[tuple[str, str], str] = {}
    for kind, (table, column, _url) in _OBJECTS.items():
        ids = {int(e.object_id) for e in events
               if e.object_type == kind and e.object_id is not None and e.object_id.isdigit()}
        labels.update({(kind, str(k)): v for k, v in _names(session, table, column, ids).items()})
    return [Entry(at=e.at, who=_who(e.actor_id, people, emails), action=e.action, what=_words(e.action),
                  object_label=_object_label(e, labels), object_url=_object_url(e),
                  changes=_changes(e.before, e.after), ip=e.ip) for e in events]


def _names(session: Session, table: Any, column: str, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(table.id, getattr(table, column)).where(col(table.id).in_(sorted(ids))))
    return {int(row_id): str(value) for row_id, value in rows}


def _who(actor_id: int | None, people: dict[int, str], emails: dict[int, str]) -> str:
    if actor_id is None:
        return "Groundwork (command line or system)"
    if actor_id not in people:
        return f"A removed account (#{actor_id})"
    return f"{people[actor_id]} ({emails[actor_id]})" if people[actor_id] != emails[actor_id] else people[actor_id]


def _words(action: str) -> str:
    return action.replace(".", " ").replace("_", " ").capitalize()


def _object_label(event: AuditEvent, labels: dict[tuple[str, str], str]) -> str:
    kind_words = event.object_type.replace("_", " ")
    name = labels.get((event.object_type, event.object_id or ""))
    if event.object_type == "published_list" and name:
        return f"Ballot list, version {name}"
    if event.object_type == "layer" and event.object_id:
        return f"Layer “{event.object_id}”"
    if name:
        return f"{kind_words.capitalize()} “{name}”"
    return f"{kind_words.capitalize()} {event.object_id or ''}".strip()


def _object_url(event: AuditEvent) -> str | None:
    if event.object_type == "layer":
        return "/staff/import"
    known = _OBJECTS.get(event.object_type)
    if known is None or known[2] is None or not (event.object_id or "").isdigit():
        return None
    return known[2].format(id=event.object_id)


def _shown(field: str, value: Any) -> str:
    if value is None:
        return "—"
    if field.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return f"${value / 100:,.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    before, after = before or {}, after or {}
    changes = []
    for key in list(dict.fromkeys([*before, *after])):
        if key in before and key in after and before[key] == after[key]:
            continue
        if key not in before and after[key] in ("", None, [], {}):
            continue  # nothing to say
        changes.append(Change(key.replace("_", " "), _shown(key, before[key]) if key in before else None,
                              _shown(key, after[key]) if key in after else None))
    return changes
