"""Submitted proposals for triage and scenario tests, on the tiny proposal city."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app import groups
from app.proposals import editor, states
from app.proposals.editor import ProposalInput
from app.proposals.selection import AssetKey
from models.accounts import Group, User
from models.proposals import Proposal
from tests.proposal_city import City, build_city


@dataclass
class Triage:
    city: City
    group: Group
    member: User
    proposals: list[Proposal]


def submitted(session: Session, group: Group, member: User, title: str, keys: list[AssetKey],
              category: str = "pavement") -> Proposal:
    proposal = editor.create_proposal(session=session, group_id=group.id or 0, actor=member, data=ProposalInput(
        title=title, category_key=category, scheduled_year=2027, assets=keys))
    return states.submit(session=session, group_id=group.id or 0, proposal_id=proposal.id or 0, actor=member,
                         expected_version=proposal.version).proposal


def build_triage(session: Session, member: User) -> Triage:
    """Four submitted proposals: two share segment 1 (an overlap), one more street block, a sidewalk gap."""
    city = build_city(session)
    group = groups.create_group(session=session, creator=member, name="Friends of Main Street")
    seg = [AssetKey("pavement", i) for i in city.segments]
    proposals = [
        submitted(session, group, member, "Repave west Main", [seg[0], seg[1]]),
        submitted(session, group, member, "Repave mid Main", [seg[1], seg[2]]),
        submitted(session, group, member, "Repave east Main", [seg[3]]),
        submitted(session, group, member, "Close the sidewalk gap", [AssetKey("sidewalk", city.sidewalk)],
                  category="sidewalks"),
    ]
    return Triage(city, group, member, proposals)


def small_program(session: Session, actor: User | None, revenue_cents: int) -> None:
    """One tier, no management share, uncapped pavement and sidewalks; phases as in the demo."""
    from datetime import date, timedelta

    from app import program as programs

    draft = programs.draft_of(programs.program_view(session=session))  # type: ignore[arg-type]
    draft.expected_revenue_cents = revenue_cents
    draft.program_management_bps = 0
    draft.categories = [programs.CategoryDraft("pavement", "Pavement"),
                        programs.CategoryDraft("sidewalks", "Sidewalks")]
    draft.tiers = [programs.TierDraft(1, "Tier 1", 10_000)]
    draft.phases = programs.demo_draft(start=date.today() - timedelta(days=35)).phases
    programs.save_program(session=session, actor=actor, draft=draft)


def submitted_drawn(session: Session, group: Group, member: User, title: str, geometry: dict[str, object]) -> Proposal:
    """A submitted proposal drawn on the map (no assets), with a staff-style override as its estimate."""
    proposal = editor.create_proposal(session=session, group_id=group.id or 0, actor=member, data=ProposalInput(
        title=title, category_key="corridors", scheduled_year=2027, geometry=geometry, override_cents=50_000_000,
        override_reason="Engineer's estimate"))
    return states.submit(session=session, group_id=group.id or 0, proposal_id=proposal.id or 0, actor=member,
                         expected_version=proposal.version).proposal
