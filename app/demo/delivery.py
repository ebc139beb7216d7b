"""The demo city after the vote: a published ballot list, a passed referendum, and its projects in
every delivery phase — with planned and actual dates, milestones (one overdue), contract awards,
spending, public updates and a follower — and completed projects whose assets' condition was
updated. Everything goes through the services staff use (``staff@city.example`` acts).

``seed_demo_delivery`` runs after ``seed_demo_proposals``. The first time, staff optimize a
scenario, give the public reason for each proposal left out, publish, record the vote and deliver.
Once a result is recorded the program is left as it is; reloading the demo rewrites every layer,
so the completed projects' work is written to the new layers again (same assets, by their keys),
and running it again leaves the same city.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app import accounts
from app import program as programs
from app.delivery import DeliveryError, conditions, phases, projects, vote
from app.layers.store import bump_revision
from app.proposals.selection import ASSET_TABLES
from app.scenarios import publish, scenarios
from app.scenarios.scenarios import ScenarioError
from app.settings import Settings
from app.triage import review
from models.layers import LayerKind
from models.proposals import Proposal, ProposalState

VOTE_DAYS_AGO = 420  # the referendum, about fourteen months before the demo's "today"
CONTRACTORS = ("Oconee Paving Co.", "Classic City Concrete", "Piedmont Electric & Lighting", "Athens Civil Works")


@dataclass
class DemoDelivery:
    skipped: str = ""
    published: bool = False
    voted: bool = False
    by_phase: dict[str, int] = field(default_factory=dict)
    reapplied: int = 0  # assets of completed projects written again after the layers were reloaded


def _staff(session: Session) -> Any:
    from app.demo.proposals import STAFF_EMAIL  # here: the proposals module is large and imports much

    return accounts.find_by_email(session=session, email=STAFF_EMAIL)


def _publish(session: Session, settings: Settings, staff: Any) -> str:
    """Optimize, give every proposal left out its public reason, publish. '' when done, else why not."""
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Ballot list", target_share_bps=15_000)
    optimized = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id or 0)
    if not optimized.applied:  # a small demo city cannot meet the floors: staff drop them, as a city would
        _without_minimums(session, staff)
        optimized = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id or 0)
    if not optimized.applied:
        return "the demo's proposals give no list that meets the program's rules"
    chosen = set(optimized.optimum.ids)
    for proposal in session.exec(select(Proposal).where(col(Proposal.state).in_(
            (ProposalState.feasible, ProposalState.shortlisted)))).all():
        if str(proposal.id) in chosen:
            continue
        current = review.review_of(session=session, proposal_id=proposal.id or 0)
        review.save_review(session=session, actor=staff, proposal_id=proposal.id or 0,
                           expected_version=current.version, internal_notes=current.internal_notes,
                           public_notes="Feasible, but it did not fit the budget with the projects chosen.")
    try:
        publish.publish(session=session, settings=settings, actor=staff, scenario_id=scenario.id or 0)
    except ScenarioError as error:
        return f"the ballot list could not be published: {error}"
    return ""


def _without_minimums(session: Session, staff: Any) -> None:
    """The program without category floors and district minimum shares."""
    view = programs.program_view(session=session)
    if view is None:
        return
    draft = programs.draft_of(view)
    for category in draft.categories:
        category.floor_cents = None
    for share in draft.district_shares:
        share.min_share_bps = 0
    programs.save_program(session=session, actor=staff, draft=draft)


def _calendar_before(session: Session, staff: Any, held_on: date) -> None:
    """The program's calendar moved so that its vote was on ``held_on`` (proposals, review,
    whittling and publication before it)."""
    view = programs.program_view(session=session)
    if view is None:
        return
    draft = programs.draft_of(view)
    draft.phases = programs.demo_draft(start=held_on - timedelta(days=240)).phases
    programs.save_program(session=session, actor=staff, draft=draft)


SPAN = 90  # planned days per phase
LEAD = (30, 30, 40, 60)  # days the project has been in its current phase, by stage


def _update(session: Session, settings: Settings, staff: Any, proposal_id: int, body: str, on: date) -> None:
    """A public update, dated the day it describes (the demo writes months of updates at once)."""
    update = projects.post_update(session=session, settings=settings, actor=staff, proposal_id=proposal_id, body=body)
    update.at = datetime.combine(on, time(15, 0), tzinfo=UTC)
    session.add(update)
    session.commit()


def _deliver(session: Session, settings: Settings, staff: Any, proposal_id: int, target: str, keys: list[str],
             number: int, today: date, follower: Any) -> None:
    """Take one project to ``target``, with the records a public-works office keeps on the way. Its
    current phase began a month or two ago, so only the overdue milestone makes a project late."""
    item = projects._item(session, proposal_id)
    estimate = projects.estimate_of(item)
    stage = min(keys.index(target), 3)
    start = today - timedelta(days=stage * SPAN + LEAD[stage] + 7 * (number % 3))
    for n, key in enumerate(keys[:-1]):
        projects.save_phase_dates(session=session, actor=staff, proposal_id=proposal_id, phase=key,
                                  planned_start=start + timedelta(days=n * SPAN),
                                  planned_end=start + timedelta(days=(n + 1) * SPAN - 1),
                                  actual_start=start if n == 0 else None, actual_end=None)
    if follower is not None:
        projects.follow(session=session, user=follower, proposal_id=proposal_id)
    survey = projects.add_milestone(session=session, actor=staff, proposal_id=proposal_id,
                                    title="Survey and design approved", planned_on=start + timedelta(days=60))
    _update(session, settings, staff, proposal_id, "Design is under way: surveyors have measured the site and the "
            "engineers are drawing the plans.", start + timedelta(days=10))
    if stage == 0:
        if number // len(keys) % 2 == 0:  # an overdue milestone, said plainly on the page
            projects.add_milestone(session=session, actor=staff, proposal_id=proposal_id,
                                   title="Public meeting on the design", planned_on=today - timedelta(days=12))
        return
    projects.milestone_done(session=session, actor=staff, proposal_id=proposal_id, milestone_id=survey.id or 0,
                            done_on=start + timedelta(days=55), today=today)
    tendered = start + timedelta(days=SPAN)
    projects.move_phase(session=session, actor=staff, proposal_id=proposal_id, to=keys[1], on=tendered)
    bids = projects.add_milestone(session=session, actor=staff, proposal_id=proposal_id, title="Bids opened",
                                  planned_on=tendered + timedelta(days=45))
    _update(session, settings, staff, proposal_id, "The project is out to bid; bids open next month.",
            tendered + timedelta(days=3))
    if stage == 1:
        return
    projects.milestone_done(session=session, actor=staff, proposal_id=proposal_id, milestone_id=bids.id or 0,
                            done_on=tendered + timedelta(days=40), today=today)
    awarded = tendered + timedelta(days=50)
    projects.add_award(session=session, actor=staff, proposal_id=proposal_id, awarded_on=awarded,
                       amount_cents=estimate.cost_cents * (88 + number % 10) // 100,
                       contractor=CONTRACTORS[number % len(CONTRACTORS)], description="Construction contract",
                       today=today)
    projects.move_phase(session=session, actor=staff, proposal_id=proposal_id, to=keys[2], on=awarded)
    projects.add_spending(session=session, actor=staff, proposal_id=proposal_id, spent_on=awarded + timedelta(days=30),
                          amount_cents=estimate.cost_cents * (30 + number % 15) // 100,
                          description="First payment to the contractor", today=today)
    _update(session, settings, staff, proposal_id, "Crews are on site. Expect lane closures on weekdays between "
            "9 am and 3 pm.", awarded + timedelta(days=7))
    if stage == 2:
        return
    finished = today - timedelta(days=30)
    projects.add_spending(session=session, actor=staff, proposal_id=proposal_id, spent_on=finished - timedelta(days=5),
                          amount_cents=estimate.cost_cents * (50 + number % 8) // 100,
                          description="Final payment, after inspection", today=today)
    _update(session, settings, staff, proposal_id, "The work is done and inspected. Thank you for your patience.",
            finished - timedelta(days=2))
    conditions.complete(session=session, actor=staff, proposal_id=proposal_id, on=finished, today=today)


def _reapply(session: Session) -> int:
    """Write the completed projects' work into freshly generated layers again (by each asset's key)."""
    touched: set[str] = set()
    count = 0
    for project, _item in projects.projects(session=session):
        for asset in (project.completed or {}).get("assets", []):
            if not asset.get("applied") or asset["layer"] not in ASSET_TABLES:
                continue
            row = conditions._current_row(session, asset["layer"], {"source_key": asset.get("source_key"),
                                                                     "id": int(asset["key"].split(":")[1])})
            if row is None:
                continue
            changed = False
            for name, value in asset["after"].items():
                if name == "survey_date" and isinstance(value, str):
                    value = date.fromisoformat(value)
                if getattr(row, name) != value:
                    setattr(row, name, value)
                    changed = True
            if changed:
                session.add(row)
                touched.add(asset["layer"])
                count += 1
    if touched:
        session.flush()
        bump_revision(session=session, kinds=[LayerKind(layer) for layer in sorted(touched)])
    session.commit()
    return count


def seed_demo_delivery(*, session: Session, settings: Settings, today: date | None = None) -> DemoDelivery:
    """Publish, vote and deliver the demo's ballot list (once); afterwards only re-apply completed work."""
    summary = DemoDelivery()
    today = today or date.today()
    staff = _staff(session)
    if staff is None:
        summary.skipped = "no demo staff account (production), so no voted program"
        return summary
    if vote.current(session=session) is not None:
        summary.voted = vote.delivery_open(session=session)
        summary.reapplied = _reapply(session)
        summary.by_phase = _by_phase(session)
        return summary
    if publish.latest(session=session) is None:
        why = _publish(session, settings, staff)
        if why:
            summary.skipped = why
            return summary
        summary.published = True
    held_on = today - timedelta(days=VOTE_DAYS_AGO)
    _calendar_before(session, staff, held_on)
    vote.record(session=session, actor=staff, held_on=held_on, yes_votes=18_412, no_votes=12_977,
                source_url="https://elections.example.gov/2025/tsplost", today=today)
    summary.voted = True
    from app.demo.proposals import RESIDENTS  # here: see _staff

    follower = accounts.find_by_email(session=session, email=RESIDENTS[0].email)
    keys = [p.key for p in phases.all_phases(session=session)]
    pairs = sorted(projects.projects(session=session), key=lambda pair: pair[0].proposal_id)
    for number, (project, _item) in enumerate(pairs):
        target = keys[number % len(keys)]
        try:
            _deliver(session, settings, staff, project.proposal_id, target, keys, number, today,
                     follower if number < len(keys) else None)
        except DeliveryError:  # e.g. a project whose treated assets a reload removed: leave it where it got to
            session.rollback()
    summary.by_phase = _by_phase(session)
    return summary


def _by_phase(session: Session) -> dict[str, int]:
    counts: dict[str, int] = {}
    for project, _item in projects.projects(session=session):
        counts[project.phase] = counts.get(project.phase, 0) + 1
    return counts
