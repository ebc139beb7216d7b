"""The program's collection years, which the plan's scenarios, the cash flow and the scenarios'
schedules share: from the year after the vote (else this year), for the program's years, with the
expected revenue collected over them."""

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
    """The collection years: from the year after the vote (else this year), for the program's years."""
    view = programs.program_view(session=session)
    first = (today or date.today()).year
    if view is None:
        return PlanYears(first, 5, 0)
    vote = next((p for p in view.phases if p.key == "vote"), None)
    if vote is not None:
        first = vote.ends_on.year + 1
    return PlanYears(first, view.program.collection_years, view.program.expected_revenue_cents)
