"""The published list's guard: a proposal on a published ballot list never changes.

Every command that changes a proposal — a state change, an edit, a merge, alternates, a staff
estimate, an override, its assets — asks ``refuse_if_published`` first. A proposal on any
published version (a ``published_item`` row) is refused with ``PublishedProposal``, a message that
says which list and how it can change instead: only by an amendment (a new version with a public
reason, ``app.scenarios.amend``), which moves states itself. The database refuses the same
writes by trigger (migration 0009), so a path that forgot to ask still cannot change the list.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.i18n import gettext as _
from app.proposals import ProposalError
from app.triage import TriageError
from models.proposals import Proposal
from models.triage import PublishedItem, PublishedList


class PublishedProposal(ProposalError, TriageError):
    """A change to a proposal on a published ballot list; nothing was written.

    Both a ``ProposalError`` (group pages, the API: 409) and a ``TriageError`` (staff pages), so
    every caller already shows it as a refusal."""

    def __init__(self, message: str) -> None:
        ProposalError.__init__(self, message, field="state")


def published_versions(*, session: Session, proposal_ids: Iterable[int]) -> dict[int, int]:
    """Each of these proposals that is on a published list → the newest version that lists it."""
    ids = sorted({int(i) for i in proposal_ids})
    if not ids:
        return {}
    rows = session.exec(select(PublishedItem.proposal_id, PublishedList.version)
                        .join(PublishedList, col(PublishedList.id) == PublishedItem.published_list_id)
                        .where(col(PublishedItem.proposal_id).in_(ids)))
    found: dict[int, int] = {}
    for proposal_id, version in rows:
        found[proposal_id] = max(version, found.get(proposal_id, 0))
    return found


def refuse_if_published(*, session: Session, proposal_ids: Iterable[int]) -> None:
    """Raise ``PublishedProposal`` if any of these proposals is on a published ballot list."""
    found = published_versions(session=session, proposal_ids=proposal_ids)
    if not found:
        return
    proposal_id = min(found)
    proposal = session.get(Proposal, proposal_id)
    raise PublishedProposal(
        _("#{id} “{title}” is on the published ballot list (version {version}), so it cannot be changed, "
          "merged, withdrawn or re-estimated. A published list changes only by an amendment: a new version "
          "with a public reason. Nothing was changed.").format(
            id=proposal_id, title=proposal.title if proposal else "", version=found[proposal_id]))
