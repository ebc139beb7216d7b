"""The program: validation, saving with audit, and the phase rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import Session, select

from app import program as programs
from app.program import CategoryDraft, DistrictShareDraft, PhaseDraft, ProgramError, StaleProgram, TierDraft
from models.accounts import User
from models.audit import AuditEvent
from models.program import PhaseKey

START = date(2027, 1, 1)


def draft() -> programs.ProgramDraft:
    return programs.demo_draft(start=START)


def problems_of(d: programs.ProgramDraft) -> list[str]:
    return programs.validate(d)


def test_the_demo_program_is_valid_and_its_budget_leaves_out_management() -> None:
    d = draft()
    assert problems_of(d) == []
    assert d.expected_revenue_cents == 14_450_000_000
    assert d.budget_cents == 14_016_500_000  # $144.5M less 3 %


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: replace(d, tiers=[TierDraft(1, "Tier 1", 8500), TierDraft(2, "Tier 2", 1000, True)]),
     "add up to 100 % (they add up to 95 %)"),
    (lambda d: replace(d, tiers=[TierDraft(1, "Tier 1", 10000, True)]), "Tier 1 is funded from expected revenue"),
    (lambda d: replace(d, categories=[CategoryDraft("a", "A", floor_cents=10_000_000_000),
                                      CategoryDraft("b", "B", floor_cents=5_000_000_000)]),
     "floors add up to more than the program's budget"),
    (lambda d: replace(d, categories=[CategoryDraft("a", "A", cap_cents=100, floor_cents=200)]),
     "the floor is above the cap"),
    (lambda d: replace(d, categories=[CategoryDraft("a", "A"), CategoryDraft("a", "B")]), "used twice"),
    (lambda d: replace(d, expected_revenue_cents=0), "expected revenue must be more than $0"),
    (lambda d: replace(d, district_shares=[DistrictShareDraft("1", 6000), DistrictShareDraft("2", 5000)]),
     "minimum shares add up to more than 100 %"),
    (lambda d: replace(d, phases=[PhaseDraft("drafting", date(2027, 2, 1), date(2027, 1, 1))]),
     "ends before it starts"),
    (lambda d: replace(d, phases=[PhaseDraft("drafting", date(2027, 1, 1), date(2027, 2, 1)),
                                  PhaseDraft("accepting_proposals", date(2027, 1, 15), date(2027, 3, 1))]),
     "must start after Drafting ends"),
    (lambda d: replace(d, phases=[PhaseDraft("party", date(2027, 1, 1), date(2027, 2, 1))]), "is not a phase"),
])
def test_validation_explains_each_problem(change, message: str) -> None:  # type: ignore[no-untyped-def]
    problems = problems_of(change(draft()))
    assert any(message in p for p in problems), problems


def test_save_replaces_the_program_and_audits(session: Session, staff: User) -> None:
    saved = programs.save_program(session=session, actor=staff, draft=draft())
    assert saved.revision == 1
    d = replace(draft(), district_shares=[DistrictShareDraft("North", 2000)],
                categories=[CategoryDraft("pavement", "Pavement", cap_cents=5_000_000_000)])
    again = programs.save_program(session=session, actor=staff, draft=d, expected_revision=1)
    assert again.id == saved.id and again.revision == 2
    view = programs.program_view(session=session)
    assert view is not None
    assert [c.key for c in view.categories] == ["pavement"]
    assert [(s.district, s.min_share_bps) for s in view.district_shares] == [("North", 2000)]
    assert [t.share_bps for t in view.tiers] == [8500, 1500]
    assert view.tier_amount_cents(view.tiers[0]) == 11_914_025_000
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "program.saved")).all()
    assert len(events) == 2 and events[1].before and events[1].before["district_shares"] == []


def test_bad_or_stale_saves_change_nothing(session: Session, staff: User) -> None:
    programs.save_program(session=session, actor=staff, draft=draft())
    with pytest.raises(ProgramError):
        programs.save_program(session=session, actor=staff, draft=replace(draft(), name=" "))
    with pytest.raises(StaleProgram):
        programs.save_program(session=session, actor=staff, draft=replace(draft(), name="Other"), expected_revision=7)
    view = programs.program_view(session=session)
    assert view and view.program.name == draft().name and view.program.revision == 1


def test_phases_decide_when_groups_may_submit(session: Session, staff: User) -> None:
    assert programs.accepting_proposals(session=session, today=START) is False  # no program yet
    programs.save_program(session=session, actor=staff, draft=draft())
    view = programs.program_view(session=session)
    assert view is not None
    assert programs.current_phase(view, START) is PhaseKey.drafting
    assert programs.current_phase(view, date(2027, 1, 31)) is PhaseKey.accepting_proposals  # day 31
    assert programs.current_phase(view, date(2026, 12, 31)) is None
    assert programs.accepting_proposals(session=session, today=date(2027, 3, 31)) is True  # last day
    assert programs.accepting_proposals(session=session, today=date(2027, 4, 1)) is False
    assert programs.phase_today(session=session, today=date(2027, 4, 1)) is PhaseKey.staff_review


def test_the_demo_program_is_created_once(session: Session) -> None:
    first = programs.ensure_demo_program(session=session, start=START)
    again = programs.ensure_demo_program(session=session, start=date(2030, 1, 1))
    assert first.id == again.id and again.revision == 1
