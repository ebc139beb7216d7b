"""Scenarios: the optimizer under the program's rules, hand edits, comparison, publishing the ballot list."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from app import program as programs
from app.optimizer import RuleKind, check
from app.scenarios import ScenarioError, compare, publish, scenarios
from app.triage import board, review
from models.outbox import OutboxMessage
from models.proposals import Proposal, ProposalState
from models.triage import PublishedList, ScenarioItem
from tests.conftest import post_form, sign_in
from tests.triage_data import build_triage


@pytest.fixture
def t(session: Session, resident, staff):
    data = build_triage(session, resident)
    ids = [p.id for p in data.proposals]
    board.bulk_move(session=session, actor=staff, proposal_ids=ids, to=ProposalState.feasible)
    costs = [session.get(Proposal, p.id).final_cents for p in data.proposals]
    view = programs.program_view(session=session)
    draft = programs.draft_of(view)
    draft.expected_revenue_cents = costs[0] + costs[2] + costs[3]  # room for three, not all four
    draft.program_management_bps = 0
    draft.categories = [programs.CategoryDraft("pavement", "Pavement"),
                        programs.CategoryDraft("sidewalks", "Sidewalks")]
    draft.tiers = [programs.TierDraft(1, "Tier 1", 10_000)]
    start = date.today() - timedelta(days=35)
    draft.phases = programs.demo_draft(start=start).phases
    programs.save_program(session=session, actor=staff, draft=draft)
    data.costs = costs
    return data


def _exhaustive_best(pool: scenarios.Pool) -> float:
    budget = pool.rules.tier_budget_cents(pool.rules.tiers[0])
    best = 0.0
    for n in range(len(pool.candidates) + 1):
        for combo in itertools.combinations(pool.candidates, n):
            groups = [c.alternate_group for c in combo if c.alternate_group]
            if sum(c.cost_cents for c in combo) <= budget and len(groups) == len(set(groups)):
                best = max(best, sum(c.score for c in combo))
    return best


def test_optimize_finds_the_exact_optimum_respects_rules_and_names_what_binds(session, t, staff):
    scenario = scenarios.create_scenario(session=session, actor=staff, name="At 100 %")
    result = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id)
    pool = scenarios.pool(session=session, scenario_id=scenario.id)
    assert result.applied and result.optimum.status == "optimal"
    assert result.optimum.total_score == pytest.approx(_exhaustive_best(pool), abs=0.01)
    assert check(result.optimum.selection, pool.candidates, pool.rules) == []
    assert any(b.rule.kind is RuleKind.TIER_BUDGET and b.tight for b in result.optimum.bindings)
    assert result.greedy.status == "greedy"
    stored = {str(i.proposal_id): i.tier for i in session.exec(select(ScenarioItem)) if i.tier}
    assert stored == result.optimum.selection  # the optimum became the scenario's list


def test_alternates_are_mutually_exclusive_in_the_optimizer(session, t, staff):
    from app.triage import overlaps
    overlaps.mark_alternates(session=session, actor=staff, proposal_ids=[t.proposals[0].id, t.proposals[1].id])
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Alternates", target_share_bps=50_000)
    chosen = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id).optimum.ids
    assert len(chosen & {str(t.proposals[0].id), str(t.proposals[1].id)}) == 1


def test_contradictory_locks_are_named_as_the_conflict(client, session, t, staff):
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Locked")
    for p in t.proposals:
        scenarios.set_lock(session=session, actor=staff, scenario_id=scenario.id, proposal_id=p.id, lock="must_include")
    result = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id)
    assert not result.applied and result.optimum.conflict is not None
    assert "must-include lock" in result.optimum.conflict.sentence and "budget" in result.optimum.conflict.sentence
    sign_in(client, staff.email)
    page = post_form(client, f"/staff/scenarios/{scenario.id}/optimize", {}, page=f"/staff/scenarios/{scenario.id}")
    assert page.status_code == 422 and "No list can keep every rule" in page.text and "must-include lock" in page.text


def test_hand_edit_shows_the_rule_it_breaks_and_what_it_takes(client, session, t, staff):
    scenario = scenarios.create_scenario(session=session, actor=staff, name="By hand")
    for p in t.proposals:
        outcome = scenarios.set_tier(session=session, actor=staff, scenario_id=scenario.id, proposal_id=p.id, tier=1)
    assert [v.rule.kind for v in outcome.violations] == [RuleKind.TIER_BUDGET]
    assert "over its budget" in outcome.violations[0].message
    sign_in(client, staff.email)
    page = client.get(f"/staff/scenarios/{scenario.id}")
    assert "Breaks a rule" in page.text and "over its budget" in page.text
    scenarios.set_tier(session=session, actor=staff, scenario_id=scenario.id, proposal_id=t.proposals[1].id, tier=None)
    addition = scenarios.what_it_takes(session=session, scenario_id=scenario.id, proposal_id=t.proposals[1].id)
    assert addition.possible and addition.dropped
    assert "Adding" in client.get(f"/staff/scenarios/{scenario.id}?add={t.proposals[1].id}").text
    with pytest.raises(ScenarioError, match="no Tier 7"):
        scenarios.set_tier(session=session, actor=staff, scenario_id=scenario.id, proposal_id=t.proposals[0].id, tier=7)


def test_compare_two_scenarios(client, session, t, staff):
    a = scenarios.create_scenario(session=session, actor=staff, name="At 100 %")
    b = scenarios.create_scenario(session=session, actor=staff, name="At 150 %", target_share_bps=15_000)
    scenarios.optimize_scenario(session=session, actor=staff, scenario_id=a.id)
    scenarios.optimize_scenario(session=session, actor=staff, scenario_id=b.id)
    found = compare.compare(session=session, a_id=a.id, b_id=b.id)
    assert found.b.outcome.total_cost_cents >= found.a.outcome.total_cost_cents
    assert {i for i, _ in found.only_in_b} == set(found.b.outcome.ids - found.a.outcome.ids)
    assert found.a.projected_pci > found.baseline_pci  # treating streets beats letting them age
    assert sum(found.a.outcome.by_category.values()) == found.a.outcome.total_cost_cents
    assert sum(found.a.by_tier.values()) == found.a.outcome.total_cost_cents
    sign_in(client, staff.email)
    page = client.get(f"/staff/scenarios/compare?a={a.id}&b={b.id}")
    assert page.status_code == 200 and "Projected network PCI" in page.text and "At 150 %" in page.text


def test_scenario_pages_follow_the_viewers_language(client, session, t, staff):
    a = scenarios.create_scenario(session=session, actor=staff, name="Uno")
    b = scenarios.create_scenario(session=session, actor=staff, name="Dos", target_share_bps=15_000)
    scenarios.optimize_scenario(session=session, actor=staff, scenario_id=b.id)
    sign_in(client, staff.email)
    assert "<h2>New scenario</h2>" in client.get("/staff/scenarios").text
    assert post_form(client, "/language", {"lang": "es", "next": "/"}, page="/").status_code == 303
    listing = client.get("/staff/scenarios").text
    assert "<h2>Nuevo escenario</h2>" in listing and "meta: 150.0 % de la recaudación" in listing
    assert "New scenario" not in listing
    optimized = post_form(client, f"/staff/scenarios/{a.id}/optimize", {}, page="/staff/scenarios")
    assert optimized.status_code == 200 and "Óptimo (aplicado al escenario)" in optimized.text
    assert "Voraz por puntuación" in optimized.text and "La lista tal como está" in optimized.text
    compared = client.get(f"/staff/scenarios/compare?a={a.id}&b={b.id}").text
    assert "Puntuación total" in compared and "PCI proyectado de la red" in compared and "Total score" not in compared
    wrong = client.get(f"/staff/scenarios/compare?a=x&b={b.id}", headers={"accept": "text/html"})
    assert wrong.status_code == 400 and "Escenario A debe ser un número entero, no “x”." in wrong.text


def test_publish_freezes_the_list_with_a_hash_anyone_can_recompute(client, session, t, staff, resident):
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Final")
    chosen = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id).optimum.ids
    left_out = [p for p in t.proposals if str(p.id) not in chosen]
    assert left_out
    with pytest.raises(ScenarioError, match="need a public reason") as refused:
        publish.publish(session=session, settings=client.app.state.settings, actor=staff, scenario_id=scenario.id)
    assert all(f"#{p.id}" in str(refused.value) for p in left_out)
    assert session.exec(select(PublishedList)).first() is None
    assert "has not been published yet" in client.get("/ballot").text
    assert client.get("/ballot/export.json").status_code == 404
    for p in left_out:
        review.save_review(session=session, actor=staff, proposal_id=p.id, expected_version=0,
                           internal_notes="", public_notes="Over the budget this time")
    published = publish.publish(session=session, settings=client.app.state.settings, actor=staff,
                                scenario_id=scenario.id)
    export = client.get("/ballot/export.json")
    assert export.status_code == 200
    assert hashlib.sha256(export.content).hexdigest() == published.content_hash == export.headers["x-content-sha256"]
    assert export.text == publish.canonical_json(export.json())  # canonical: sorted keys, no whitespace
    assert {str(i["proposal_id"]) for i in export.json()["items"]} == chosen
    for p in t.proposals:
        assert session.get(Proposal, p.id).state == ("on_ballot" if str(p.id) in chosen else "not_selected")
    mails = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == resident.email)).all()
    assert len(mails) == 1 and "Over the budget this time" in mails[0].body
    page = client.get("/ballot")
    csv = client.get("/data/ballot-list.csv")
    assert csv.status_code == 200 and published.content_hash in csv.text
    assert published.content_hash in page.text and "Over the budget this time" in page.text
    with pytest.raises(ScenarioError, match="already published"):
        publish.publish(session=session, settings=client.app.state.settings, actor=staff, scenario_id=scenario.id)
    with pytest.raises(ScenarioError, match="cannot be changed"):
        scenarios.set_tier(session=session, actor=staff, scenario_id=scenario.id, proposal_id=t.proposals[0].id,
                           tier=None)
    sign_in(client, staff.email)
    again = post_form(client, f"/staff/scenarios/{scenario.id}/publish", {}, page="/staff/scenarios")
    assert again.status_code == 409 and "already published" in again.text
    assert len(session.exec(select(PublishedList)).all()) == 1


def test_residents_and_group_members_cannot_use_scenario_endpoints(client, session, t, staff, resident):
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Staff only")
    sign_in(client, resident.email)
    for path in (f"/staff/scenarios/{scenario.id}/optimize", f"/staff/scenarios/{scenario.id}/publish"):
        assert post_form(client, path, {}, page="/").status_code == 403
    assert post_form(client, f"/staff/scenarios/{scenario.id}/items", {"proposal_id": str(t.proposals[0].id),
                                                                       "tier": "1"}, page="/").status_code == 403
    assert post_form(client, "/staff/scenarios", {"name": "Mine"}, page="/").status_code == 403
    assert client.get(f"/staff/scenarios/{scenario.id}").status_code == 403
    assert session.exec(select(ScenarioItem)).all() == [] and session.exec(select(PublishedList)).first() is None
    assert len(scenarios.list_scenarios(session=session)) == 1


def test_a_category_cap_is_respected_and_named_when_it_binds(session, t, staff):
    view = programs.program_view(session=session)
    draft = programs.draft_of(view)
    draft.categories[0].cap_cents = t.costs[1]  # pavement capped at the mid-Main proposal's cost
    programs.save_program(session=session, actor=staff, draft=draft)
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Capped")
    result = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id)
    assert result.optimum.by_category.get("pavement", 0) <= t.costs[1]
    assert any(b.rule.kind is RuleKind.CATEGORY_CAP for b in result.optimum.bindings)
    assert not check(result.optimum.selection, scenarios.pool(session=session, scenario_id=scenario.id).candidates,
                     scenarios.pool(session=session, scenario_id=scenario.id).rules)
    greedy_breaks = {v.rule.kind for v in result.greedy.violations}
    assert greedy_breaks <= {RuleKind.CATEGORY_CAP}


def test_a_district_minimum_no_proposal_can_meet_is_named(session, t, staff):
    draft = programs.draft_of(programs.program_view(session=session))
    draft.district_shares = [programs.DistrictShareDraft("East Ward", 2_000)]  # every proposal is in West Ward
    programs.save_program(session=session, actor=staff, draft=draft)
    scenario = scenarios.create_scenario(session=session, actor=staff, name="East first")
    result = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id)
    # A list spending nothing meets any share, so the optimum holds only the $0 proposal, and the
    # East Ward minimum is what binds it.
    assert result.applied and result.optimum.total_cost_cents == 0
    binding = next(b for b in result.optimum.bindings if b.rule.kind is RuleKind.DISTRICT_MINIMUM)
    assert binding.tight and "East Ward" in binding.sentence


def test_a_publish_that_fails_half_way_moves_no_proposal_and_writes_no_list(client, session, t, staff, monkeypatch):
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Final")
    chosen = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id).optimum.ids
    for p in t.proposals:
        if str(p.id) not in chosen:
            review.save_review(session=session, actor=staff, proposal_id=p.id, expected_version=0,
                               internal_notes="", public_notes="Over the budget this time")
    before = {p.id: session.get(Proposal, p.id).state for p in t.proposals}

    def mail_server_down(*args, **kwargs):
        raise OSError("mail queue unavailable")

    monkeypatch.setattr(publish, "_notify", mail_server_down)
    with pytest.raises(OSError):
        publish.publish(session=session, settings=client.app.state.settings, actor=staff, scenario_id=scenario.id)
    session.expire_all()
    assert {p.id: session.get(Proposal, p.id).state for p in t.proposals} == before
    assert session.exec(select(PublishedList)).first() is None


def test_the_ballot_page_shows_spending_per_resident_equity_and_street_condition(client, session, t, staff):
    from app.i18n import money
    from models.layers import District

    for district in session.exec(select(District)):
        district.population = 12_500
        session.add(district)
    session.commit()
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Final")
    chosen = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id).optimum.ids
    for p in t.proposals:
        if str(p.id) not in chosen:
            review.save_review(session=session, actor=staff, proposal_id=p.id, expected_version=0,
                               internal_notes="", public_notes="Over the budget this time")
    publish.publish(session=session, settings=client.app.state.settings, actor=staff, scenario_id=scenario.id)
    view = publish.ballot_view(session=session)
    assert sum(d.cents for d in view.per_resident) == sum(i.cost_cents for i in view.items)
    first = view.per_resident[0]
    assert first.cents_per_resident == first.cents // 12_500
    assert sum(view.by_poverty_quintile.values()) == sum(i.cost_cents for i in view.items)
    assert view.pci_with is not None and view.pci_without is not None and view.pci_with > view.pci_without
    page = client.get("/ballot").text
    assert "Spending per resident, by district" in page and money(first.cents_per_resident) in page
    assert "<svg" in page and "Network PCI today" in page
