"""`groundwork delivery import FILE.csv [--dry-run]`: the public-works department's file checked as a
whole (every problem by row and column, nothing written on any), then applied in one transaction
through the same services as the staff pages (audited, followers mailed); the same file twice
changes nothing the second time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from app import db
from app import settings as app_settings
from app.cli import cli
from app.db import make_engine, new_session
from app.delivery import bulk, projects, vote
from app.settings import get_settings
from models.accounts import Role
from models.audit import AuditEvent
from models.delivery import DeliveryAward, DeliveryMilestone, DeliverySpending, DeliveryUpdate
from models.outbox import OutboxMessage
from models.proposals import Proposal
from tests.ballot_data import Ballot, publish_ballot
from tests.conftest import fresh_database, make_user

TODAY = date.today()
DAY = (TODAY - timedelta(days=3)).isoformat()
HEADER = ("project,phase,phase_on,progress,spent_to_date,spent_as_of,award_amount,award_contractor,award_date,"
          "milestone,milestone_planned,milestone_done,reason,note")


@pytest.fixture
def ballot(session, settings, resident, staff) -> Ballot:
    published = publish_ballot(session, settings, resident, staff)
    vote.record(session=session, actor=staff, held_on=TODAY - timedelta(days=30), yes_votes=6120, no_votes=4311)
    return published


def _two(session, ballot: Ballot) -> tuple[int, int]:
    """Two projects with an estimate above $0."""
    priced = [pid for pid in ballot.on
              if projects.project_delivery(session=session, proposal_id=pid).estimate.cost_cents > 100_00]
    return priced[0], priced[1]


def _file(session, ballot: Ballot) -> str:
    first, second = _two(session, ballot)
    cost = projects.project_delivery(session=session, proposal_id=first).estimate.cost_cents
    title = session.get(Proposal, second).title
    return "\n".join([
        HEADER,
        f"#{first},Procurement,{DAY},,\"{cost // 4 / 100:,.2f}\",{DAY},{cost // 100}.00,Acme Paving,{DAY},"
        f"Bids opened,{DAY},{DAY},,Bids are in; Acme Paving won.",
        f"{first},procurement,,,,,,,,Contract signed,{(TODAY + timedelta(days=20)).isoformat()},,,",
        f"{title.upper()},Construcción,{DAY},,100.00,{DAY},,,,,,,,",
    ]) + "\n"


def _counts(session) -> tuple[int, ...]:
    return tuple(session.exec(select(func.count()).select_from(table)).one()
                 for table in (DeliverySpending, DeliveryAward, DeliveryMilestone, DeliveryUpdate, AuditEvent,
                               OutboxMessage))


def test_a_file_is_applied_once_with_audit_and_mail_and_the_second_run_changes_nothing(session, settings, ballot,
                                                                                       staff):
    first, second = _two(session, ballot)
    follower = make_user(session, settings, "follower@example.org")
    projects.follow(session=session, user=follower, proposal_id=first)
    text = _file(session, ballot)
    before = _counts(session)
    dry = bulk.run(session=session, settings=settings, actor=staff, text=text, source="works.csv", dry_run=True)
    assert dry.changed and not dry.written and _counts(session) == before
    last_event = session.exec(select(func.max(AuditEvent.id))).one()
    done = bulk.run(session=session, settings=settings, actor=staff, text=text, source="works.csv")
    assert done.written and len(done.changes) == len(dry.changes)
    view = projects.project_delivery(session=session, proposal_id=first)
    assert view.project.phase == "procurement" and view.spent_cents == view.estimate.cost_cents // 4
    assert [(a.contractor, a.amount_cents) for a in view.awards] == [("Acme Paving", view.estimate.cost_cents // 100
                                                                      * 100)]
    assert view.awarded_cents != view.spent_cents  # the award is not spending
    assert [(m.title, m.done_on) for m in view.milestones] == [("Bids opened", TODAY - timedelta(days=3)),
                                                               ("Contract signed", None)]
    assert [u.body for u in view.updates] == ["Bids are in; Acme Paving won."]
    mail = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == "follower@example.org")).all()
    assert len(mail) == 1 and "Bids are in" in mail[0].body
    other = projects.project_delivery(session=session, proposal_id=second)
    assert other.project.phase == "construction" and other.spent_cents == 100_00
    events = session.exec(select(AuditEvent).where(AuditEvent.id > last_event)).all()
    assert {e.actor_id for e in events} == {staff.id}  # each change, with the staff member who applied the file
    actions = [e.action for e in events]
    assert {"delivery.phase", "delivery.spending", "delivery.award", "delivery.milestone",
            "delivery.milestone_done", "delivery.update", "delivery.import"} <= set(actions)
    after = _counts(session)
    again = bulk.run(session=session, settings=settings, actor=staff, text=text, source="works.csv")
    assert not again.changed and not again.written and _counts(session) == after


def test_every_problem_is_named_by_row_and_column_and_nothing_is_written(session, settings, ballot, staff):
    first, second = _two(session, ballot)
    projects.add_spending(session=session, actor=staff, proposal_id=second, spent_on=TODAY, amount_cents=500_00,
                          description="Survey")
    high = projects.project_delivery(session=session, proposal_id=first).estimate.high_cents
    text = "\n".join([
        HEADER,
        f"{first},procurement,,,,,,,,,,,,=HYPERLINK(\"http://evil.example\")",  # row 2: formula
        f"{first},construction,2026-13-01,,,,,,,,,,,",  # row 3: not a date
        "#99999,design,,,,,,,,,,,,",  # row 4: no such project
        f"{second},complete,,,,,,,,,,,,",  # row 5: completion is confirmed on the staff page
        f"{second},,,,100.00,,,,,,,,,",  # row 6: spending to date cannot go down
        f"{first},,,,\"{(high + 100) / 100:,.2f}\",,,,,,,,,",  # row 7: past the range without a reason
        f"{first},,,,,,5000,Acme,,,,,,",  # row 8: an award without its date
        f"{first},,,150,,,,,,,,,,",  # row 9: not a percentage
        f"{first},Paving,,,,,,,,,,,,",  # row 10: not a phase
    ]) + "\n"
    before = _counts(session)
    with pytest.raises(bulk.ImportError_) as refused:
        bulk.run(session=session, settings=settings, actor=staff, text=text, source="bad.csv")
    found = {(p.row, p.column) for p in refused.value.problems}
    assert {(2, "note"), (3, "phase_on"), (8, "award_date"), (9, "progress")} <= found  # format, found first
    assert _counts(session) == before
    # the format problems fixed, the rows are checked against the projects: all of them reported
    fixed = text.replace('=HYPERLINK("http://evil.example")', "").replace("2026-13-01", DAY)
    fixed = fixed.replace(",5000,Acme,,", f",5000,Acme,{DAY},").replace(",150,", ",").replace(",Paving,", ",")
    with pytest.raises(bulk.ImportError_) as refused:
        bulk.run(session=session, settings=settings, actor=staff, text=fixed, source="bad.csv")
    messages = {(p.row, p.column): p.message for p in refused.value.problems}
    assert "no project being delivered is ballot item #99999" in messages[(4, "project")]
    assert "staff confirm it on the project's page" in messages[(5, "phase")]
    assert "cannot go down" in messages[(6, "spent_to_date")]
    assert "past the high end" in messages[(7, "reason")]
    assert str(refused.value.problems[0]).startswith("row 4, column project:")
    assert _counts(session) == before
    assert projects.project_delivery(session=session, proposal_id=first).project.phase == "design"


def test_unknown_columns_and_a_missing_project_column_are_refused(session, settings, ballot, staff):
    with pytest.raises(bulk.ImportError_) as refused:
        bulk.run(session=session, settings=settings, actor=staff, text="title,phse\nRepave,design\n",
                 source="x.csv")
    assert {(p.row, p.column) for p in refused.value.problems} == {(1, "title"), (1, "phse"), (1, "project")}


def test_a_progress_figure_that_disagrees_is_a_warning_not_a_change(session, settings, ballot, staff):
    first = _two(session, ballot)[0]
    outcome = bulk.run(session=session, settings=settings, actor=staff, text=f"project,progress\n{first},45\n",
                       source="p.csv", dry_run=True)
    assert not outcome.changed and "the file says 45 %, Groundwork computes 10 %" in outcome.warnings[0]


@pytest.fixture(params=["spatialite", "postgis"])
def command_database(request, tmp_path: Path, monkeypatch) -> Iterator[str]:
    url, remove = fresh_database(request.param, tmp_path)
    monkeypatch.setenv("GROUNDWORK_DATABASE_URL", url)
    app_settings.get_settings.cache_clear()
    db.get_engine.cache_clear()
    yield url
    db.get_engine().dispose()
    db.get_engine.cache_clear()
    app_settings.get_settings.cache_clear()
    remove()  # type: ignore[operator]


def test_the_command_dry_run_then_import_then_nothing_to_change(command_database: str, tmp_path: Path) -> None:
    from tests.conftest import make_user as user

    engine = make_engine(command_database)
    with new_session(engine) as session:
        settings = get_settings()
        staff = user(session, settings, "works@city.gov", role=Role.staff)
        resident = user(session, settings, "resident@example.org")
        ballot = publish_ballot(session, settings, resident, staff)
        vote.record(session=session, actor=staff, held_on=TODAY - timedelta(days=30), yes_votes=5, no_votes=3)
        csv_file = tmp_path / "works.csv"
        csv_file.write_text(_file(session, ballot), encoding="utf-8")
        bad = tmp_path / "bad.csv"
        bad.write_text(f"project,note\n{ballot.on[0]},@SUM(A1)\n", encoding="utf-8")
        last_event = session.exec(select(func.max(AuditEvent.id))).one()
    engine.dispose()
    runner = CliRunner()
    by = ["--by", "Works@City.gov"]
    refused = runner.invoke(cli, ["delivery", "import", str(bad), *by])
    assert refused.exit_code == 1 and "row 2, column note: looks like a spreadsheet formula" in refused.output
    assert "nothing was written" in refused.output
    for who in ("resident@example.org", "nobody@city.gov"):  # only a staff member applies the file
        not_staff = runner.invoke(cli, ["delivery", "import", str(csv_file), "--by", who])
        assert not_staff.exit_code == 1 and "not an active staff account" in not_staff.output
    assert runner.invoke(cli, ["delivery", "import", str(csv_file)]).exit_code != 0  # --by is required
    dry = runner.invoke(cli, ["delivery", "import", str(csv_file), "--dry-run", *by])
    assert dry.exit_code == 0 and "Dry run:" in dry.output and "moved to Procurement" in dry.output
    done = runner.invoke(cli, ["delivery", "import", str(csv_file), *by])
    assert done.exit_code == 0 and "written" in done.output
    again = runner.invoke(cli, ["delivery", "import", str(csv_file), *by])
    assert again.exit_code == 0 and "nothing to change" in again.output
    engine = make_engine(command_database)
    with new_session(engine) as session:  # every change the file made is recorded with who applied it
        events = session.exec(select(AuditEvent).where(AuditEvent.id > last_event)).all()
        assert {e.action for e in events} >= {"delivery.phase", "delivery.spending", "delivery.award",
                                              "delivery.milestone", "delivery.update", "delivery.import"}
        assert {e.actor_id for e in events} == {staff.id}
    engine.dispose()


@pytest.mark.parametrize("kind", ["spatialite", "postgis"])
def test_two_overlapping_imports_and_a_staff_entry_record_spending_to_date_once(kind: str, tmp_path: Path) -> None:
    """Three runs of the same file at once: spending ends at the file's figure, never twice it (a run
    that lost the race on SQLite fails and writes nothing)."""
    import threading

    from tests.conftest import make_settings
    from tests.conftest import make_user as user

    url, remove = fresh_database(kind, tmp_path)
    engine = make_engine(url, pool_size=5) if kind == "postgis" else make_engine(url)
    try:
        settings = make_settings(url)
        with new_session(engine) as setup:
            staff = user(setup, settings, "works@city.gov", role=Role.staff)
            resident = user(setup, settings, "resident@example.org")
            ballot = publish_ballot(setup, settings, resident, staff)
            vote.record(session=setup, actor=staff, held_on=TODAY - timedelta(days=30), yes_votes=5, no_votes=3)
            first = _two(setup, ballot)[0]
            project_id = projects.project_delivery(session=setup, proposal_id=first).project.id or 0
        text = f"project,spent_to_date,spent_as_of\n#{first},{{}}.00,{DAY}\n"
        for figure in (50, 50, 62):
            barrier = threading.Barrier(3, timeout=60)
            errors: list[BaseException] = []

            def act(n: int) -> None:
                with new_session(engine) as own:
                    barrier.wait()
                    try:
                        bulk.run(session=own, settings=settings, actor=staff, text=text.format(figure),
                                 source="works.csv")
                    except BaseException as error:  # noqa: BLE001 — checked below
                        own.rollback()
                        errors.append(error)

            threads = [threading.Thread(target=act, args=(n,)) for n in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert all(kind == "spatialite" and isinstance(e, bulk.ImportError_) and "same moment" in str(
                e.problems[0]) for e in errors), errors
            with new_session(engine) as check:
                assert projects.spent_cents(session=check, project_id=project_id) == figure * 100
    finally:
        engine.dispose()
        remove()  # type: ignore[operator]


@pytest.mark.parametrize("kind", ["spatialite", "postgis"])
def test_a_run_that_read_before_another_committed_never_adds_the_difference_again(kind: str, tmp_path: Path) -> None:
    """B has read spending to date; A's run commits; B's run then sees A's figure (PostgreSQL) or is
    refused with "run it again" (SQLite, its snapshot is stale) — spending is the file's figure once."""
    from tests.conftest import make_settings
    from tests.conftest import make_user as user

    url, remove = fresh_database(kind, tmp_path)
    engine = make_engine(url)
    try:
        settings = make_settings(url)
        with new_session(engine) as setup:
            staff = user(setup, settings, "works@city.gov", role=Role.staff)
            ballot = publish_ballot(setup, settings, user(setup, settings, "resident@example.org"), staff)
            vote.record(session=setup, actor=staff, held_on=TODAY - timedelta(days=30), yes_votes=5, no_votes=3)
            first = _two(setup, ballot)[0]
            project_id = projects.project_delivery(session=setup, proposal_id=first).project.id or 0
        text = f"project,spent_to_date,spent_as_of\n#{first},50.00,{DAY}\n"
        with new_session(engine) as a, new_session(engine) as b:
            assert projects.spent_cents(session=b, project_id=project_id) == 0
            assert bulk.run(session=a, settings=settings, actor=staff, text=text, source="a.csv").written
            if kind == "postgis":
                assert bulk.run(session=b, settings=settings, actor=staff, text=text, source="b.csv").changes == []
            else:
                with pytest.raises(bulk.ImportError_, match="nothing was written") as refused:
                    bulk.run(session=b, settings=settings, actor=staff, text=text, source="b.csv")
                assert "at the same moment" in str(refused.value.problems[0])
        with new_session(engine) as check:
            assert projects.spent_cents(session=check, project_id=project_id) == 50_00
    finally:
        engine.dispose()
        remove()  # type: ignore[operator]
