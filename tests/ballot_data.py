"""A published ballot list on the tiny proposal city, for the guard and amendment tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from app import program as programs
from app.scenarios import publish, scenarios
from app.settings import Settings
from app.triage import board, review
from models.accounts import User
from models.proposals import Proposal, ProposalState
from models.triage import PublishedList
from tests.triage_data import Triage, build_triage


@dataclass
class Ballot:
    triage: Triage
    scenario_id: int
    published: PublishedList
    on: list[int]  # proposal ids on the list
    off: list[int]  # not selected


def ready_to_publish(session: Session, member: User, staff: User) -> tuple[Triage, int]:
    """Four feasible proposals, a program with room for three, an optimized scenario and a public
    reason for every proposal it leaves out."""
    data = build_triage(session, member)
    ids = [p.id or 0 for p in data.proposals]
    board.bulk_move(session=session, actor=staff, proposal_ids=ids, to=ProposalState.feasible)
    costs = [session.get(Proposal, i).final_cents or 0 for i in ids]  # type: ignore[union-attr]
    draft = programs.draft_of(programs.program_view(session=session))  # type: ignore[arg-type]
    draft.expected_revenue_cents = costs[0] + costs[2] + costs[3]
    draft.program_management_bps = 0
    draft.categories = [programs.CategoryDraft("pavement", "Pavement"),
                        programs.CategoryDraft("sidewalks", "Sidewalks")]
    draft.tiers = [programs.TierDraft(1, "Tier 1", 10_000)]
    draft.phases = programs.demo_draft(start=date.today() - timedelta(days=35)).phases
    programs.save_program(session=session, actor=staff, draft=draft)
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Final")
    chosen = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id or 0).optimum.ids
    for pid in ids:
        if str(pid) not in chosen:
            review.save_review(session=session, actor=staff, proposal_id=pid, expected_version=0,
                               internal_notes="", public_notes="Over the budget this time")
    return data, scenario.id or 0


def publish_ballot(session: Session, settings: Settings, member: User, staff: User) -> Ballot:
    data, scenario_id = ready_to_publish(session, member, staff)
    published = publish.publish(session=session, settings=settings, actor=staff, scenario_id=scenario_id)
    on = [i.proposal_id for i in publish.items_of(session=session, published_id=published.id or 0)]
    return Ballot(data, scenario_id, published, on, [p.id or 0 for p in data.proposals if p.id not in on])
