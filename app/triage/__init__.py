"""Staff triage: the board of submitted proposals, the review page, overlaps and scoring.

- ``app.triage.board``    — filters, sorting, counts per state, bulk actions (through the state machine)
- ``app.triage.review``   — one proposal's review: notes (internal/public), staff estimate, decisions
- ``app.triage.overlaps`` — proposals sharing assets or overlapping on the map; merge; alternates
- ``app.triage.scoring``  — the rubric, computed criteria and reviewers' manual scores

Errors a person can fix raise ``TriageError``; a stale review raises ``ReviewConflict``.
"""

from __future__ import annotations

from datetime import datetime

from app.i18n import gettext as _


class TriageError(ValueError):
    """A problem staff can fix; the message is shown as is. Nothing was written."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ReviewConflict(TriageError):
    """Another staff member saved the review since this one loaded it; nothing was written."""

    def __init__(self, *, current_version: int, changed_by: str, changed_at: datetime,
                 internal_notes: str, public_notes: str) -> None:
        when = changed_at.strftime("%Y-%m-%d %H:%M UTC")
        super().__init__(_("{who} saved this review at {when} while you were editing it. Your text was not saved; "
                           "it is kept in the form below beside theirs. Merge the two, then save again.")
                         .format(who=changed_by, when=when), field="version")
        self.current_version = current_version
        self.internal_notes = internal_notes
        self.public_notes = public_notes
