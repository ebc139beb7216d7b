"""The program's figures a published list is shown against — expected revenue, collection years,
program-management share and the tiers funded only from revenue above the forecast — kept in the
list's export (``budget``) when it is published or amended.

Every public view of a published list (its cash flow, the pavement plan with the same money,
delivery's revenue against the forecast) reads them from there, so editing the program afterwards
leaves what residents see of the list as published; the next version takes the program as it is
then. A list published before the figures were kept is shown against the program as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlmodel import Session

from app import program as programs
from app.pavement_plan.years import PlanYears, plan_years
from models.triage import PublishedList


@dataclass(frozen=True)
class Budget:
    revenue_cents: int
    collection_years: int
    management_bps: int
    later_tiers: list[int]  # funded only from revenue above the forecast


def to_publish(*, session: Session) -> dict[str, Any]:
    """The program's figures now, for the export of the version being published (integers only)."""
    view = programs.program_view(session=session)
    if view is None:
        return {}
    return {"expected_revenue_cents": view.program.expected_revenue_cents,
            "collection_years": view.program.collection_years,
            "program_management_bps": view.program.program_management_bps,
            "tiers": [{"number": t.number, "share_bps": t.share_bps,
                       "funded_only_if_revenue_exceeds": t.funded_only_if_revenue_exceeds} for t in view.tiers]}


def of(*, session: Session, published: PublishedList) -> Budget:
    from app.scenarios.publish import parsed  # here: publish writes the figures with this module

    kept = parsed(published).get("budget") or to_publish(session=session)
    return Budget(int(kept.get("expected_revenue_cents", 0)), int(kept.get("collection_years", 5)),
                  int(kept.get("program_management_bps", 0)),
                  sorted(int(t["number"]) for t in kept.get("tiers", []) if t.get("funded_only_if_revenue_exceeds")))


def years_of(*, session: Session, published: PublishedList) -> PlanYears:
    """The list's collection years and revenue as published; they start the year after the vote
    (as recorded, else as planned), which is when collection starts whatever was published."""
    budget = of(session=session, published=published)
    return replace(plan_years(session=session), years=budget.collection_years, revenue_cents=budget.revenue_cents)
