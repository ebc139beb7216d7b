"""The referendum's result: staff record it (audited); delivery opens only when it passed.

One row: a correction replaces it, and the audit log keeps what it said before. Recording a passed
result opens a delivery project for every item of the current ballot list (``projects.open_projects``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from app import audit
from app.delivery import DeliveryError
from app.i18n import gettext as _
from app.scenarios import publish
from models.accounts import User
from models.delivery import VoteResult

MAX_VOTES = 100_000_000


@dataclass(frozen=True)
class ResultView:
    """What /ballot and the home page show."""

    held_on: date
    passed: bool
    yes_votes: int
    no_votes: int
    source_url: str
    list_version: int

    @property
    def total(self) -> int:
        return self.yes_votes + self.no_votes

    @property
    def yes_share(self) -> float:
        return self.yes_votes / self.total if self.total else 0.0


def current(*, session: Session) -> VoteResult | None:
    return session.exec(select(VoteResult)).first()


def result_view(*, session: Session) -> ResultView | None:
    row = current(session=session)
    if row is None:
        return None
    return ResultView(row.held_on, row.passed, row.yes_votes, row.no_votes, row.source_url, row.list_version)


def delivery_open(*, session: Session) -> bool:
    row = current(session=session)
    return bool(row and row.passed)


def _validate(held_on: date | None, yes_votes: int | None, no_votes: int | None, source_url: str,
              today: date) -> list[tuple[str, str]]:
    problems = []
    if held_on is None:
        problems.append(("held_on", _("Give the date of the vote.")))
    elif held_on > today:
        problems.append(("held_on", _("The vote's date is in the future; record the result once it is counted.")))
    for name, value in (("yes_votes", yes_votes), ("no_votes", no_votes)):
        if value is None or value < 0 or value > MAX_VOTES:
            problems.append((name, _("Give the number of votes as a whole number, 0 or more.")))
    if yes_votes is not None and no_votes is not None and yes_votes + no_votes == 0:
        problems.append(("yes_votes", _("A vote with no votes cast cannot be recorded.")))
    if source_url and not source_url.startswith(("https://", "http://")):
        problems.append(("source_url", _("The source must be a web address starting with https://.")))
    return problems


def record(*, session: Session, actor: User, held_on: date | None, yes_votes: int | None, no_votes: int | None,
           source_url: str = "", today: date | None = None) -> VoteResult:
    """Record (or correct) the result. Passed when yes votes are a majority. Opens delivery when it passed."""
    from app.delivery import projects  # here: projects reads the result too

    source_url = source_url.strip()
    problems = _validate(held_on, yes_votes, no_votes, source_url, today or date.today())
    published = publish.latest(session=session)
    if published is None:
        problems.insert(0, ("held_on", _("No ballot list is published, so there was nothing to vote on.")))
    if problems:
        field, message = problems[0]
        raise DeliveryError(" ".join(m for _f, m in problems), field=field)
    assert held_on is not None and yes_votes is not None and no_votes is not None and published is not None
    row = current(session=session)
    before = None
    if row is None:
        row = VoteResult(held_on=held_on, passed=False, yes_votes=0, no_votes=0, list_version=published.version)
    else:
        before = {"held_on": row.held_on.isoformat(), "passed": row.passed, "yes": row.yes_votes,
                  "no": row.no_votes, "source_url": row.source_url}
    row.held_on, row.yes_votes, row.no_votes, row.source_url = held_on, yes_votes, no_votes, source_url
    row.passed = yes_votes > no_votes
    row.list_version = published.version
    row.recorded_by_id = actor.id
    session.add(row)
    session.flush()
    if row.passed:
        projects.open_projects(session=session)
    audit.record(session=session, actor=actor, action="vote.record", object_type="vote_result", object_id=row.id,
                 before=before, after={"held_on": held_on.isoformat(), "passed": row.passed, "yes": yes_votes,
                                       "no": no_votes, "source_url": source_url,
                                       "list_version": published.version})
    session.commit()
    return row
