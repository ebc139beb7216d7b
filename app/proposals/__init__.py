"""Proposals: a community group's costed projects and its ordered list.

- ``app.proposals.editor``    — create and save proposals (validation, optimistic locking, pricing)
- ``app.proposals.selection`` — assets by click, inside an area, or on a street below a PCI; the city check
- ``app.proposals.states``    — the state machine (group: submit, withdraw; staff: review … ballot)
- ``app.proposals.history``   — revisions (a JSON snapshot per save) and what changed
- ``app.proposals.lists``     — the group's list: order, budget against the program, share link

Errors a person can fix raise ``ProposalError``; someone else's (or a missing) proposal raises
``ProposalNotFound`` (404 — drafts cannot be discovered); a stale version raises ``VersionConflict``.
"""

from __future__ import annotations

from datetime import datetime

from app.i18n import gettext as _


class ProposalError(ValueError):
    """A problem the person can fix; the message is shown to them as is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ProposalNotFound(LookupError):
    """No such proposal, or not one the viewer may see (the same answer on purpose)."""


class VersionConflict(ProposalError):
    """Someone saved the proposal since the editor loaded it; nothing was written."""

    def __init__(self, *, current_version: int, changed_by: str, changed_at: datetime) -> None:
        when = changed_at.strftime("%Y-%m-%d %H:%M UTC")
        super().__init__(_("{name} changed this proposal at {when} (now version {version}) while you were editing "
                           "it. Your changes were not saved; they are kept in the form below. Review their "
                           "changes, then save again.").format(name=changed_by, when=when, version=current_version),
                         field="version")
        self.current_version = current_version
        self.changed_by = changed_by
        self.changed_at = changed_at
