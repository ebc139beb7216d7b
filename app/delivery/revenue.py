"""Revenue collected against the forecast, year by year, and which later-tier projects it now allows.

Staff enter what the tax brought in each year (integer cents); saving a year again corrects it,
and the audit log (``revenue.collection``) keeps what it said before. The forecast is the one the
pavement plan's cash flow uses: the program's expected revenue in equal shares over its collection
years (``pavement_plan.service.plan_years``), from the year after the vote — the vote as recorded
once it is, else the program's vote phase. Once a list is published, the expected revenue, the
collection years, the program-management share and the later tiers are the program's as that
version was published (app.scenarios.budget): editing the program does not move them.

The program's rule for Tier 2 (PRODUCT.md: "Tier 1 funded from expected revenue, Tier 2 only if
revenue exceeds forecast"; a tier marked *funded only if revenue exceeds the forecast*): the money
for those projects is the **surplus** — revenue collected so far less the forecast for the same
years, less the program-management share (the budget is always revenue less that share). Its
projects go ahead in the ballot list's order (tier, then highest score first) while the surplus
covers their published cost; the first that does not fit waits, and those after it wait too, so
no project jumps the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app import audit
from app import program as programs
from app.delivery import DeliveryError
from app.i18n import gettext as _
from app.pavement_plan.cashflow import revenue_by_year
from app.pavement_plan.years import PlanYears, plan_years
from app.scenarios import budget, publish
from models.accounts import User
from models.delivery import RevenueCollection

MAX_YEAR_CENTS = 10**14  # a trillion dollars in one year: a typo
FIRST_YEAR = 1990


@dataclass(frozen=True)
class RevenueYear:
    year: int
    forecast_cents: int
    collected_cents: int | None  # None: not entered yet
    note: str = ""

    @property
    def difference_cents(self) -> int | None:
        return None if self.collected_cents is None else self.collected_cents - self.forecast_cents


@dataclass(frozen=True)
class LaterTierProject:
    proposal_id: int
    title: str
    tier: int
    cost_cents: int
    allowed: bool
    short_cents: int  # how much more surplus it needs (0 when allowed)


@dataclass(frozen=True)
class RevenueView:
    years: list[RevenueYear]
    forecast_cents: int  # the whole collection period
    collected_cents: int
    forecast_to_date_cents: int  # the forecast of the years with a collection entered
    management_bps: int
    later_tiers: list[int]  # the tiers funded only from revenue above the forecast
    projects: list[LaterTierProject]

    @property
    def entered(self) -> bool:
        return any(y.collected_cents is not None for y in self.years)

    @property
    def surplus_cents(self) -> int:
        """Collected so far less the forecast for the same years (negative: behind the forecast)."""
        return self.collected_cents - self.forecast_to_date_cents

    @property
    def available_cents(self) -> int:
        """The surplus less the program-management share: what later tiers may spend."""
        return max(0, programs.budget_cents(self.surplus_cents, self.management_bps)) if self.surplus_cents > 0 else 0

    @property
    def allowed(self) -> list[LaterTierProject]:
        return [p for p in self.projects if p.allowed]

    @property
    def chart_top_cents(self) -> int:
        return max([y.forecast_cents for y in self.years] + [y.collected_cents or 0 for y in self.years] + [0])


def collections(*, session: Session) -> list[RevenueCollection]:
    return list(session.exec(select(RevenueCollection).order_by(col(RevenueCollection.year))))


def record(*, session: Session, actor: User | None, year: int | None, amount_cents: int | None, note: str = "",
           today: date | None = None) -> RevenueCollection:
    """Enter (or correct) the revenue collected in ``year``."""
    today = today or date.today()
    note = " ".join(note.split())[:500]
    if year is None or not FIRST_YEAR <= year <= today.year:
        raise DeliveryError(_("Give the year as four digits, {first} to {last} (not a future year).").format(
            first=FIRST_YEAR, last=today.year), field="year")
    if amount_cents is None or not 0 <= amount_cents <= MAX_YEAR_CENTS:
        raise DeliveryError(_("Give the amount collected in dollars (zero or more)."), field="collected")
    row = session.exec(select(RevenueCollection).where(RevenueCollection.year == year)).first()
    before = None
    if row is None:
        row = RevenueCollection(year=year, amount_cents=amount_cents)
    else:
        before = {"year": year, "amount_cents": row.amount_cents, "note": row.note}
        if row.amount_cents == amount_cents and row.note == note:
            return row  # nothing changed: nothing to record
    row.amount_cents, row.note = amount_cents, note
    row.recorded_by_id = actor.id if actor else None
    session.add(row)
    session.flush()
    audit.record(session=session, actor=actor, action="revenue.collection", object_type="revenue_collection",
                 object_id=year, before=before, after={"year": year, "amount_cents": amount_cents, "note": note})
    session.commit()
    return row


def _figures(session: Session) -> tuple[PlanYears, int, list[int]]:
    """The collection years with the expected revenue, the program-management share and the later
    tiers: as the current list was published, else the program's."""
    published = publish.latest(session=session)
    if published is not None:
        kept = budget.of(session=session, published=published)
        return budget.years_of(session=session, published=published), kept.management_bps, kept.later_tiers
    view = programs.program_view(session=session)
    return (plan_years(session=session), view.program.program_management_bps if view else 0,
            sorted(t.number for t in view.tiers if t.funded_only_if_revenue_exceeds) if view else [])


def revenue_view(*, session: Session) -> RevenueView:
    collection, bps, later = _figures(session)
    total = max(0, collection.revenue_cents)
    forecast = revenue_by_year(total, collection.first_year, collection.years) if total else {}
    entered = {c.year: c for c in collections(session=session)}
    years = [RevenueYear(y, forecast.get(y, 0), entered[y].amount_cents if y in entered else None,
                         entered[y].note if y in entered else "") for y in sorted(set(forecast) | set(entered))]
    collected = sum(c.amount_cents for c in entered.values())
    to_date = sum(forecast.get(y, 0) for y in entered)
    partial = RevenueView(years, total, collected, to_date, bps, later, [])
    return RevenueView(years, total, collected, to_date, bps, later, _later_projects(session, later,
                                                                                      partial.available_cents))


def _later_projects(session: Session, tiers: list[int], available: int) -> list[LaterTierProject]:
    published = publish.latest(session=session)
    if published is None or not tiers:
        return []
    items = sorted((i for i in publish.items_of(session=session, published_id=published.id or 0) if i.tier in tiers),
                   key=lambda i: (i.tier, -i.score, i.proposal_id))
    rows, queued, waiting = [], 0, False
    for item in items:
        queued += item.cost_cents  # this project and every one before it in the queue
        fits = not waiting and queued <= available
        waiting = waiting or not fits
        rows.append(LaterTierProject(item.proposal_id, item.title, item.tier, item.cost_cents, fits,
                                     max(0, queued - available)))
    return rows
