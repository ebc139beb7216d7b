"""Scenarios: named working lists, optimized by app.optimizer under the program's rules.

The candidates are the feasible and shortlisted proposals. Each carries its score (app.triage.scoring),
its cost (staff's estimate if revised, else the group's), its category, each district's share of it
(from its assets, app.proposals.selection.district_shares; districts matched to the program's
district shares by code, else name), its equity measure, its alternates set and the scenario's lock
on it. Tier 1 weighs 1.0 and each later tier half the one before, so the best
proposals land in Tier 1. Each listed proposal is spent in one of the collection years
(app.scenarios.schedule); with "respect annual cash flow" on, the optimizer keeps spending to date
within revenue to date plus the scenario's borrowing limit and a year staff set is fixed for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app import audit, optimizer
from app import program as programs
from app.i18n import gettext as _
from app.optimizer import Candidate, Lock, Outcome, Rules
from app.optimizer.model import DEFAULT_TIERS
from app.optimizer.results import summarize
from app.pavement_plan.years import PlanYears, plan_years
from app.proposals.selection import district_shares, main_district
from app.scenarios import ScenarioError
from app.scenarios import schedule as schedules
from app.triage import overlaps, review, scoring
from models.accounts import User
from models.base import utcnow
from models.layers import District
from models.proposals import Proposal, ProposalState
from models.triage import PublishedList, Scenario, ScenarioItem

CANDIDATE_STATES = (ProposalState.feasible.value, ProposalState.shortlisted.value)


@dataclass(frozen=True)
class Pool:
    """Everything the optimizer needs for one scenario, and the proposals behind the candidates."""

    scenario: Scenario
    rules: Rules
    candidates: list[Candidate]
    proposals: dict[str, Proposal]
    items: dict[int, ScenarioItem]
    unpriced: list[Proposal]
    years: PlanYears  # the collection years the list is spent over


def list_scenarios(*, session: Session) -> list[Scenario]:
    return list(session.exec(select(Scenario).order_by(col(Scenario.id))))


def get_scenario(*, session: Session, scenario_id: int) -> Scenario:
    scenario = session.get(Scenario, scenario_id)
    if scenario is None:
        raise LookupError(scenario_id)
    return scenario


def published_from(*, session: Session, scenario_id: int) -> PublishedList | None:
    return session.exec(select(PublishedList).where(PublishedList.scenario_id == scenario_id)).first()


def _check_editable(session: Session, scenario: Scenario) -> None:
    published = published_from(session=session, scenario_id=scenario.id or 0)
    if published is not None:
        raise ScenarioError(f"“{scenario.name}” was published as ballot list version {published.version}; "
                            "a published list cannot be changed. Create a new scenario to keep working.")


def create_scenario(*, session: Session, actor: User, name: str, target_share_bps: int = 10_000) -> Scenario:
    name = name.strip()
    if not name or len(name) > 200:
        raise ScenarioError("Give the scenario a name (up to 200 characters).")
    if not 100 <= target_share_bps <= 100_000:
        raise ScenarioError("The target share of revenue must be between 1 % and 1,000 %.")
    if programs.get_program(session=session) is None:
        raise ScenarioError("Set up the program (revenue, categories, tiers) before building scenarios.")
    scenario = Scenario(name=name, target_share_bps=target_share_bps, created_by_id=actor.id)
    session.add(scenario)
    session.flush()
    audit.record(session=session, actor=actor, action="scenario.create", object_type="scenario",
                 object_id=scenario.id, after={"name": name, "target_share_bps": target_share_bps})
    session.commit()
    return scenario


def rules_of(session: Session, scenario: Scenario, years: PlanYears | None = None) -> Rules:
    view = programs.program_view(session=session)
    if view is None:
        raise ScenarioError("Set up the program before optimizing.")
    tiers = tuple(optimizer.Tier(t.number, t.share_bps) for t in view.tiers) or DEFAULT_TIERS
    return Rules(
        revenue_cents=view.program.expected_revenue_cents, program_management_bps=view.program.program_management_bps,
        target_share_bps=scenario.target_share_bps, tiers=tiers,
        categories=tuple(optimizer.CategoryRule(c.key, c.name, c.floor_cents, c.cap_cents) for c in view.categories
                         if c.floor_cents or c.cap_cents is not None),
        district_minimums=tuple(optimizer.DistrictMinimum(d.district, d.min_share_bps)
                                for d in view.district_shares if d.min_share_bps),
        cash_flow=schedules.cash_rule(years or plan_years(session=session), scenario.borrowing_limit_cents)
        if scenario.respect_cash_flow else None)


def _district_keys(session: Session, rules: Rules) -> dict[int, str]:
    named = {d.district for d in rules.district_minimums}
    keys = {}
    for d in session.exec(select(District)):
        keys[d.id or 0] = d.code if d.code and d.code in named else d.name
    return keys


def pool(*, session: Session, scenario_id: int) -> Pool:
    scenario = get_scenario(session=session, scenario_id=scenario_id)
    years = plan_years(session=session)
    rules = rules_of(session, scenario, years)
    proposals = list(session.exec(select(Proposal).where(col(Proposal.state).in_(CANDIDATE_STATES))
                                  .order_by(col(Proposal.id))))
    stored = session.exec(select(ScenarioItem).where(ScenarioItem.scenario_id == scenario_id))
    items = {i.proposal_id: i for i in stored}
    totals = review.latest_staff_totals(session=session, proposal_ids=[p.id or 0 for p in proposals])
    cards = scoring.score_cards(session=session, proposals=proposals, staff_totals=totals)
    alternates = overlaps.alternate_groups(session=session)
    districts = _district_keys(session, rules)
    shares = district_shares(session=session, proposal_ids=[p.id or 0 for p in proposals])
    candidates, by_id, unpriced = [], {}, []
    for p in proposals:
        cost = scoring.cost_of(p, totals)
        if cost is None:
            unpriced.append(p)
            continue
        item = items.get(p.id or 0)
        key = str(p.id)
        spread = shares.get(p.id or 0, ())
        main = main_district(spread)
        candidates.append(Candidate(
            id=key, cost_cents=cost, score=cards[p.id or 0].total, category=p.category_key or "uncategorized",
            district=districts.get(main) if main is not None else None,
            shares=tuple((districts[s.district_id], s.share_bps) for s in spread if s.district_id in districts),
            alternate_group=alternates.get(p.id or 0), lock=Lock(item.lock) if item and item.lock else None,
            equity=cards[p.id or 0].raw("equity"), title=p.title,
            year=item.year if item and rules.cash_flow and item.year in years.span else None))
        by_id[key] = p
    return Pool(scenario, rules, candidates, by_id, items, unpriced, years)


def current_selection(p: Pool) -> dict[str, int]:
    return {str(pid): item.tier for pid, item in p.items.items() if item.tier is not None and str(pid) in p.proposals}


def schedule_of(p: Pool, selection: dict[str, int]) -> dict[str, schedules.Scheduled]:
    """The year each listed proposal is spent in, and where that year comes from."""
    by_id = {c.id: c for c in p.candidates}
    listed = []
    for key, tier in selection.items():
        item = p.items.get(int(key))
        listed.append(schedules.Listed(key, tier, by_id[key].score, by_id[key].cost_cents,
                                       item.year if item else None, item.planned_year if item else None,
                                       p.proposals[key].scheduled_year))
    return schedules.schedule(listed, p.years, borrowing_limit_cents=p.scenario.borrowing_limit_cents,
                              use_planned=p.scenario.respect_cash_flow)


def current_outcome(p: Pool) -> Outcome:
    """The scenario's list as it stands, with every rule it breaks (the optimizer's check) and the
    year each proposal is spent in."""
    selection = current_selection(p)
    years = {key: s.year for key, s in schedule_of(p, selection).items()}
    return summarize(tuple(p.candidates), p.rules, selection, status="manual", with_violations=True, years=years)


def cash_view(p: Pool, outcome: Outcome) -> schedules.CashView:
    """The list's spending by year against the revenue by year (the chart, the table and the check)."""
    by_id = {c.id: c for c in p.candidates}
    return schedules.cash_view(p.scenario.name, {i: by_id[i].cost_cents for i in outcome.ids},
                               schedule_of(p, outcome.selection), p.years, p.scenario.borrowing_limit_cents)


@dataclass(frozen=True)
class Optimized:
    optimum: Outcome
    greedy: Outcome
    applied: bool


def optimize_scenario(*, session: Session, actor: User, scenario_id: int) -> Optimized:
    """Solve for the best list; when one exists, it becomes the scenario's list (locks kept)."""
    p = pool(session=session, scenario_id=scenario_id)
    _check_editable(session, p.scenario)
    optimum = optimizer.optimize(p.candidates, p.rules, measure_gains=True)
    greedy = optimizer.greedy(p.candidates, p.rules)
    if optimum.conflict is not None:
        return Optimized(optimum, greedy, applied=False)
    before = current_selection(p)
    chosen = optimum.selection
    for key in p.proposals:
        pid = int(key)
        item = p.items.get(pid)
        tier = chosen.get(key)
        if item is None and tier is None:
            continue
        if item is None:
            item = ScenarioItem(scenario_id=scenario_id, proposal_id=pid)
        item.tier = tier
        item.planned_year = optimum.years.get(key) if tier is not None and p.rules.cash_flow else None
        session.add(item)
    p.scenario.version += 1
    p.scenario.updated_at = utcnow()
    session.add(p.scenario)
    audit.record(session=session, actor=actor, action="scenario.optimize", object_type="scenario",
                 object_id=scenario_id, before={"selection": before},
                 after={"selection": chosen, "score": optimum.total_score, "status": optimum.status,
                        "years": optimum.years})
    session.commit()
    return Optimized(optimum, greedy, applied=True)


def _item(session: Session, p: Pool, proposal_id: int) -> ScenarioItem:
    if str(proposal_id) not in p.proposals:
        raise ScenarioError(f"#{proposal_id} is not a feasible or shortlisted proposal with an estimate.")
    return p.items.get(proposal_id) or ScenarioItem(scenario_id=p.scenario.id or 0, proposal_id=proposal_id)


def set_tier(*, session: Session, actor: User, scenario_id: int, proposal_id: int, tier: int | None) -> Outcome:
    """Add a proposal by hand (to a tier) or remove it (tier None); returns the list with the rules it breaks."""
    p = pool(session=session, scenario_id=scenario_id)
    _check_editable(session, p.scenario)
    if tier is not None and tier not in {t.number for t in p.rules.tiers}:
        raise ScenarioError(f"There is no Tier {tier}.")
    item = _item(session, p, proposal_id)
    before = item.tier
    item.tier = tier
    session.add(item)
    p.scenario.version += 1
    p.scenario.updated_at = utcnow()
    session.add(p.scenario)
    audit.record(session=session, actor=actor, action="scenario.edit", object_type="scenario", object_id=scenario_id,
                 before={"proposal_id": proposal_id, "tier": before}, after={"proposal_id": proposal_id, "tier": tier})
    session.commit()
    return current_outcome(pool(session=session, scenario_id=scenario_id))


def set_year(*, session: Session, actor: User, scenario_id: int, proposal_id: int, year: int | None) -> None:
    """Fix the year a proposal is spent in (None: let the optimizer or the default rule choose)."""
    p = pool(session=session, scenario_id=scenario_id)
    _check_editable(session, p.scenario)
    if year is not None and year not in p.years.span:
        raise ScenarioError(_("Choose a year from {first} to {last}, the program's collection years.").format(
            first=p.years.span[0], last=p.years.span[-1]))
    item = _item(session, p, proposal_id)
    before = item.year
    item.year = year
    session.add(item)
    p.scenario.version += 1
    p.scenario.updated_at = utcnow()
    session.add(p.scenario)
    audit.record(session=session, actor=actor, action="scenario.year", object_type="scenario", object_id=scenario_id,
                 before={"proposal_id": proposal_id, "year": before}, after={"proposal_id": proposal_id, "year": year})
    session.commit()


def set_cash_flow(*, session: Session, actor: User, scenario_id: int, respect: bool,
                  borrowing_limit_cents: int) -> None:
    """Whether the optimizer respects annual cash flow, and the borrowing limit it (and the check) allow."""
    scenario = get_scenario(session=session, scenario_id=scenario_id)
    _check_editable(session, scenario)
    if not 0 <= borrowing_limit_cents <= 10**13:
        raise ScenarioError(_("The borrowing limit must be between $0 and $100 billion."))
    before = {"respect_cash_flow": scenario.respect_cash_flow, "borrowing_limit_cents": scenario.borrowing_limit_cents}
    scenario.respect_cash_flow = respect
    scenario.borrowing_limit_cents = borrowing_limit_cents
    scenario.version += 1
    scenario.updated_at = utcnow()
    session.add(scenario)
    audit.record(session=session, actor=actor, action="scenario.cash_flow", object_type="scenario",
                 object_id=scenario_id, before=before,
                 after={"respect_cash_flow": respect, "borrowing_limit_cents": borrowing_limit_cents})
    session.commit()


def set_lock(*, session: Session, actor: User, scenario_id: int, proposal_id: int, lock: str | None) -> None:
    p = pool(session=session, scenario_id=scenario_id)
    _check_editable(session, p.scenario)
    if lock is not None and lock not in {x.value for x in Lock}:
        raise ScenarioError("A lock is must_include or must_exclude.")
    item = _item(session, p, proposal_id)
    before = item.lock
    item.lock = lock
    session.add(item)
    audit.record(session=session, actor=actor, action="scenario.lock", object_type="scenario", object_id=scenario_id,
                 before={"proposal_id": proposal_id, "lock": before}, after={"proposal_id": proposal_id, "lock": lock})
    session.commit()


def what_it_takes(*, session: Session, scenario_id: int, proposal_id: int) -> optimizer.Addition:
    p = pool(session=session, scenario_id=scenario_id)
    if str(proposal_id) not in p.proposals:
        raise ScenarioError(f"#{proposal_id} is not a feasible or shortlisted proposal with an estimate.")
    return optimizer.what_it_takes(p.candidates, p.rules, str(proposal_id))
