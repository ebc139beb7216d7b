"""Delivering the ballot projects in the open: phases with planned and actual dates, milestones,
spending and contract awards against the published estimate, public updates with photos, and
residents who follow.

A delivery project exists for every item of the current ballot list once the vote passed. Its
estimate is the item as published (cost, and the range of the estimate behind it); spending past
the range's high end needs a public reason, and so does an award past it. A contract award is a
commitment, not money spent: it is never added to spending. Progress is the share of milestones
done when there are milestones, else the share staff set for the phase (``phases``: design 10 %,
procurement 30 %, construction 60 %, complete 100 % by default). A project is late when a
milestone's planned date or its phase's planned end has passed without it. Completing a project is
``app.delivery.conditions.complete``: it also updates the assets' condition. Every command here is
audited and commits once (``commit=False`` leaves that to the caller: the CSV import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, func, select, update

from app import audit, mail
from app.db import is_sqlite
from app.delivery import DeliveryError, phases, photos, vote
from app.i18n import N_, money, translations
from app.i18n import gettext as _
from app.scenarios import publish
from app.settings import Settings
from models.accounts import User
from models.base import utcnow
from models.delivery import (
    DeliveryAward,
    DeliveryFollow,
    DeliveryMilestone,
    DeliveryPhaseDates,
    DeliveryPhoto,
    DeliveryProject,
    DeliverySpending,
    DeliveryUpdate,
)
from models.triage import PublishedItem, PublishedList

COMPLETE = phases.COMPLETE
MAX_AMOUNT_CENTS = 10_000_000_000_00  # ten billion dollars: a typo, not a payment


def phase_label(phase: str, configured: list[phases.Phase] | None = None) -> str:
    """A phase's name in the viewer's language (the defaults' names when no list is given)."""
    return phases.label(configured if configured is not None else list(phases.DEFAULTS), phase)


# -- opening -------------------------------------------------------------------------------------

def open_projects(*, session: Session) -> int:
    """A delivery project for every item of the current ballot list that has none (in the caller's
    unit of work). Returns how many were opened."""
    published = publish.latest(session=session)
    if published is None:
        return 0
    have = set(session.exec(select(DeliveryProject.proposal_id)))
    configured = phases.all_phases(session=session)
    opened = 0
    for item in publish.items_of(session=session, published_id=published.id or 0):
        if item.proposal_id in have:
            continue
        project = DeliveryProject(proposal_id=item.proposal_id, phase=configured[0].key)
        session.add(project)
        session.flush()
        for phase in configured:
            session.add(DeliveryPhaseDates(project_id=project.id or 0, phase=phase.key))
        opened += 1
    session.flush()
    return opened


def _project(session: Session, proposal_id: int) -> DeliveryProject:
    project = session.exec(select(DeliveryProject).where(DeliveryProject.proposal_id == proposal_id)).first()
    if project is None or not vote.delivery_open(session=session):
        raise LookupError(proposal_id)
    return project


def locked(session: Session, proposal_id: int) -> DeliveryProject:
    """The project, held for the rest of this transaction. Every writer takes it before reading what
    it checks (spending and awards to date, the phase), so two writers at once — two overlapping
    imports, an import and a staff page — run one after the other: the second reads the first's
    result. PostgreSQL: a row lock. SQLite: the database's one write lock, taken by writing the row
    first; a writer whose earlier reads went stale meanwhile fails ("database is locked") and writes
    nothing."""
    if is_sqlite(session):
        try:
            session.execute(update(DeliveryProject).where(col(DeliveryProject.proposal_id) == proposal_id)
                            .values(version=DeliveryProject.version))
        except OperationalError as error:  # what this transaction read is stale: another writer committed
            if "locked" not in str(error):
                raise
            raise DeliveryError(_("Someone else changed this project at the same moment (another import or a "
                                  "staff entry); nothing was recorded. Look at it again and try once more.")) from error
        query = select(DeliveryProject).where(DeliveryProject.proposal_id == proposal_id)
    else:
        query = select(DeliveryProject).where(DeliveryProject.proposal_id == proposal_id).with_for_update()
    project = session.exec(query.execution_options(populate_existing=True)).first()
    if project is None or not vote.delivery_open(session=session):
        raise LookupError(proposal_id)
    return project


def _item(session: Session, proposal_id: int) -> PublishedItem:
    """The ballot item as published in the newest version that lists the project."""
    item = session.exec(select(PublishedItem)
                        .join(PublishedList, col(PublishedList.id) == PublishedItem.published_list_id)
                        .where(PublishedItem.proposal_id == proposal_id)
                        .order_by(col(PublishedList.version).desc())).first()
    if item is None:
        raise LookupError(proposal_id)
    return item


def _touch(session: Session, project: DeliveryProject) -> None:
    project.version += 1
    project.updated_at = utcnow()
    session.add(project)


# -- the estimate and spending -------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    cost_cents: int  # as published on the ballot list
    low_cents: int
    high_cents: int


def estimate_of(item: PublishedItem) -> Estimate:
    facts = (item.snapshot or {}).get("proposal", {})
    low, high = facts.get("estimate_low_cents"), facts.get("estimate_high_cents")
    low = min(int(low), item.cost_cents) if low is not None else item.cost_cents
    high = max(int(high), item.cost_cents) if high is not None else item.cost_cents
    return Estimate(item.cost_cents, low, high)


def spent_cents(*, session: Session, project_id: int) -> int:
    total = session.exec(select(func.coalesce(func.sum(DeliverySpending.amount_cents), 0))
                         .where(DeliverySpending.project_id == project_id)).one()
    return int(total)


def awarded_cents(*, session: Session, project_id: int) -> int:
    total = session.exec(select(func.coalesce(func.sum(DeliveryAward.amount_cents), 0))
                         .where(DeliveryAward.project_id == project_id)).one()
    return int(total)


def add_spending(*, session: Session, actor: User | None, proposal_id: int, spent_on: date | None,
                 amount_cents: int | None, description: str, reason: str = "",
                 today: date | None = None, commit: bool = True) -> DeliverySpending:
    """Record money spent (not a contract award: ``add_award``). Past the high end of the estimate's
    range it needs a reason."""
    project = locked(session, proposal_id)
    description, reason = description.strip(), reason.strip()
    if amount_cents is None or amount_cents <= 0 or amount_cents > MAX_AMOUNT_CENTS:
        raise DeliveryError(_("Give the amount in dollars, more than zero."), field="amount")
    if spent_on is None or spent_on > (today or date.today()):
        raise DeliveryError(_("Give the date the money was spent (not in the future)."), field="spent_on")
    if not description:
        raise DeliveryError(_("Say what the money was for."), field="description")
    estimate = estimate_of(_item(session, proposal_id))
    total = spent_cents(session=session, project_id=project.id or 0) + amount_cents
    if total > estimate.high_cents and not reason:
        raise DeliveryError(_("This brings spending to {total}, past the high end of the estimate's range "
                              "({high}). Give the reason; it is shown publicly. Nothing was recorded.").format(
            total=money(total), high=money(estimate.high_cents)), field="reason")
    entry = DeliverySpending(project_id=project.id or 0, spent_on=spent_on, amount_cents=amount_cents,
                             description=description[:300], reason=reason[:2000],
                             recorded_by_id=actor.id if actor else None)
    session.add(entry)
    _touch(session, project)
    session.flush()
    audit.record(session=session, actor=actor, action="delivery.spending", object_type="delivery_project",
                 object_id=project.id, after={"proposal_id": proposal_id, "amount_cents": amount_cents,
                                              "spent_on": spent_on.isoformat(), "description": description,
                                              "reason": reason, "total_cents": total})
    if commit:
        session.commit()
    return entry


def add_award(*, session: Session, actor: User | None, proposal_id: int, awarded_on: date | None,
              amount_cents: int | None, contractor: str, description: str = "", reason: str = "",
              today: date | None = None, commit: bool = True) -> DeliveryAward:
    """Record a contract awarded: a commitment shown beside the estimate, never counted as spending.
    Awards past the high end of the estimate's range need a public reason."""
    project = locked(session, proposal_id)
    contractor, description, reason = " ".join(contractor.split()), description.strip(), reason.strip()
    if amount_cents is None or amount_cents <= 0 or amount_cents > MAX_AMOUNT_CENTS:
        raise DeliveryError(_("Give the amount in dollars, more than zero."), field="award_amount")
    if awarded_on is None or awarded_on > (today or date.today()):
        raise DeliveryError(_("Give the date the contract was awarded (not in the future)."), field="awarded_on")
    if not contractor or len(contractor) > 200:
        raise DeliveryError(_("Name the contractor (at most 200 characters)."), field="contractor")
    estimate = estimate_of(_item(session, proposal_id))
    total = awarded_cents(session=session, project_id=project.id or 0) + amount_cents
    if total > estimate.high_cents and not reason:
        raise DeliveryError(_("This brings contract awards to {total}, past the high end of the estimate's range "
                              "({high}). Give the reason; it is shown publicly. Nothing was recorded.").format(
            total=money(total), high=money(estimate.high_cents)), field="award_reason")
    award = DeliveryAward(project_id=project.id or 0, awarded_on=awarded_on, amount_cents=amount_cents,
                          contractor=contractor, description=description[:300], reason=reason[:2000],
                          recorded_by_id=actor.id if actor else None)
    session.add(award)
    _touch(session, project)
    session.flush()
    audit.record(session=session, actor=actor, action="delivery.award", object_type="delivery_project",
                 object_id=project.id, after={"proposal_id": proposal_id, "award": award.id,
                                              "amount_cents": amount_cents, "awarded_on": awarded_on.isoformat(),
                                              "contractor": contractor, "reason": reason, "total_cents": total})
    if commit:
        session.commit()
    return award


# -- phases and milestones ------------------------------------------------------------------------

def save_phase_dates(*, session: Session, actor: User | None, proposal_id: int, phase: str,
                     planned_start: date | None, planned_end: date | None, actual_start: date | None,
                     actual_end: date | None, commit: bool = True) -> DeliveryPhaseDates:
    project = locked(session, proposal_id)
    if phase not in {p.key for p in phases.all_phases(session=session)}:
        raise DeliveryError(_("There is no such phase."), field="phase")
    for start, end in ((planned_start, planned_end), (actual_start, actual_end)):
        if start and end and end < start:
            raise DeliveryError(_("A phase cannot end before it starts."), field="planned_end")
    row = session.exec(select(DeliveryPhaseDates).where(DeliveryPhaseDates.project_id == project.id,
                                                        DeliveryPhaseDates.phase == phase)).first()
    if row is None:  # a project opened before the phase was added
        row = DeliveryPhaseDates(project_id=project.id or 0, phase=phase)
    before = {"planned_start": _iso(row.planned_start), "planned_end": _iso(row.planned_end),
              "actual_start": _iso(row.actual_start), "actual_end": _iso(row.actual_end)}
    row.planned_start, row.planned_end = planned_start, planned_end
    row.actual_start, row.actual_end = actual_start, actual_end
    session.add(row)
    _touch(session, project)
    audit.record(session=session, actor=actor, action="delivery.phase_dates", object_type="delivery_project",
                 object_id=project.id, before={"phase": phase, **before},
                 after={"phase": phase, "planned_start": _iso(planned_start), "planned_end": _iso(planned_end),
                        "actual_start": _iso(actual_start), "actual_end": _iso(actual_end)})
    if commit:
        session.commit()
    return row


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def move_phase(*, session: Session, actor: User | None, proposal_id: int, to: str, on: date | None = None,
               commit: bool = True) -> DeliveryProject:
    """Move the project forward to ``to``: the phases it leaves end ``on``, the new one starts then.
    Completion goes through ``conditions.complete`` (it updates the assets too)."""
    project = locked(session, proposal_id)
    configured = phases.all_phases(session=session)
    order = [p.key for p in configured]
    if to not in order:
        raise DeliveryError(_("There is no such phase."), field="phase")
    at = order.index(project.phase) if project.phase in order else -1
    if order.index(to) <= at:
        raise DeliveryError(_("A project only moves forward: it is in {phase} already.").format(
            phase=phase_label(project.phase, configured)), field="phase")
    on = on or date.today()
    dates = {r.phase: r for r in session.exec(select(DeliveryPhaseDates)
                                              .where(DeliveryPhaseDates.project_id == project.id))}
    for key in order:
        if key not in dates:  # a phase added after the project opened
            dates[key] = DeliveryPhaseDates(project_id=project.id or 0, phase=key)
    for phase in order[max(at, 0):order.index(to)]:
        row = dates[phase]
        row.actual_start = row.actual_start or on
        row.actual_end = row.actual_end or on
        session.add(row)
    dates[to].actual_start = dates[to].actual_start or on
    if to == COMPLETE:
        dates[to].actual_end = dates[to].actual_end or on
    session.add(dates[to])
    before = project.phase
    project.phase = to
    _touch(session, project)
    audit.record(session=session, actor=actor, action="delivery.phase", object_type="delivery_project",
                 object_id=project.id, before={"phase": before}, after={"phase": to, "on": on.isoformat()})
    if commit:
        session.commit()
    return project


def add_milestone(*, session: Session, actor: User | None, proposal_id: int, title: str,
                  planned_on: date | None, commit: bool = True) -> DeliveryMilestone:
    project = locked(session, proposal_id)
    title = title.strip()
    if not title:
        raise DeliveryError(_("Give the milestone a name."), field="title")
    milestone = DeliveryMilestone(project_id=project.id or 0, title=title[:200], planned_on=planned_on)
    session.add(milestone)
    _touch(session, project)
    session.flush()
    audit.record(session=session, actor=actor, action="delivery.milestone", object_type="delivery_project",
                 object_id=project.id, after={"milestone": milestone.id, "title": title,
                                              "planned_on": _iso(planned_on)})
    if commit:
        session.commit()
    return milestone


def replan_milestone(*, session: Session, actor: User | None, proposal_id: int, milestone_id: int,
                     planned_on: date | None, commit: bool = True) -> DeliveryMilestone:
    """Change when a milestone is planned for (audited with the date it had)."""
    project = locked(session, proposal_id)
    milestone = session.get(DeliveryMilestone, milestone_id)
    if milestone is None or milestone.project_id != project.id:
        raise LookupError(milestone_id)
    before = _iso(milestone.planned_on)
    milestone.planned_on = planned_on
    session.add(milestone)
    _touch(session, project)
    audit.record(session=session, actor=actor, action="delivery.milestone_planned", object_type="delivery_project",
                 object_id=project.id, before={"milestone": milestone_id, "planned_on": before},
                 after={"milestone": milestone_id, "planned_on": _iso(planned_on)})
    if commit:
        session.commit()
    return milestone


def milestone_done(*, session: Session, actor: User | None, proposal_id: int, milestone_id: int,
                   done_on: date | None, today: date | None = None, commit: bool = True) -> DeliveryMilestone:
    project = locked(session, proposal_id)
    milestone = session.get(DeliveryMilestone, milestone_id)
    if milestone is None or milestone.project_id != project.id:
        raise LookupError(milestone_id)
    if done_on is None or done_on > (today or date.today()):
        raise DeliveryError(_("Give the date it was reached (not in the future)."), field="done_on")
    milestone.done_on = done_on
    session.add(milestone)
    _touch(session, project)
    audit.record(session=session, actor=actor, action="delivery.milestone_done", object_type="delivery_project",
                 object_id=project.id, after={"milestone": milestone_id, "done_on": done_on.isoformat()})
    if commit:
        session.commit()
    return milestone


# -- updates, photos and followers ------------------------------------------------------------------

def post_update(*, session: Session, settings: Settings, actor: User | None, proposal_id: int, body: str,
                uploads: list[photos.Upload] | None = None, commit: bool = True) -> DeliveryUpdate:
    """A public update, with photos checked and re-encoded first; followers are mailed.
    ``commit=False`` (no photos): the caller's unit of work holds it and the mail."""
    project = locked(session, proposal_id)
    body = body.strip()
    if not body:
        raise DeliveryError(_("Write what happened; the update is public."), field="body")
    if len(body) > 4000:
        raise DeliveryError(_("An update is at most 4,000 characters."), field="body")
    store = photos.PhotoStore(settings)
    prepared = [photos.prepare(upload, settings=settings) for upload in uploads or []]  # refuses before writing
    update = DeliveryUpdate(project_id=project.id or 0, body=body, phase=project.phase,
                            author_id=actor.id if actor else None)
    session.add(update)
    session.flush()
    saved: list[str] = []
    try:
        for photo in prepared:
            name = store.save(photo.data)
            saved.append(name)
            session.add(DeliveryPhoto(update_id=update.id or 0, stored_name=name, alt_text=photo.alt_text,
                                      width=photo.width, height=photo.height, size_bytes=len(photo.data)))
        _touch(session, project)
        audit.record(session=session, actor=actor, action="delivery.update", object_type="delivery_project",
                     object_id=project.id, after={"update": update.id, "photos": len(prepared)})
        item = _item(session, proposal_id)
        _mail_followers(session, settings, project, item.title, body)
        if commit:
            session.commit()
    except Exception:
        if commit:
            session.rollback()
        for name in saved:
            store.delete(name)
        raise
    return update


UPDATE_SUBJECT = N_("Update on “{title}”")
UPDATE_FOOTER = N_("You follow this project. To stop, open its page and choose Unfollow.")


def _mail_followers(session: Session, settings: Settings, project: DeliveryProject, title: str, body: str) -> None:
    """Each follower gets the update, in English and Spanish (mail has no viewer language to go by),
    with a one-click unsubscribe link (``unsubscribe``)."""
    from app.delivery import unsubscribe  # here: it reads projects

    followers = list(session.exec(select(User.id, User.email)
                                  .join(DeliveryFollow, col(DeliveryFollow.user_id) == User.id)
                                  .where(DeliveryFollow.project_id == project.id)))
    link = f"{settings.base_url}/projects/{project.proposal_id}"
    es = translations("es").gettext
    for user_id, email in followers:
        stop, headers = unsubscribe.mail_parts(settings=settings, user_id=user_id or 0, project_id=project.id or 0)
        mail.send(session=session, settings=settings, recipient=email,
                  subject=f"{UPDATE_SUBJECT.format(title=title)} / {es(UPDATE_SUBJECT).format(title=title)}"[:300],
                  body=f"{body}\n\n{link}\n\n{UPDATE_FOOTER}\n{es(UPDATE_FOOTER)}\n{stop}", headers=headers)


def follow(*, session: Session, user: User, proposal_id: int) -> bool:
    """Follow a project; False if already following."""
    project = _project(session, proposal_id)
    try:
        with session.begin_nested():
            session.add(DeliveryFollow(project_id=project.id or 0, user_id=user.id or 0))
    except IntegrityError:
        return False
    session.commit()
    return True


def unfollow(*, session: Session, user: User, proposal_id: int) -> bool:
    project = _project(session, proposal_id)
    row = session.exec(select(DeliveryFollow).where(DeliveryFollow.project_id == project.id,
                                                    DeliveryFollow.user_id == user.id)).first()
    if row is None:
        return False
    session.delete(row)
    session.commit()
    return True


def is_following(*, session: Session, user: User | None, project_id: int) -> bool:
    if user is None:
        return False
    return session.exec(select(DeliveryFollow.id).where(DeliveryFollow.project_id == project_id,
                                                        DeliveryFollow.user_id == user.id)).first() is not None


# -- reading ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PhaseRow:
    key: str
    label: str
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    current: bool
    late: bool


@dataclass(frozen=True)
class UpdateView:
    id: int
    at: datetime
    phase_label: str
    body: str
    photos: list[DeliveryPhoto]


@dataclass(frozen=True)
class ProjectDelivery:
    project: DeliveryProject
    title: str
    category_key: str | None
    district: str | None
    tier: int
    phase_label: str
    phases: list[PhaseRow]
    milestones: list[DeliveryMilestone]
    spending: list[DeliverySpending]
    spent_cents: int
    estimate: Estimate
    awards: list[DeliveryAward]
    progress: int  # 0–100
    late: list[str]  # what is late, in words
    updates: list[UpdateView]
    followers: int
    completed: dict[str, Any] | None = None
    timeline: list[tuple[date, str]] = field(default_factory=list)

    @property
    def over_cents(self) -> int:
        """How far spending is past the high end of the range (0 when within it)."""
        return max(0, self.spent_cents - self.estimate.high_cents)

    @property
    def awarded_cents(self) -> int:
        return sum(a.amount_cents for a in self.awards)

    @property
    def award_over_cents(self) -> int:
        """How far the contract awards are past the high end of the range (0 when within it)."""
        return max(0, self.awarded_cents - self.estimate.high_cents)

    @property
    def award_share(self) -> float:
        return self.awarded_cents / self.estimate.cost_cents if self.estimate.cost_cents else 0.0

    @property
    def remaining_cents(self) -> int:
        return self.estimate.cost_cents - self.spent_cents

    @property
    def spent_share(self) -> float:
        return self.spent_cents / self.estimate.cost_cents if self.estimate.cost_cents else 0.0


def progress_of(phase: str, milestones: list[DeliveryMilestone], configured: list[phases.Phase] | None = None) -> int:
    if phase == COMPLETE:
        return 100
    if milestones:
        return round(100 * sum(1 for m in milestones if m.done_on) / len(milestones))
    return next((p.progress for p in configured or phases.DEFAULTS if p.key == phase), 0)


def _late(phase: str, dates: list[DeliveryPhaseDates], milestones: list[DeliveryMilestone],
          today: date, configured: list[phases.Phase] | None = None) -> tuple[list[str], set[str]]:
    late: list[str] = []
    phases_late: set[str] = set()
    if phase == COMPLETE:
        return late, phases_late
    for m in milestones:
        if m.planned_on and m.planned_on < today and not m.done_on:
            late.append(_("“{title}” was planned for {date}.").format(title=m.title, date=m.planned_on.isoformat()))
    for row in dates:
        if row.planned_end and row.planned_end < today and not row.actual_end:
            phases_late.add(row.phase)
            late.append(_("{phase} was planned to end by {date}.").format(phase=phase_label(row.phase, configured),
                                                                          date=row.planned_end.isoformat()))
    return late, phases_late


def project_delivery(*, session: Session, proposal_id: int, today: date | None = None) -> ProjectDelivery:
    """Everything the public page shows about one project's delivery (LookupError when there is none)."""
    project = _project(session, proposal_id)
    item = _item(session, proposal_id)
    today = today or date.today()
    configured = phases.all_phases(session=session)
    order = {p.key: p.position for p in configured}
    phase_rows = sorted((r for r in session.exec(select(DeliveryPhaseDates)
                                                 .where(DeliveryPhaseDates.project_id == project.id))
                         if r.phase in order), key=lambda r: order[r.phase])
    milestones = list(session.exec(select(DeliveryMilestone).where(DeliveryMilestone.project_id == project.id)
                                   .order_by(col(DeliveryMilestone.planned_on), col(DeliveryMilestone.id))))
    spending = list(session.exec(select(DeliverySpending).where(DeliverySpending.project_id == project.id)
                                 .order_by(col(DeliverySpending.spent_on), col(DeliverySpending.id))))
    awards = list(session.exec(select(DeliveryAward).where(DeliveryAward.project_id == project.id)
                               .order_by(col(DeliveryAward.awarded_on), col(DeliveryAward.id))))
    updates = list(session.exec(select(DeliveryUpdate).where(DeliveryUpdate.project_id == project.id)
                                .order_by(col(DeliveryUpdate.at).desc(), col(DeliveryUpdate.id).desc())))
    pictures: dict[int, list[DeliveryPhoto]] = {}
    if updates:
        for photo in session.exec(select(DeliveryPhoto).where(col(DeliveryPhoto.update_id)
                                                              .in_([u.id for u in updates]))
                                  .order_by(col(DeliveryPhoto.id))):
            pictures.setdefault(photo.update_id, []).append(photo)
    late, phases_late = _late(project.phase, phase_rows, milestones, today, configured)
    followers = session.exec(select(func.count()).select_from(DeliveryFollow)
                             .where(DeliveryFollow.project_id == project.id)).one()
    timeline = sorted(
        [(r.actual_start, _("{phase} began").format(phase=phase_label(r.phase, configured))) for r in phase_rows
         if r.actual_start] +
        [(a.awarded_on, _("Contract awarded to {contractor}: {amount}").format(
            contractor=a.contractor or _("(contractor not recorded)"), amount=money(a.amount_cents)))
         for a in awards] +
        [(m.done_on, _("Milestone reached: {title}").format(title=m.title)) for m in milestones if m.done_on] +
        [(s.spent_on, _("{amount} spent: {what}").format(amount=money(s.amount_cents), what=s.description))
         for s in spending], key=lambda t: t[0])
    return ProjectDelivery(
        project, item.title, item.category_key, item.district, item.tier, phase_label(project.phase, configured),
        [PhaseRow(r.phase, phase_label(r.phase, configured), r.planned_start, r.planned_end, r.actual_start,
                  r.actual_end, r.phase == project.phase, r.phase in phases_late) for r in phase_rows],
        milestones, spending, sum(s.amount_cents for s in spending), estimate_of(item), awards,
        progress_of(project.phase, milestones, configured), late,
        [UpdateView(u.id or 0, u.at, phase_label(u.phase, configured), u.body, pictures.get(u.id or 0, []))
         for u in updates],
        int(followers), project.completed, timeline)


def of_proposal(*, session: Session, proposal_id: int) -> ProjectDelivery | None:
    """A proposal's delivery, for its public page (None when it is not being delivered)."""
    try:
        return project_delivery(session=session, proposal_id=proposal_id)
    except LookupError:
        return None


def projects(*, session: Session) -> list[tuple[DeliveryProject, PublishedItem]]:
    """Every delivery project with its ballot item (newest version listing it), by tier then title."""
    if not vote.delivery_open(session=session):
        return []
    rows = []
    for project in session.exec(select(DeliveryProject)):
        try:
            rows.append((project, _item(session, project.proposal_id)))
        except LookupError:
            continue
    return sorted(rows, key=lambda r: (r[1].tier, r[1].title))
