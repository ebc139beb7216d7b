"""The proposal state machine.

    draft ─submit→ submitted ─start_review→ under_review ─request_info→ needs_info
                                                 ↑                            │
                                                 └──────── resubmit ──────────┘ (group) / resume_review (staff)
    under_review ─→ feasible | not_feasible (reason)
    feasible ─→ shortlisted ─→ on_ballot | not_selected (public reason)
    feasible ─→ not_selected (public reason)
    any state but a final one ─withdraw→ withdrawn (the group, before the program is published)

``TRANSITIONS`` says who may make each move and what it needs; ``transition`` is the one command
that changes a state (checks the rule, bumps the version, writes a ``proposal_transition`` row and,
for staff, an audit event). The named functions are what pages and the triage helper call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import audit, groups, program
from app.i18n import gettext as _
from app.proposals import ProposalError, ProposalNotFound, history, snapshots
from app.proposals.editor import asset_keys, conflict, get_for_member
from app.proposals.frozen import refuse_if_published
from models.accounts import Role, User
from models.base import saved_id, utcnow
from models.program import PhaseKey
from models.proposals import Proposal, ProposalState, ProposalTransition

S = ProposalState


class Who(StrEnum):
    group = "group"
    staff = "staff"


@dataclass(frozen=True)
class Rule:
    who: Who
    verb: str
    reason_required: bool = False
    public_note_required: bool = False


TRANSITIONS: dict[tuple[ProposalState, ProposalState], Rule] = {
    (S.draft, S.submitted): Rule(Who.group, "submit"),
    (S.submitted, S.under_review): Rule(Who.staff, "start review"),
    (S.under_review, S.needs_info): Rule(Who.staff, "ask for more information", public_note_required=True),
    (S.needs_info, S.under_review): Rule(Who.group, "resubmit"),
    (S.under_review, S.feasible): Rule(Who.staff, "mark feasible"),
    (S.under_review, S.not_feasible): Rule(Who.staff, "mark not feasible", reason_required=True,
                                           public_note_required=True),
    (S.feasible, S.shortlisted): Rule(Who.staff, "shortlist"),
    (S.feasible, S.not_selected): Rule(Who.staff, "not select", public_note_required=True),
    (S.shortlisted, S.on_ballot): Rule(Who.staff, "place on the ballot"),
    (S.shortlisted, S.not_selected): Rule(Who.staff, "not select", public_note_required=True),
}
STAFF_RESUME = (S.needs_info, S.under_review)  # staff may also resume a review without the group
# An amendment of the published list (app.scenarios.amend) adds and removes projects, with its public reason.
AMENDMENT_MOVES = {(S.feasible, S.on_ballot), (S.shortlisted, S.on_ballot), (S.not_selected, S.on_ballot),
                   (S.on_ballot, S.not_selected)}
WITHDRAWABLE = [s for s in ProposalState if not s.is_final]
PUBLISHED_PHASES = (PhaseKey.published, PhaseKey.vote)
SUBMIT_PHASES = (PhaseKey.accepting_proposals,)
RESUBMIT_PHASES = (PhaseKey.accepting_proposals, PhaseKey.staff_review)


def allowed_next(state: ProposalState | str, *, staff: bool) -> list[ProposalState]:
    """The states the viewer may move a proposal to from ``state`` (withdrawal is the group's)."""
    state = ProposalState(state)
    who = Who.staff if staff else Who.group
    moves = [to for (frm, to), rule in TRANSITIONS.items() if frm is state and rule.who is who]
    if staff and state is STAFF_RESUME[0]:
        moves.append(STAFF_RESUME[1])
    if not staff and state in WITHDRAWABLE:
        moves.append(S.withdrawn)
    return moves


def _rule(frm: ProposalState, to: ProposalState, actor_is_staff: bool) -> Rule:
    if to is S.withdrawn:
        if frm not in WITHDRAWABLE:
            raise ProposalError(_("A proposal that is “{state}” cannot be withdrawn.").format(state=_(frm.label)),
                                field="state")
        return Rule(Who.group, "withdraw")
    if actor_is_staff and (frm, to) == STAFF_RESUME:
        return Rule(Who.staff, "resume review")
    rule = TRANSITIONS.get((frm, to))
    if rule is None:
        raise ProposalError(_("A proposal that is “{state}” cannot become “{to}”.").format(state=_(frm.label),
                                                                                        to=_(to.label)),
                            field="state")
    return rule


def transition(*, session: Session, proposal: Proposal, to: ProposalState, actor: User, reason: str = "",
               public_note: str = "", expected_version: int | None = None, today: date | None = None,
               commit: bool = True, amending: bool = False) -> Proposal:
    """Move the proposal to ``to`` if the rules allow it; one unit of work, unless ``commit=False``
    makes it part of the caller's (publishing moves many proposals, all or none). A proposal on a
    published list is refused (``PublishedProposal``) unless ``amending``: an amendment
    moves its proposals after writing the new version, the one change the database allows."""
    frm = ProposalState(proposal.state)
    is_staff = Role(actor.role).is_staff
    if amending:
        if (frm, to) not in AMENDMENT_MOVES:
            raise ProposalError(f"An amendment cannot move a proposal that is “{frm.label}” to “{to.label}”.",
                                field="state")
        rule = Rule(Who.staff, "amend the ballot list", public_note_required=True)
    else:
        refuse_if_published(session=session, proposal_ids=[proposal.id or 0])
        rule = _rule(frm, to, is_staff)
    if rule.who is Who.staff and not is_staff:
        raise ProposalError(f"Only staff can {rule.verb}.", field="state")
    if rule.who is Who.group and not _is_member(session, proposal, actor):
        raise ProposalNotFound()
    reason, public_note = reason.strip(), public_note.strip()
    if len(reason) > 4000 or len(public_note) > 4000:
        raise ProposalError("Keep the reason and the note under 4,000 characters.", field="reason")
    if rule.reason_required and not reason:
        raise ProposalError(f"Give a reason to {rule.verb}.", field="reason")
    if rule.public_note_required and not public_note:
        raise ProposalError(f"Write the note the group will see when you {rule.verb}.", field="public_note")
    _check_phase(session, frm, to, today)
    if to in (S.shortlisted, S.on_ballot):
        snapshots.check_not_lost(session=session, proposal=proposal)
    version = proposal.version if expected_version is None else expected_version
    values: dict[str, object] = {"state": to.value, "version": version + 1, "updated_by_id": actor.id,
                                 "updated_at": utcnow()}
    if to in (S.submitted, S.under_review) and rule.who is Who.group:
        _check_complete(session, proposal)
        keys = asset_keys(session=session, proposal_id=proposal.id or 0)
        values["submitted_snapshot"] = history.snapshot(proposal, keys)
        values["asset_snapshot"] = snapshots.take(session=session, proposal=proposal, keys=keys)
        values["submitted_at"] = utcnow()
    elif proposal.asset_snapshot is None and to in (S.shortlisted, S.on_ballot):  # submitted before snapshots
        keys = asset_keys(session=session, proposal_id=proposal.id or 0)
        values["asset_snapshot"] = snapshots.take(session=session, proposal=proposal, keys=keys)
    result = session.exec(update(Proposal).where(col(Proposal.id) == proposal.id, col(Proposal.version) == version,
                                                 col(Proposal.state) == frm.value).values(**values))
    if result.rowcount != 1:
        session.rollback()
        raise conflict(session, proposal.id or 0)
    session.add(ProposalTransition(proposal_id=saved_id(proposal.id), actor_id=actor.id, from_state=frm.value,
                                   to_state=to.value, reason=reason, public_note=public_note))
    if is_staff:
        audit.record(session=session, actor=actor, action="proposal.state", object_type="proposal",
                     object_id=proposal.id, before={"state": frm.value}, after={"state": to.value, "reason": reason})
    session.flush()
    session.refresh(proposal)
    if commit:
        session.commit()
    return proposal


def _is_member(session: Session, proposal: Proposal, actor: User) -> bool:
    return groups.membership(session=session, group_id=proposal.group_id, user=actor) is not None


def _check_phase(session: Session, frm: ProposalState, to: ProposalState, today: date | None) -> None:
    phase = program.phase_today(session=session, today=today)
    if to is S.submitted and phase not in SUBMIT_PHASES:
        raise ProposalError(_("The program is not accepting proposals now, so it cannot be submitted. "
                              "Keep it as a draft."), field="state")
    if (frm, to) == (S.needs_info, S.under_review) and phase not in RESUBMIT_PHASES:
        raise ProposalError(_("The program's review is over, so answers can no longer be sent."), field="state")
    if to is S.withdrawn and phase in PUBLISHED_PHASES:
        raise ProposalError(_("The program is published; proposals can no longer be withdrawn."), field="state")


def completeness_problems(session: Session, proposal: Proposal) -> list[str]:
    """What is missing before the proposal can be submitted."""
    problems = []
    if not proposal.title.strip():
        problems.append(_("a title"))
    if not proposal.category_key:
        problems.append(_("a category"))
    if not proposal.scheduled_year:
        problems.append(_("the scheduled year"))
    if proposal.geom is None and not asset_keys(session=session, proposal_id=proposal.id or 0):
        problems.append(_("a location (draw it or select assets)"))
    if proposal.final_cents is None:
        problems.append(_("an estimate"))
    return problems


def _check_complete(session: Session, proposal: Proposal) -> None:
    problems = completeness_problems(session, proposal)
    if problems:
        raise ProposalError(_("Before submitting, add {missing}.").format(missing=", ".join(problems)), field="state")


# -- the group's moves -------------------------------------------------------------------------

@dataclass(frozen=True)
class Submitted:
    proposal: Proposal
    already: bool


def submit(*, session: Session, group_id: int, proposal_id: int, actor: User, expected_version: int,
           today: date | None = None) -> Submitted:
    """Submit a draft (or resubmit after staff asked for more information), freezing it.
    Submitting the same version twice is harmless: the second time changes nothing."""
    proposal = get_for_member(session=session, group_id=group_id, proposal_id=proposal_id, viewer=actor)
    frozen = proposal.submitted_snapshot or {}
    if (proposal.state not in (S.draft, S.needs_info) and frozen.get("version") == expected_version):
        return Submitted(proposal, already=True)
    to = S.under_review if proposal.state == S.needs_info else S.submitted
    if proposal.state not in (S.draft, S.needs_info):
        state = _(ProposalState(proposal.state).label)
        raise ProposalError(_("This proposal is already “{state}”.").format(state=state), field="state")
    return Submitted(transition(session=session, proposal=proposal, to=to, actor=actor,
                                expected_version=expected_version, today=today), already=False)


def withdraw(*, session: Session, group_id: int, proposal_id: int, actor: User, reason: str = "",
             today: date | None = None) -> Proposal:
    proposal = get_for_member(session=session, group_id=group_id, proposal_id=proposal_id, viewer=actor)
    return transition(session=session, proposal=proposal, to=S.withdrawn, actor=actor, public_note=reason,
                      today=today)


# -- staff moves (used by triage) ----------------------------------------------------------------

def _staff_move(session: Session, proposal_id: int, to: ProposalState, actor: User, reason: str = "",
                public_note: str = "", expected_version: int | None = None, commit: bool = True) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.state == S.draft:  # staff never see drafts
        raise ProposalNotFound()
    return transition(session=session, proposal=proposal, to=to, actor=actor, reason=reason,
                      public_note=public_note, expected_version=expected_version, commit=commit)


def start_review(*, session: Session, proposal_id: int, actor: User, expected_version: int | None = None) -> Proposal:
    return _staff_move(session, proposal_id, S.under_review, actor, expected_version=expected_version)


def request_info(*, session: Session, proposal_id: int, actor: User, public_note: str, reason: str = "",
                 expected_version: int | None = None) -> Proposal:
    return _staff_move(session, proposal_id, S.needs_info, actor, reason, public_note, expected_version)


def resume_review(*, session: Session, proposal_id: int, actor: User, reason: str = "",
                  expected_version: int | None = None) -> Proposal:
    return _staff_move(session, proposal_id, S.under_review, actor, reason, expected_version=expected_version)


def mark_feasible(*, session: Session, proposal_id: int, actor: User, reason: str = "", public_note: str = "",
                  expected_version: int | None = None) -> Proposal:
    return _staff_move(session, proposal_id, S.feasible, actor, reason, public_note, expected_version)


def mark_not_feasible(*, session: Session, proposal_id: int, actor: User, reason: str, public_note: str,
                      expected_version: int | None = None) -> Proposal:
    return _staff_move(session, proposal_id, S.not_feasible, actor, reason, public_note, expected_version)


def shortlist(*, session: Session, proposal_id: int, actor: User, reason: str = "",
              expected_version: int | None = None, commit: bool = True) -> Proposal:
    return _staff_move(session, proposal_id, S.shortlisted, actor, reason, expected_version=expected_version,
                       commit=commit)


def place_on_ballot(*, session: Session, proposal_id: int, actor: User, reason: str = "", public_note: str = "",
                    expected_version: int | None = None, commit: bool = True) -> Proposal:
    return _staff_move(session, proposal_id, S.on_ballot, actor, reason, public_note, expected_version, commit=commit)


def not_select(*, session: Session, proposal_id: int, actor: User, public_note: str, reason: str = "",
               expected_version: int | None = None, commit: bool = True) -> Proposal:
    return _staff_move(session, proposal_id, S.not_selected, actor, reason, public_note, expected_version,
                       commit=commit)


# -- what the group sees -------------------------------------------------------------------------

@dataclass(frozen=True)
class TransitionView:
    at: datetime
    from_state: str
    to_state: str
    actor: str
    reason: str
    public_note: str


def transitions(*, session: Session, proposal_id: int, for_staff: bool = False) -> list[TransitionView]:
    """The proposal's changes of state, oldest first; staff-internal reasons only for staff."""
    query = (select(ProposalTransition, User.display_name, User.role)
             .outerjoin(User, col(User.id) == ProposalTransition.actor_id)
             .where(ProposalTransition.proposal_id == proposal_id).order_by(col(ProposalTransition.id)))
    views = []
    for row, name, role in session.exec(query):
        shown = name or "someone"
        if not for_staff and role and Role(role).is_staff:
            shown = "City staff"
        views.append(TransitionView(row.at, ProposalState(row.from_state).label, ProposalState(row.to_state).label,
                                    shown, row.reason if for_staff else "", row.public_note))
    return views
