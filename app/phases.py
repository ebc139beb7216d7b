"""The program's phase timeline for residents (home page and /proposals): drafting → accepting
proposals → staff review → whittling → published → vote, with the program's dates, the phase of
today marked, as CONSUL and Decidim show theirs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from app import program as programs
from models.program import PhaseKey


def _(text: str) -> str:
    """Marks labels for the translation catalogue; the template translates them."""
    return text


LABELS = {
    PhaseKey.drafting: _("Groups draft proposals"),
    PhaseKey.accepting_proposals: _("Proposals accepted"),
    PhaseKey.staff_review: _("Staff review"),
    PhaseKey.whittling: _("Whittling to the budget"),
    PhaseKey.published: _("Ballot list published"),
    PhaseKey.vote: _("Vote"),
}


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    starts_on: date | None
    ends_on: date | None
    when: str  # "done", "now" or "next"


def timeline(*, session: Session, today: date | None = None) -> list[Step]:
    """Every phase in order with its dates (None where the program sets none); empty without a program."""
    view = programs.program_view(session=session)
    if view is None:
        return []
    today = today or date.today()
    dated = {phase.key: phase for phase in view.phases}
    steps = []
    for key in PhaseKey:
        phase = dated.get(key)
        if phase is None:
            when = "next"
        elif phase.ends_on < today:
            when = "done"
        elif phase.starts_on <= today:
            when = "now"
        else:
            when = "next"
        steps.append(Step(key.value, LABELS[key], phase.starts_on if phase else None,
                          phase.ends_on if phase else None, when))
    return steps
