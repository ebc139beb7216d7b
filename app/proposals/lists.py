"""A group's list: its proposals in order, the budget they use against the program, and a
read-only share link.

The budget counts each live proposal's final cost (its override, else its estimate) once;
an alternate is mutually exclusive with its main project, so only the main project counts.
Withdrawn, not feasible and not selected proposals do not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app import groups, program
from app.groups import GroupNotFound
from app.i18n import gettext as _
from app.i18n import localized, ngettext
from app.proposals import ProposalError, ProposalNotFound
from app.security import new_token
from models.accounts import Group, User
from models.groups import GroupListShare
from models.layers import District
from models.proposals import Proposal, ProposalState

NOT_COUNTED = (ProposalState.withdrawn.value, ProposalState.not_feasible.value, ProposalState.not_selected.value)


@dataclass(frozen=True)
class ListRow:
    id: int
    title: str
    state: str
    state_label: str
    category_key: str | None
    category_name: str
    scheduled_year: int | None
    final_cents: int | None
    low_cents: int | None
    high_cents: int | None
    is_override: bool
    alternate_of_id: int | None
    alternate_of_title: str | None
    district: str | None
    editable: bool
    counted: bool


@dataclass(frozen=True)
class CategoryBudget:
    key: str
    name: str
    cap_cents: int | None
    used_cents: int

    @property
    def over(self) -> bool:
        return self.cap_cents is not None and self.used_cents > self.cap_cents

    @property
    def meter_max(self) -> int:
        return max(self.cap_cents or 0, self.used_cents, 1)


@dataclass(frozen=True)
class BudgetView:
    total_cents: int | None
    used_cents: int
    categories: list[CategoryBudget] = field(default_factory=list)
    unestimated: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def over(self) -> bool:
        return self.total_cents is not None and self.used_cents > self.total_cents

    @property
    def remaining_cents(self) -> int | None:
        return None if self.total_cents is None else self.total_cents - self.used_cents

    @property
    def meter_max(self) -> int:
        return max(self.total_cents or 0, self.used_cents, 1)


def _group_proposals(session: Session, group_id: int) -> list[Proposal]:
    return list(session.exec(select(Proposal).where(Proposal.group_id == group_id)
                             .order_by(col(Proposal.position), col(Proposal.id))))


def rows(*, session: Session, group_id: int) -> list[ListRow]:
    proposals = _group_proposals(session, group_id)
    titles = {p.id: p.title for p in proposals}
    view = program.program_view(session=session)
    names = program.category_names(view)
    district_ids = {p.district_id for p in proposals if p.district_id}
    districts = {d.id: d.name for d in session.exec(select(District).where(col(District.id).in_(district_ids)))} \
        if district_ids else {}
    return [ListRow(
        id=p.id or 0, title=p.title, state=p.state, state_label=ProposalState(p.state).label,
        category_key=p.category_key, category_name=names.get(p.category_key or "", p.category_key or "—"),
        scheduled_year=p.scheduled_year, final_cents=p.final_cents, low_cents=p.estimate_low_cents,
        high_cents=p.estimate_high_cents, is_override=p.override_cents is not None,
        alternate_of_id=p.alternate_of_id, alternate_of_title=titles.get(p.alternate_of_id),
        district=districts.get(p.district_id), editable=ProposalState(p.state).group_may_edit,
        counted=p.state not in NOT_COUNTED and p.alternate_of_id is None) for p in proposals]


def budget(*, session: Session, group_id: int, projected: Proposal | None = None) -> BudgetView:
    """The list's use of the program's budget; ``projected`` stands in for its stored version
    (the editor's unsaved changes)."""
    proposals = [projected if projected is not None and p.id == projected.id else p
                 for p in _group_proposals(session, group_id)]
    counted = [p for p in proposals if p.state not in NOT_COUNTED and p.alternate_of_id is None]
    used = sum(p.final_cents or 0 for p in counted)
    unestimated = sum(1 for p in counted if p.final_cents is None)
    view = program.program_view(session=session)
    total = view.budget_cents if view else None
    categories = [CategoryBudget(c.key, localized(c.name, c.name_es), c.cap_cents,
                                 sum(p.final_cents or 0 for p in counted if p.category_key == c.key))
                  for c in (view.categories if view else [])]
    warnings: list[str] = []
    if total is not None and used > total:
        warnings.append(_("The list costs more than the whole program. Remove or shrink projects, "
                          "or add cheaper alternates."))
    warnings += [_("“{category}” is over its cap.").format(category=c.name) for c in categories if c.over]
    if unestimated:
        warnings.append(ngettext("{count} proposal has no estimate yet.", "{count} proposals have no estimate yet.",
                                 unestimated).format(count=unestimated))
    return BudgetView(total, used, categories, unestimated, warnings)


def _require_member(session: Session, group_id: int, user: User) -> Group:
    try:
        return groups.require_member(session=session, group_id=group_id, user=user)
    except GroupNotFound as error:
        raise ProposalNotFound() from error


def move(*, session: Session, group_id: int, proposal_id: int, actor: User, direction: str) -> None:
    """Move a proposal one place up or down the list (swapping with its neighbour)."""
    _require_member(session, group_id, actor)
    if direction not in ("up", "down"):
        raise ProposalError(_("Move a proposal up or down."), field="direction")
    # One list edit at a time per group (as creations in app.proposals.editor), so two moves never
    # compute places from the same old order.
    session.exec(select(Group.id).where(Group.id == group_id).with_for_update())
    proposals = _group_proposals(session, group_id)
    index = next((i for i, p in enumerate(proposals) if p.id == proposal_id), None)
    if index is None:
        raise ProposalNotFound()
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(proposals):
        at_end = (_("“{title}” is already at the top.") if direction == "up"
                  else _("“{title}” is already at the bottom."))
        raise ProposalError(at_end.format(title=proposals[index].title), field="direction")
    for p in (proposals[index], proposals[other]):
        if not ProposalState(p.state).group_may_edit:
            raise ProposalError(_("“{title}” was submitted; its place in the list is fixed.").format(title=p.title),
                                field="direction")
    proposals[index], proposals[other] = proposals[other], proposals[index]
    moved = [(position, p) for position, p in enumerate(proposals, start=1) if p.position != position]
    for _position, p in moved:  # out of the way first: (group, position) is unique at every statement
        p.position = -(p.id or 0)
        session.add(p)
    session.flush()
    for position, p in moved:
        p.position = position
        session.add(p)
    session.commit()


def share_token(*, session: Session, group_id: int, actor: User) -> str:
    """The list's read-only share token, made on first use."""
    _require_member(session, group_id, actor)
    share = session.get(GroupListShare, group_id)
    if share is None:
        share = GroupListShare(group_id=group_id, token=new_token())
        session.add(share)
        session.commit()
    return share.token


def current_share_token(*, session: Session, group_id: int) -> str | None:
    share = session.get(GroupListShare, group_id)
    return share.token if share else None


def stop_sharing(*, session: Session, group_id: int, actor: User) -> None:
    _require_member(session, group_id, actor)
    share = session.get(GroupListShare, group_id)
    if share is not None:
        session.delete(share)
        session.commit()


def shared_group(*, session: Session, token: str) -> Group:
    """The group whose list this token shares; ``ProposalNotFound`` for an unknown or revoked token."""
    share = session.exec(select(GroupListShare).where(GroupListShare.token == token)).first() if token else None
    group = session.get(Group, share.group_id) if share else None
    if group is None:
        raise ProposalNotFound()
    return group
