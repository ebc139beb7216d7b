"""One proposal's review: staff notes (internal and public) with optimistic locking, the staff
estimate beside the group's, and the decisions (through the state machine)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from shapely.geometry import shape
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit, geometry
from app.costing.arithmetic import round_half_up
from app.costing.catalog import localized_estimate
from app.i18n import N_
from app.i18n import gettext as _
from app.proposals import ProposalError, ProposalNotFound, states
from app.proposals.editor import asset_keys
from app.proposals.frozen import refuse_if_published
from app.proposals.selection import ConditionSummary, condition_summary, features, geometry_geojson
from app.triage import ReviewConflict, TriageError
from models.accounts import Group, Role, User
from models.base import utcnow
from models.proposals import Proposal, ProposalState
from models.triage import StaffEstimate, TriageReview

S = ProposalState


def staff_proposal(*, session: Session, proposal_id: int) -> Proposal:
    """A proposal staff may review: any but a draft (drafts are the group's own)."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.state == S.draft:
        raise ProposalNotFound()
    return proposal


def review_of(*, session: Session, proposal_id: int) -> TriageReview:
    """The stored review, or a blank one at version 0 (nothing written)."""
    return session.get(TriageReview, proposal_id) or TriageReview(proposal_id=proposal_id, version=0)


def staff_members(*, session: Session) -> list[User]:
    return list(session.exec(select(User).where(col(User.role).in_([Role.staff.value, Role.admin.value]),
                                                col(User.is_active)).order_by(col(User.display_name))))


def save_review(*, session: Session, actor: User, proposal_id: int, expected_version: int, internal_notes: str,
                public_notes: str) -> TriageReview:
    """Save the notes if nobody saved since ``expected_version``; else ``ReviewConflict``, nothing written."""
    staff_proposal(session=session, proposal_id=proposal_id)
    internal_notes, public_notes = internal_notes.strip(), public_notes.strip()
    if len(internal_notes) > 10_000 or len(public_notes) > 4000:
        raise TriageError(_("Keep internal notes under 10,000 characters and public notes under 4,000."),
                          field="internal_notes")
    before = review_of(session=session, proposal_id=proposal_id)
    snapshot = {"internal_notes": before.internal_notes, "public_notes": before.public_notes}
    values = {"internal_notes": internal_notes, "public_notes": public_notes, "version": expected_version + 1,
              "updated_by_id": actor.id, "updated_at": utcnow()}
    if expected_version == 0:
        try:
            with session.begin_nested():
                session.add(TriageReview(proposal_id=proposal_id, **values))  # type: ignore[arg-type]
        except IntegrityError:
            raise _conflict(session, proposal_id) from None
    else:
        result = session.exec(update(TriageReview).where(col(TriageReview.proposal_id) == proposal_id,
                                                         col(TriageReview.version) == expected_version)
                              .values(**values))
        if result.rowcount != 1:
            session.rollback()
            raise _conflict(session, proposal_id)
    audit.record(session=session, actor=actor, action="review.notes", object_type="proposal", object_id=proposal_id,
                 before=snapshot, after={"internal_notes": internal_notes, "public_notes": public_notes})
    session.commit()
    session.expire_all()
    return review_of(session=session, proposal_id=proposal_id)


def _conflict(session: Session, proposal_id: int) -> ReviewConflict:
    session.expire_all()
    current = review_of(session=session, proposal_id=proposal_id)
    who = session.get(User, current.updated_by_id) if current.updated_by_id else None
    return ReviewConflict(current_version=current.version, changed_by=who.display_name if who else _("Someone"),
                          changed_at=current.updated_at, internal_notes=current.internal_notes,
                          public_notes=current.public_notes)


def assign_reviewer(*, session: Session, actor: User, proposal_ids: list[int], reviewer_id: int | None) -> int:
    """Assign (or, with None, unassign) a reviewer to proposals; one unit of work."""
    if reviewer_id is not None:
        reviewer = session.get(User, reviewer_id)
        if reviewer is None or not Role(reviewer.role).is_staff:
            raise TriageError(_("Reviewers must be staff members."), field="reviewer_id")
    if not proposal_ids:
        raise TriageError(_("Choose at least one proposal."), field="ids")
    for pid in proposal_ids:
        staff_proposal(session=session, proposal_id=pid)
    for pid in proposal_ids:
        review = session.get(TriageReview, pid)
        before = review.reviewer_id if review else None
        if review is None:
            review = TriageReview(proposal_id=pid, version=0)
        review.reviewer_id = reviewer_id
        review.version += 1
        review.updated_by_id, review.updated_at = actor.id, utcnow()
        session.add(review)
        audit.record(session=session, actor=actor, action="review.assign", object_type="proposal", object_id=pid,
                     before={"reviewer_id": before}, after={"reviewer_id": reviewer_id})
    session.commit()
    return len(proposal_ids)


# -- staff estimate ----------------------------------------------------------------------------

@dataclass(frozen=True)
class LineRevision:
    index: int
    quantity: str
    unit_cost_cents: int


def revise_estimate(*, session: Session, actor: User, proposal_id: int, revisions: list[LineRevision],
                    reason: str) -> StaffEstimate:
    """Staff's estimate: the group's lines with revised quantities or unit costs. The markups
    (design, contingency, escalation) keep the group's ratio of total to construction."""
    proposal = staff_proposal(session=session, proposal_id=proposal_id)
    refuse_if_published(session=session, proposal_ids=[proposal_id])
    reason = reason.strip()
    if not reason:
        raise TriageError(_("Give a reason for revising the estimate."), field="reason")
    estimate: dict[str, Any] = proposal.estimate or {}
    lines = [dict(line) for line in estimate.get("lines", [])]
    if not lines:
        raise TriageError(_("The group's estimate has no lines to revise."), field="lines")
    for r in revisions:
        if not 0 <= r.index < len(lines):
            raise TriageError(_("That line is not in the estimate."), field="lines")
        try:
            quantity = Decimal(r.quantity)
        except InvalidOperation:
            raise TriageError(_("“{quantity}” is not a quantity.").format(quantity=r.quantity), field="lines") from None
        if quantity < 0 or r.unit_cost_cents < 0:
            raise TriageError(_("Quantities and unit costs cannot be negative."), field="lines")
        lines[r.index]["quantity"], lines[r.index]["unit_cost_cents"] = str(quantity), r.unit_cost_cents
    for line in lines:
        line["subtotal_cents"] = round_half_up(Fraction(Decimal(line["quantity"])) * int(line["unit_cost_cents"]))
    construction = sum(line["subtotal_cents"] for line in lines)
    old_construction = int(estimate.get("construction_cents") or 0)
    old_total = int(estimate.get("total_cents") or 0)
    total = round_half_up(Fraction(construction * old_total, old_construction)) if old_construction else construction
    row = StaffEstimate(proposal_id=proposal_id, actor_id=actor.id, total_cents=total, reason=reason,
                        lines=[{k: line[k] for k in ("layer", "treatment_name", "unit", "quantity", "unit_cost_cents",
                                                     "subtotal_cents") if k in line} for line in lines])
    session.add(row)
    audit.record(session=session, actor=actor, action="estimate.revise", object_type="proposal",
                 object_id=proposal_id, before={"total_cents": proposal.final_cents},
                 after={"total_cents": total, "reason": reason})
    session.commit()
    return row


def staff_estimates(*, session: Session, proposal_id: int) -> list[StaffEstimate]:
    return list(session.exec(select(StaffEstimate).where(StaffEstimate.proposal_id == proposal_id)
                             .order_by(col(StaffEstimate.id).desc())))


def latest_staff_totals(*, session: Session, proposal_ids: list[int] | None = None) -> dict[int, int]:
    query = select(StaffEstimate.proposal_id, StaffEstimate.total_cents).order_by(col(StaffEstimate.id))
    if proposal_ids is not None:
        query = query.where(col(StaffEstimate.proposal_id).in_(proposal_ids))
    return {pid: total for pid, total in session.exec(query)}


# -- decisions ---------------------------------------------------------------------------------

DECISIONS = {
    "start_review": S.under_review, "request_info": S.needs_info, "resume_review": S.under_review,
    "feasible": S.feasible, "not_feasible": S.not_feasible, "shortlist": S.shortlisted,
    "not_selected": S.not_selected,
}


def decide(*, session: Session, actor: User, proposal_id: int, to: ProposalState, expected_version: int | None,
           reason: str = "", public_note: str = "") -> Proposal:
    """Move a proposal (a submitted one is taken under review first) if nobody changed it since
    ``expected_version``. ProposalError when not allowed — also when the version is missing, so a
    form without one cannot skip the edit-conflict check."""
    if expected_version is None:
        raise ProposalError("This decision came without the proposal's version, so it could not be checked "
                            "against changes made since. Reload the page and decide again; nothing was changed.",
                            field="version")
    proposal = staff_proposal(session=session, proposal_id=proposal_id)
    refuse_if_published(session=session, proposal_ids=[proposal_id])
    if proposal.state == S.submitted and to not in (S.under_review,):
        proposal = states.start_review(session=session, proposal_id=proposal_id, actor=actor,
                                       expected_version=expected_version)
        expected_version = proposal.version
    return states.transition(session=session, proposal=proposal, to=to, actor=actor, reason=reason,
                             public_note=public_note, expected_version=expected_version)


# Whole sentences per move that needs a reason or a note (a verb glued into a sentence does not translate).
REASON_NEEDED = {"mark not feasible": N_("#{id}: give a reason to mark not feasible."),
                 "": N_("#{id}: give a reason for this move.")}
NOTE_NEEDED = {
    "ask for more information": N_("#{id}: write the note the group will see when you ask for more information."),
    "mark not feasible": N_("#{id}: write the note the group will see when you mark not feasible."),
    "not select": N_("#{id}: write the note the group will see when you not select."),
    "": N_("#{id}: write the note the group will see for this move."),
}


def precheck(proposal: Proposal, to: ProposalState, *, reason: str, public_note: str) -> str | None:
    """Why this move would be refused (None if the state machine allows it), without writing."""
    frm = S(proposal.state)
    path = [S.under_review, to] if frm is S.submitted and to is not S.under_review else [to]
    current = frm
    for step in path:
        moves = states.allowed_next(current, staff=True)
        if step not in moves:
            return _("#{id} “{title}” is “{state}” and cannot become “{to}”.").format(
                id=proposal.id, title=proposal.title, state=_(frm.label), to=_(to.label))
        rule = states.TRANSITIONS.get((current, step))
        if rule and rule.reason_required and not reason.strip():
            return _(REASON_NEEDED.get(rule.verb, REASON_NEEDED[""])).format(id=proposal.id)
        if rule and rule.public_note_required and not public_note.strip():
            return _(NOTE_NEEDED.get(rule.verb, NOTE_NEEDED[""])).format(id=proposal.id)
        current = step
    return None


def map_shape(*, session: Session, proposal: Proposal) -> tuple[dict[str, Any], tuple[float, ...] | None]:
    """The proposal on a map: its drawn geometry and its selected assets (GeoJSON), and their bounds."""
    collection = features(session=session, keys=asset_keys(session=session, proposal_id=proposal.id or 0))
    drawn = geometry_geojson(proposal.geom)
    if drawn is not None:
        collection["features"].append({"type": "Feature", "geometry": drawn, "properties": {"layer": "drawn"}})
    shapes = [shape(f["geometry"]) for f in collection["features"]]
    return collection, geometry.bounds(shapes) if shapes else None


@dataclass(frozen=True)
class ReviewPage:
    proposal: Proposal
    group: Group | None
    review: TriageReview
    condition: ConditionSummary
    asset_count: int
    staff_estimates: list[StaffEstimate]
    transitions: list[states.TransitionView]
    moves: list[ProposalState]
    estimate: dict[str, Any] | None = None  # the group's estimate, treatment names in the viewer's language


def review_page(*, session: Session, proposal_id: int) -> ReviewPage:
    proposal = staff_proposal(session=session, proposal_id=proposal_id)
    keys = asset_keys(session=session, proposal_id=proposal_id)
    moves = states.allowed_next(proposal.state, staff=True)
    if proposal.state == S.submitted:
        moves = moves + [m for m in states.allowed_next(S.under_review, staff=True) if m not in moves]
    review = review_of(session=session, proposal_id=proposal_id)
    return ReviewPage(proposal, session.get(Group, proposal.group_id), review,
                      condition_summary(session=session, keys=keys), len(keys),
                      staff_estimates(session=session, proposal_id=proposal_id),
                      states.transitions(session=session, proposal_id=proposal_id, for_staff=True), moves,
                      localized_estimate(session=session, estimate=proposal.estimate))


__all__ = ["DECISIONS", "LineRevision", "ProposalError", "ReviewPage", "assign_reviewer", "decide", "precheck",
           "revise_estimate", "review_of", "review_page", "save_review", "staff_estimates", "staff_members"]
