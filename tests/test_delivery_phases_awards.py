"""Contract awards are their own kind of update, never counted as spending (migration 0019 moves old
award-like spending rows); the phases staff configure, with the rules that keep projects' data
consistent and "complete" last."""

from __future__ import annotations

import importlib.util
from datetime import date, timedelta
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlmodel import select

from app.delivery import DeliveryError, conditions, overview, phases, projects, vote
from models.audit import AuditEvent
from models.delivery import DeliveryAward, DeliveryPhaseDates, DeliverySpending
from tests.ballot_data import Ballot, publish_ballot
from tests.conftest import csrf_of, sign_in

TODAY = date.today()
MIGRATION = Path(__file__).parent.parent / "migrations" / "versions" / "2026_12_04_0019_awards_revenue_phases.py"


@pytest.fixture
def ballot(session, settings, resident, staff) -> Ballot:
    published = publish_ballot(session, settings, resident, staff)
    vote.record(session=session, actor=staff, held_on=TODAY - timedelta(days=1), yes_votes=6120, no_votes=4311)
    return published


def test_an_award_is_shown_against_the_estimate_and_never_counted_as_spending(session, ballot, staff):
    pid = ballot.on[0]
    estimate = projects.project_delivery(session=session, proposal_id=pid).estimate
    for kwargs, field in (({"contractor": ""}, "contractor"), ({"awarded_on": TODAY + timedelta(days=2)}, "awarded_on"),
                          ({"amount_cents": 0}, "award_amount")):
        with pytest.raises(DeliveryError) as refused:
            projects.add_award(session=session, actor=staff, proposal_id=pid, **{
                "awarded_on": TODAY, "amount_cents": 100_00, "contractor": "Acme Paving", **kwargs})
        assert refused.value.field == field
    projects.add_award(session=session, actor=staff, proposal_id=pid, awarded_on=TODAY,
                       amount_cents=estimate.cost_cents, contractor="Acme  Paving", description="Mill and overlay")
    projects.add_spending(session=session, actor=staff, proposal_id=pid, spent_on=TODAY,
                          amount_cents=estimate.cost_cents // 2, description="First progress payment")
    view = projects.project_delivery(session=session, proposal_id=pid)
    assert view.awarded_cents == estimate.cost_cents and view.spent_cents == estimate.cost_cents // 2  # not summed
    assert view.award_over_cents == 0 and view.awards[0].contractor == "Acme Paving"
    assert any("Contract awarded to Acme Paving" in line for _on, line in view.timeline)
    # a second award past the high end of the range needs a public reason, like spending
    with pytest.raises(DeliveryError, match="past the high end") as refused:
        projects.add_award(session=session, actor=staff, proposal_id=pid, awarded_on=TODAY,
                           amount_cents=estimate.high_cents, contractor="Change order")
    assert refused.value.field == "award_reason"
    projects.add_award(session=session, actor=staff, proposal_id=pid, awarded_on=TODAY,
                       amount_cents=estimate.high_cents, contractor="Acme Paving", reason="Rock under the road bed")
    view = projects.project_delivery(session=session, proposal_id=pid)
    assert view.award_over_cents == estimate.cost_cents and view.spent_cents == estimate.cost_cents // 2
    glance = overview.overview(session=session)
    assert glance.awarded_cents == estimate.cost_cents + estimate.high_cents
    assert glance.spent_cents == estimate.cost_cents // 2 and [g.label for g in glance.by_tier] == ["Tier 1"]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "delivery.award")).all()
    assert [e.after["contractor"] for e in events] == ["Acme Paving", "Acme Paving"]


def _migration():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("migration_0019", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


AWARDS = ["  CONTRACT AWARD: resurfacing", "ADJUDICACIÓN a Obras SA", "Award of contract to Acme",
          "Contract awarded to Acme", "adjudicación del contrato"]
SPENDING = ["Paving contract awarded in May, first invoice", "Progress payment 1",
            "Progress payment 2 under awarded contract", "Segundo pago de la obra adjudicada"]


def test_the_migration_moves_only_spending_rows_that_record_an_award_to_awards(session, ballot, staff):
    pid = ballot.on[0]
    project = projects.project_delivery(session=session, proposal_id=pid).project
    for description in AWARDS + SPENDING:
        session.add(DeliverySpending(project_id=project.id, spent_on=TODAY, amount_cents=1_000_00,
                                     description=description))
    session.flush()
    with Operations.context(MigrationContext.configure(session.connection())):
        _migration().move_award_spending()
    session.expire_all()
    view = projects.project_delivery(session=session, proposal_id=pid)
    assert sorted(s.description for s in view.spending) == SPENDING and view.spent_cents == 4 * 1_000_00
    assert sorted(a.description for a in view.awards) == sorted(AWARDS)
    assert {a.contractor for a in view.awards} == {""} and view.awarded_cents == 5 * 1_000_00


def test_the_downgrade_refuses_while_staff_phases_are_in_use(session, ballot, staff):
    module = _migration()
    with Operations.context(MigrationContext.configure(session.connection())):
        assert module.custom_phases() == []  # as seeded: the downgrade may run
    phases.save(session=session, actor=staff, key=None, name="Permits", name_es="Permisos", progress=20)
    with Operations.context(MigrationContext.configure(session.connection())), \
            pytest.raises(RuntimeError, match=r"Cannot downgrade .*Permits.*nothing was changed"):
        module.downgrade()
    assert "Permits" in [p.name for p in phases.all_phases(session=session)]  # kept, not dropped


def test_staff_rename_add_reorder_and_remove_phases_within_the_rules(session, ballot, staff):
    pid, other = ballot.on[0], ballot.on[1]
    assert [p.key for p in phases.all_phases(session=session)] == ["design", "procurement", "construction",
                                                                   "complete"]
    with pytest.raises(DeliveryError, match="Spanish name"):
        phases.save(session=session, actor=staff, key=None, name="Permits", name_es="", progress=20)
    with pytest.raises(DeliveryError, match="0 to 99"):
        phases.save(session=session, actor=staff, key=None, name="Permits", name_es="Permisos", progress=100)
    with pytest.raises(DeliveryError, match="already called"):
        phases.save(session=session, actor=staff, key=None, name="design", name_es="Otro", progress=5)
    added = phases.save(session=session, actor=staff, key=None, name="Permits", name_es="Permisos", progress=45)
    assert [p.key for p in phases.all_phases(session=session)][-2:] == ["permits", "complete"]
    assert len(session.exec(select(DeliveryPhaseDates).where(DeliveryPhaseDates.phase == "permits")).all()) == len(
        ballot.on)  # every project has (empty) dates for it
    # construction and permits: no project reached them, so they swap; design cannot move
    phases.move(session=session, actor=staff, key="permits", up=True)
    assert [p.key for p in phases.all_phases(session=session)] == ["design", "procurement", "permits",
                                                                   "construction", "complete"]
    with pytest.raises(DeliveryError, match="history out of order"):
        phases.move(session=session, actor=staff, key="procurement", up=True)
    with pytest.raises(DeliveryError, match="always the last"):
        phases.move(session=session, actor=staff, key="complete", up=True)
    phases.save(session=session, actor=staff, key="complete", name="Done", name_es="Hecho", progress=None)
    projects.move_phase(session=session, actor=staff, proposal_id=pid, to=added.key, on=TODAY)
    view = projects.project_delivery(session=session, proposal_id=pid)
    assert view.phase_label == "Permits" and view.progress == 45
    assert [r.key for r in view.phases] == ["design", "procurement", "permits", "construction", "complete"]
    for key, message in (("permits", "are in “Permits”"), ("complete", "cannot be removed"),
                         ("design", "are in “Design”")):
        with pytest.raises(DeliveryError, match=message):
            phases.remove(session=session, actor=staff, key=key)
    projects.move_phase(session=session, actor=staff, proposal_id=pid, to="construction", on=TODAY)
    with pytest.raises(DeliveryError, match="dates or updates recorded"):
        phases.remove(session=session, actor=staff, key="permits")  # the project's public record
    # completion keeps its meaning under its new name: the assets are updated
    conditions.complete(session=session, actor=staff, proposal_id=pid, on=TODAY, left_out=set())
    done = projects.project_delivery(session=session, proposal_id=pid)
    assert done.project.phase == "complete" and done.phase_label == "Done" and done.progress == 100
    assert projects.project_delivery(session=session, proposal_id=other).phase_label == "Design"
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "delivery.phases")).all()
    assert len(events) == 3 and events[-1].after["phases"][-1]["name"] == "Done"


def test_a_phase_no_project_has_touched_can_be_removed(session, ballot, staff):
    phases.save(session=session, actor=staff, key=None, name="Permits", name_es="Permisos", progress=45)
    phases.remove(session=session, actor=staff, key="permits")
    assert [p.key for p in phases.all_phases(session=session)] == ["design", "procurement", "construction",
                                                                   "complete"]
    assert session.exec(select(DeliveryPhaseDates).where(DeliveryPhaseDates.phase == "permits")).first() is None


def test_the_pages_show_awards_and_phases_in_spanish(client, session, ballot, staff):
    pid = ballot.on[0]
    sign_in(client, staff.email)
    token = csrf_of(client, f"/staff/delivery/{pid}")
    refused = client.post(f"/staff/delivery/{pid}/award", data={
        "award_amount": "1,000.00", "awarded_on": TODAY.isoformat(), "contractor": "", "csrf_token": token})
    assert refused.status_code == 422 and "Name the contractor" in refused.text
    assert session.exec(select(DeliveryAward)).first() is None
    assert client.post(f"/staff/delivery/{pid}/award", data={
        "award_amount": "1,000.00", "awarded_on": TODAY.isoformat(), "contractor": "Acme Paving",
        "csrf_token": token}).status_code == 303
    phases_page = client.get("/staff/delivery/phases")
    assert phases_page.status_code == 200 and "Add a phase" in phases_page.text
    token = csrf_of(client, "/staff/delivery/phases")
    assert client.post("/staff/delivery/phases/save", data={"key": "procurement", "name": "Bidding",
                                                            "name_es": "Licitación", "progress": "30",
                                                            "csrf_token": token}).status_code == 303
    kept = client.post("/staff/delivery/phases/remove", data={"key": "design", "csrf_token": token})
    assert kept.status_code == 422 and "move them on before removing it" in kept.text
    page = client.get(f"/projects/{pid}").text
    assert 'data-testid="awarded">$1,000' in page and "Acme Paving" in page and "Bidding" in page
    assert "Contracts awarded" in client.get("/projects").text
    client.cookies.set("gw_lang", "es")
    spanish = client.get(f"/projects/{pid}").text
    assert "Adjudicaciones de contratos" in spanish and "Licitación" in spanish and "Bidding" not in spanish
