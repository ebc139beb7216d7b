"""Bulk delivery updates from the CSV a public-works department keeps (``groundwork delivery import``).

One row per project and update (a project may have several rows; they apply in file order). The
columns (docs/DELIVERY.md) — only ``project`` is required, an empty cell changes nothing:

``project`` (ballot item number, ``12`` or ``#12``, or its exact title), ``phase`` (its key or its
English or Spanish name), ``phase_on``, ``progress`` (0–100, checked against the figure Groundwork
computes, never stored), ``spent_to_date`` (dollars, the running total), ``spent_as_of``,
``award_amount``, ``award_contractor``, ``award_date``, ``milestone``, ``milestone_planned``,
``milestone_done``, ``reason`` (public; needed when spending or awards pass the estimate's range),
``note`` (a public update; followers are e-mailed).

The whole file is checked first: every cell's format (dates YYYY-MM-DD, dollars, formula-looking
cells refused as in the cost catalog), then every row against the projects in one transaction,
with the same service functions and rules as the staff pages. Any problem — reported by row and
column, all of them — and nothing is written. Otherwise the same transaction commits once, with
the services' audit events, the followers' mail, and a ``delivery.import`` event, every one of them
recorded with the staff member who applies the file (``actor``). Running the same
file again changes nothing: a phase the project is in, a spending total it has, an award, milestone
or note it already has are left alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app import audit
from app.costing.arithmetic import parse_dollars
from app.db import is_sqlite
from app.delivery import DeliveryError, phases, projects, vote
from app.i18n import money
from app.settings import Settings
from models.accounts import User
from models.delivery import DeliveryAward, DeliveryMilestone, DeliveryProject, DeliveryUpdate

COLUMNS = ("project", "phase", "phase_on", "progress", "spent_to_date", "spent_as_of", "award_amount",
           "award_contractor", "award_date", "milestone", "milestone_planned", "milestone_done", "reason", "note")
DATES = ("phase_on", "spent_as_of", "award_date", "milestone_planned", "milestone_done")
MONEY = ("spent_to_date", "award_amount")
MAX_ROWS = 5000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|")
# a service's field -> the CSV column it comes from
FIELD_COLUMN = {"amount": "spent_to_date", "spent_on": "spent_as_of", "award_amount": "award_amount",
                "awarded_on": "award_date", "contractor": "award_contractor", "award_reason": "reason",
                "phase": "phase", "title": "milestone", "done_on": "milestone_done", "body": "note"}


@dataclass(frozen=True)
class Problem:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class ImportError_(ValueError):  # noqa: N801 — ImportError is Python's
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was written")
        self.problems = problems


@dataclass
class Outcome:
    rows: int
    changes: list[str] = field(default_factory=list)  # "row 3: …", what was (or would be) done
    warnings: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.changes)


@dataclass
class Row:
    number: int
    cells: dict[str, str]
    dates: dict[str, date | None]
    money: dict[str, int | None]
    progress: int | None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse(text: str, *, today: date) -> list[Row]:
    """Every row with its cells checked for format; ImportError_ lists every problem."""
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ImportError_([Problem(1, None, f"this is not a readable CSV file ({error})")]) from None
    if not header:
        raise ImportError_([Problem(1, None, "the file is empty; the first row must name the columns")])
    names = [h.strip().lower().replace(" ", "_") for h in header]
    unknown = [h for h in names if h and h not in COLUMNS]
    if unknown:
        problems += [Problem(1, h, f"unknown column; the columns are {', '.join(COLUMNS)}") for h in unknown]
    if "project" not in names:
        problems.append(Problem(1, "project", "the column is missing (ballot item number or title)"))
    repeated = sorted({h for h in names if h and names.count(h) > 1})
    problems += [Problem(1, h, "the column appears twice") for h in repeated]
    if problems:
        raise ImportError_(problems)
    rows: list[Row] = []
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportError_([Problem(number, None, f"more than {MAX_ROWS} rows; split the file")])
            if len(values) > len(names):
                problems.append(Problem(number, None, f"{len(values)} cells, but the header names {len(names)}"))
                continue
            cells = {name: values[i].strip() if i < len(values) else "" for i, name in enumerate(names) if name}
            rows.append(_check(number, cells, today, problems))
    except csv.Error as error:
        problems.append(Problem(reader.line_num, None, f"the CSV cannot be read here ({error})"))
    if not rows and not problems:
        problems.append(Problem(2, None, "the file has no rows below the header"))
    if problems:
        raise ImportError_(problems)
    return rows


def _check(number: int, cells: dict[str, str], today: date, problems: list[Problem]) -> Row:
    for column, value in cells.items():
        if value.startswith(FORMULA_START) and not _is_number(value):
            problems.append(Problem(number, column, f"looks like a spreadsheet formula ({value[:20]!r}); "
                                                    "formulas are refused"))
            cells[column] = ""
    if not cells.get("project"):
        problems.append(Problem(number, "project", "give the ballot item number (e.g. 12) or the project's title"))
    dates: dict[str, date | None] = {}
    for column in DATES:
        text = cells.get(column, "")
        try:
            parsed = date.fromisoformat(text) if text else None
        except ValueError:
            problems.append(Problem(number, column, f"{text[:30]!r} is not a date; write it as YYYY-MM-DD"))
            parsed = None
        if parsed and parsed > today and column != "milestone_planned":
            problems.append(Problem(number, column, f"{text} is in the future; only what has happened is recorded"))
        dates[column] = parsed
    money: dict[str, int | None] = {}
    for column in MONEY:
        try:
            money[column] = parse_dollars(cells.get(column, ""), label="The amount")
        except ValueError as error:
            problems.append(Problem(number, column, str(error).replace("The amount ", "").rstrip(".")))
            money[column] = None
    progress = None
    if cells.get("progress"):
        text = cells["progress"].rstrip("%").strip()
        if text.isdigit() and 0 <= int(text) <= 100:
            progress = int(text)
        else:
            problems.append(Problem(number, "progress",
                                    f"{cells['progress'][:20]!r} is not a percentage from 0 to 100"))
    award = [c for c in ("award_amount", "award_contractor", "award_date") if cells.get(c)]
    if award and len(award) < 3:
        missing = [c for c in ("award_amount", "award_contractor", "award_date") if c not in award]
        problems += [Problem(number, c, "an award needs its amount, contractor and date") for c in missing]
    if (cells.get("milestone_planned") or cells.get("milestone_done")) and not cells.get("milestone"):
        problems.append(Problem(number, "milestone", "name the milestone the dates are for"))
    if len(cells.get("note", "")) > 4000:
        problems.append(Problem(number, "note", "a public note is at most 4,000 characters"))
    if len(cells.get("milestone", "")) > 200:
        problems.append(Problem(number, "milestone", "a milestone's name is at most 200 characters"))
    return Row(number, cells, dates, money, progress)


# -- against the projects ---------------------------------------------------------------------------

def _projects_by_reference(session: Session) -> tuple[dict[int, int], dict[str, list[int]]]:
    """Ballot item numbers (the proposal ids shown as #12) and titles of the projects being delivered."""
    numbers: dict[int, int] = {}
    titles: dict[str, list[int]] = {}
    for project, item in projects.projects(session=session):
        numbers[project.proposal_id] = project.proposal_id
        titles.setdefault(" ".join(item.title.lower().split()), []).append(project.proposal_id)
    return numbers, titles


def _resolve(row: Row, numbers: dict[int, int], titles: dict[str, list[int]]) -> int:
    text = row.cells["project"]
    digits = text.lstrip("#").strip()
    if digits.isdigit():
        if int(digits) in numbers:
            return numbers[int(digits)]
        raise DeliveryError(f"no project being delivered is ballot item #{digits}", field="project")
    found = titles.get(" ".join(text.lower().split()), [])
    if len(found) == 1:
        return found[0]
    if found:
        raise DeliveryError(f"{len(found)} projects are titled {text[:60]!r}; use the ballot item number "
                            f"({', '.join('#' + str(n) for n in found)})", field="project")
    raise DeliveryError(f"no project being delivered is titled {text[:60]!r}", field="project")


def _phase_key(text: str, configured: list[phases.Phase]) -> str:
    wanted = " ".join(text.lower().split())
    for p in configured:
        if wanted in (p.key, p.name.lower(), p.name_es.lower()):
            return p.key
    raise DeliveryError(f"{text[:40]!r} is not a phase; the phases are "
                        f"{', '.join(p.name for p in configured)}", field="phase")


def run(*, session: Session, settings: Settings, text: str, source: str, actor: User, dry_run: bool = False,
        today: date | None = None) -> Outcome:
    """Check the whole file, then apply it in one transaction (``dry_run``: check and report only) as
    ``actor``, the staff member the audit log records for every change. Raises ImportError_ listing
    every problem; nothing is written then."""
    today = today or date.today()
    rows = parse(text, today=today)
    if not vote.delivery_open(session=session):
        raise ImportError_([Problem(2, None, "delivery is not open: no passed vote is recorded")])
    numbers, titles = _projects_by_reference(session)
    configured = phases.all_phases(session=session)
    outcome = Outcome(len(rows))
    problems: list[Problem] = []
    notes: list[tuple[Row, int]] = []
    current = 2
    try:
        for row in rows:
            current = row.number
            try:
                with session.begin_nested():
                    proposal_id = _resolve(row, numbers, titles)
                    _apply(session, actor, row, proposal_id, configured, today, outcome)
                    if row.cells.get("note"):
                        notes.append((row, proposal_id))
            except DeliveryError as error:
                column = error.field if error.field in COLUMNS else FIELD_COLUMN.get(error.field or "")
                problems.append(Problem(row.number, column, str(error).rstrip(".")))
        posted: set[tuple[int, str]] = set()
        for row, proposal_id in notes:
            body = row.cells["note"]
            if (proposal_id, body) in posted or _has_update(session, proposal_id, body):
                continue
            posted.add((proposal_id, body))
            outcome.changes.append(f"row {row.number}: public note posted on #{proposal_id}; followers are e-mailed")
            if not dry_run and not problems:
                projects.post_update(session=session, settings=settings, actor=actor, proposal_id=proposal_id,
                                     body=body, commit=False)
        if problems:
            raise ImportError_(problems)
        if dry_run or not outcome.changes:
            session.rollback()
            return outcome
        audit.record(session=session, actor=actor, action="delivery.import", object_type="delivery_import",
                     object_id=source[:100], after={"source": source[:300], "rows": len(rows),
                                                    "changes": len(outcome.changes),
                                                    "sha256": hashlib.sha256(text.encode()).hexdigest()})
        session.commit()
        outcome.written = True
        return outcome
    except OperationalError as error:  # SQLite, a session begun deferred (the command's begins immediate)
        session.rollback()
        if not is_sqlite(session) or "locked" not in str(error):
            raise
        raise ImportError_([Problem(current, None, "delivery changed while this file was being applied (another "
                                    "import or a staff entry at the same moment); run it again")]) from error
    except BaseException:
        session.rollback()
        raise


def _has_update(session: Session, proposal_id: int, body: str) -> bool:
    return session.exec(select(DeliveryUpdate.id).join(DeliveryProject,
                                                       col(DeliveryProject.id) == DeliveryUpdate.project_id)
                        .where(DeliveryProject.proposal_id == proposal_id,
                               DeliveryUpdate.body == body.strip())).first() is not None


def _apply(session: Session, actor: User, row: Row, proposal_id: int, configured: list[phases.Phase],
           today: date, outcome: Outcome) -> None:
    """One row, through the same services as the staff pages (not committed)."""
    cells, where = row.cells, f"row {row.number}: #{proposal_id}"
    project = projects.locked(session, proposal_id)  # read spending to date only once it is ours
    if cells.get("phase"):
        key = _phase_key(cells["phase"], configured)
        if key != project.phase:
            if key == phases.COMPLETE:
                raise DeliveryError("completion updates the condition of the assets the project treated, so staff "
                                    f"confirm it on the project's page (/staff/delivery/{proposal_id})",
                                    field="phase")
            projects.move_phase(session=session, actor=actor, proposal_id=proposal_id, to=key,
                                on=row.dates["phase_on"] or today, commit=False)
            outcome.changes.append(f"{where} moved to {phases.label(configured, key)}")
    spent = row.money["spent_to_date"]
    if spent is not None:
        now = projects.spent_cents(session=session, project_id=project.id or 0)
        if spent < now:
            raise DeliveryError(f"spending to date cannot go down: {money(now)} is recorded already",
                                field="amount")
        if spent > now:
            projects.add_spending(session=session, actor=actor, proposal_id=proposal_id,
                                  spent_on=row.dates["spent_as_of"] or today, amount_cents=spent - now,
                                  description="Spending to date, from the public-works department's file",
                                  reason=cells.get("reason", ""), today=today, commit=False)
            outcome.changes.append(f"{where} spending to date {money(now)} → {money(spent)}")
    if cells.get("award_amount"):
        _award(session, actor, row, proposal_id, project, today, outcome, where)
    if cells.get("milestone"):
        _milestone(session, actor, row, proposal_id, project, today, outcome, where)
    if row.progress is not None:
        session.flush()
        view = projects.project_delivery(session=session, proposal_id=proposal_id, today=today)
        if view.progress != row.progress:
            outcome.warnings.append(f"row {row.number}, column progress: the file says {row.progress} %, Groundwork "
                                    f"computes {view.progress} % from the milestones and phase; the computed figure "
                                    "is the one shown")


def _award(session: Session, actor: User, row: Row, proposal_id: int, project: DeliveryProject,
           today: date, outcome: Outcome, where: str) -> None:
    amount, on, contractor = row.money["award_amount"], row.dates["award_date"], row.cells["award_contractor"]
    have = session.exec(select(DeliveryAward).where(DeliveryAward.project_id == project.id,
                                                    DeliveryAward.awarded_on == on,
                                                    DeliveryAward.amount_cents == amount)).all()
    if any(a.contractor.lower() == " ".join(contractor.split()).lower() for a in have):
        return
    projects.add_award(session=session, actor=actor, proposal_id=proposal_id, awarded_on=on, amount_cents=amount,
                       contractor=contractor, reason=row.cells.get("reason", ""), today=today, commit=False)
    outcome.changes.append(f"{where} contract awarded to {contractor}: {money(amount)}")


def _milestone(session: Session, actor: User, row: Row, proposal_id: int, project: DeliveryProject,
               today: date, outcome: Outcome, where: str) -> None:
    title = " ".join(row.cells["milestone"].split())
    planned, done = row.dates["milestone_planned"], row.dates["milestone_done"]
    milestone = next((m for m in session.exec(select(DeliveryMilestone)
                                              .where(DeliveryMilestone.project_id == project.id))
                      if m.title.lower() == title.lower()), None)
    if milestone is None:
        milestone = projects.add_milestone(session=session, actor=actor, proposal_id=proposal_id, title=title,
                                           planned_on=planned, commit=False)
        outcome.changes.append(f"{where} milestone added: {title}")
    elif planned and milestone.planned_on != planned:
        projects.replan_milestone(session=session, actor=actor, proposal_id=proposal_id,
                                  milestone_id=milestone.id or 0, planned_on=planned, commit=False)
        outcome.changes.append(f"{where} milestone {title!r} now planned for {planned.isoformat()}")
    if done and milestone.done_on != done:
        if milestone.done_on:
            raise DeliveryError(f"{title!r} was recorded as reached on {milestone.done_on.isoformat()}",
                                field="done_on")
        projects.milestone_done(session=session, actor=actor, proposal_id=proposal_id,
                                milestone_id=milestone.id or 0, done_on=done, today=today, commit=False)
        outcome.changes.append(f"{where} milestone {title!r} reached {done.isoformat()}")
