"""The triage board: every submitted proposal with filters, sorting, counts per state and bulk actions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app.i18n import gettext as _
from app.proposals import ProposalError
from app.triage import TriageError, review, scoring
from models.accounts import Group, User
from models.layers import District
from models.proposals import Proposal, ProposalState
from models.triage import TriageReview

SORTS = ("id", "title", "state", "category", "district", "cost", "score", "reviewer")


@dataclass
class Filters:
    state: str = ""
    category: str = ""
    district_id: int | None = None
    min_cents: int | None = None
    max_cents: int | None = None
    min_score: float | None = None
    reviewer_id: int | None = None  # 0: unassigned
    sort: str = "id"
    descending: bool = False


@dataclass(frozen=True)
class Row:
    id: int
    title: str
    group: str
    state: ProposalState
    category: str | None
    district: str | None
    district_id: int | None
    cost_cents: int | None
    staff_revised: bool
    score: float
    reviewer: str | None
    reviewer_id: int | None
    version: int


@dataclass
class Board:
    rows: list[Row]
    counts: dict[str, int]
    total: int
    filters: Filters
    categories: list[str] = field(default_factory=list)


def _all_rows(session: Session) -> list[Row]:
    query = (select(Proposal, Group.name, District.name,  # type: ignore[call-overload]  # sqlmodel: <= 4 columns
                    TriageReview.reviewer_id, User.display_name)
             .join(Group, col(Group.id) == Proposal.group_id)
             .outerjoin(District, col(District.id) == Proposal.district_id)
             .outerjoin(TriageReview, col(TriageReview.proposal_id) == Proposal.id)
             .outerjoin(User, col(User.id) == TriageReview.reviewer_id)
             .where(Proposal.state != ProposalState.draft.value))
    found = list(session.exec(query))
    proposals = [r[0] for r in found]
    staff_totals = review.latest_staff_totals(session=session, proposal_ids=[p.id or 0 for p in proposals])
    cards = scoring.score_cards(session=session, proposals=proposals, staff_totals=staff_totals)
    return [Row(p.id or 0, p.title, group, ProposalState(p.state), p.category_key, district, p.district_id,
                scoring.cost_of(p, staff_totals), (p.id or 0) in staff_totals, cards[p.id or 0].total, reviewer_name,
                reviewer_id, p.version)
            for p, group, district, reviewer_id, reviewer_name in found]


def board(*, session: Session, filters: Filters) -> Board:
    rows = _all_rows(session)
    counts = {s.value: 0 for s in ProposalState if s is not ProposalState.draft}
    for row in rows:
        counts[row.state.value] += 1
    categories = sorted({r.category for r in rows if r.category})
    f = filters
    if f.state:
        rows = [r for r in rows if r.state.value == f.state]
    if f.category:
        rows = [r for r in rows if r.category == f.category]
    if f.district_id is not None:
        rows = [r for r in rows if r.district_id == f.district_id]
    if f.min_cents is not None:
        rows = [r for r in rows if r.cost_cents is not None and r.cost_cents >= f.min_cents]
    if f.max_cents is not None:
        rows = [r for r in rows if r.cost_cents is not None and r.cost_cents <= f.max_cents]
    if f.min_score is not None:
        rows = [r for r in rows if r.score >= f.min_score]
    if f.reviewer_id is not None:
        rows = [r for r in rows if (r.reviewer_id or 0) == f.reviewer_id]
    keys = {"id": lambda r: (r.id,), "title": lambda r: (r.title.lower(), r.id),
            "state": lambda r: (r.state.value, r.id), "category": lambda r: (r.category or "", r.id),
            "district": lambda r: (r.district or "", r.id), "cost": lambda r: (r.cost_cents or 0, r.id),
            "score": lambda r: (r.score, r.id), "reviewer": lambda r: (r.reviewer or "", r.id)}
    if f.sort not in keys:
        raise TriageError(_("Sort by one of: {sorts}.").format(sorts=", ".join(SORTS)), field="sort")
    rows.sort(key=keys[f.sort], reverse=f.descending)
    return Board(rows, counts, sum(counts.values()), f, categories)


def districts(*, session: Session) -> list[District]:
    return list(session.exec(select(District).order_by(col(District.name))))


def bulk_move(*, session: Session, actor: User, proposal_ids: list[int], to: ProposalState, reason: str = "",
              public_note: str = "") -> int:
    """Move every chosen proposal through the state machine. Every move is checked first: if any
    is not allowed (or lacks its reason), none is made and the message lists them all."""
    if not proposal_ids:
        raise TriageError(_("Choose at least one proposal."), field="ids")
    proposals = [review.staff_proposal(session=session, proposal_id=pid) for pid in proposal_ids]
    problems = [p for p in (review.precheck(x, to, reason=reason, public_note=public_note) for x in proposals) if p]
    if problems:
        raise TriageError(_("Nothing was changed. {problems}").format(problems=" ".join(problems)), field="to")
    for proposal in proposals:
        try:
            review.decide(session=session, actor=actor, proposal_id=proposal.id or 0, to=to, reason=reason,
                          public_note=public_note, expected_version=proposal.version)  # the one just checked
        except ProposalError as error:  # a concurrent change since the check
            raise TriageError(_("#{id}: {problem}").format(id=proposal.id, problem=error), field="to") from error
    return len(proposals)
