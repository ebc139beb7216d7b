"""The program's collection years, which the plan's scenarios, the cash flow, the scenarios'
schedules and delivery's revenue forecast share: from the year after the vote (as recorded, else as
planned; else this year), for the program's years, with the expected revenue collected over them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from app import program as programs


@dataclass(frozen=True)
class PlanYears:
    first_year: int
    years: int
    revenue_cents: int

    @property
    def span(self) -> list[int]:
        return list(range(self.first_year, self.first_year + self.years))


def plan_years(*, session: Session, today: date | None = None) -> PlanYears:
    """The collection years — the only definition of them: from the year after the vote as recorded
    (else after the program's vote phase ends, else this year), for the program's years."""
    from app.delivery import vote as recorded  # here: delivery imports the plan's modules

    view = programs.program_view(session=session)
    first = (today or date.today()).year
    if view is None:
        return PlanYears(first, 5, 0)
    held = recorded.current(session=session)
    phase = next((p for p in view.phases if p.key == "vote"), None)
    if held is not None:
        first = held.held_on.year + 1
    elif phase is not None:
        first = phase.ends_on.year + 1
    return PlanYears(first, view.program.collection_years, view.program.expected_revenue_cents)
