"""The published ballot list's cash flow: each item's year, by the same rule as its scenario's list
(app.scenarios.schedule: the year staff set in the scenario, the optimizer's when the scenario
respected cash flow, the proposal's own within the collection years, else by tier and score), and
its spending by year against the revenue by year, with the scenario's borrowing limit.

Each item's year is worked out once, at publication, and kept in its snapshot (``freeze_years``):
editing the program, the scenario or a proposal afterwards leaves the published list's years as
published. A list published before years were kept is scheduled from live data, as it was then.
The revenue by year is the program's as the list was published (app.scenarios.budget)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.i18n import gettext as _
from app.pavement_plan.years import PlanYears, plan_years
from app.scenarios import budget, publish
from app.scenarios import schedule as schedules
from models.proposals import Proposal
from models.triage import PublishedItem, PublishedList, Scenario, ScenarioItem


@dataclass(frozen=True)
class BallotSchedule:
    published: PublishedList
    items: list[PublishedItem]
    years: dict[str, schedules.Scheduled]  # by proposal id (as text)
    borrowing_limit_cents: int


def ballot_schedule(*, session: Session, published: PublishedList) -> BallotSchedule:
    items = publish.items_of(session=session, published_id=published.id or 0)
    years, limit = _schedule(session, published.scenario_id, items,
                             budget.years_of(session=session, published=published))
    return BallotSchedule(published, items, years, limit)


def _schedule(session: Session, scenario_id: int | None, items: Sequence[PublishedItem],
              collection: PlanYears) -> tuple[dict[str, schedules.Scheduled], int]:
    scenario = session.get(Scenario, scenario_id) if scenario_id is not None else None
    stored = {i.proposal_id: i for i in session.exec(
        select(ScenarioItem).where(ScenarioItem.scenario_id == scenario_id))} if scenario else {}
    own = dict(session.exec(select(Proposal.id, Proposal.scheduled_year)
                            .where(col(Proposal.id).in_([i.proposal_id for i in items]))).all()) if items else {}
    listed = [schedules.Listed(str(i.proposal_id), i.tier, i.score, i.cost_cents,
                               stored[i.proposal_id].year if i.proposal_id in stored else None,
                               stored[i.proposal_id].planned_year if i.proposal_id in stored else None,
                               own.get(i.proposal_id)) for i in items]
    limit = scenario.borrowing_limit_cents if scenario else 0
    years = schedules.schedule(listed, collection, borrowing_limit_cents=limit,
                               use_planned=bool(scenario and scenario.respect_cash_flow))
    for item in items:  # the year as published, where the snapshot keeps it
        kept = (item.snapshot or {}).get("schedule")
        if kept:
            years[str(item.proposal_id)] = schedules.Scheduled(str(item.proposal_id), int(kept["year"]),
                                                               str(kept["source"]))
    return years, limit


def freeze_years(*, session: Session, scenario_id: int | None, items: Sequence[PublishedItem]) -> None:
    """At publication (and amendment), before the items are written (they are never updated): keep
    each item's year in its snapshot; an item that has one (kept from the version before) keeps it."""
    years, _limit = _schedule(session, scenario_id, items, plan_years(session=session))  # the program now
    for item in items:
        if "schedule" not in (item.snapshot or {}):
            year = years[str(item.proposal_id)]
            item.snapshot = {**(item.snapshot or {}), "schedule": {"year": year.year, "source": year.source}}


def cash_view(*, session: Session) -> schedules.CashView | None:
    """The latest published list's spending by year against the revenue; None before publication."""
    published = publish.latest(session=session)
    if published is None:
        return None
    found = ballot_schedule(session=session, published=published)
    return schedules.cash_view(_("Published list, version {number}").format(number=published.version),
                               {str(i.proposal_id): i.cost_cents for i in found.items}, found.years,
                               budget.years_of(session=session, published=published), found.borrowing_limit_cents)
