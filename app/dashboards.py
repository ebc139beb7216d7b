"""Dashboards in three tiers, because different people need different detail.

- operational: asset-level lists for one district (or the city) — every segment in the worst
  pavement bands, every streetlight out or reported, every sidewalk gap — each linked to the map;
- management: aggregates by district and category — pavement miles by band, proposals and their
  cost by category and by district;
- leadership: a few headline figures — network PCI, miles poor or worse, proposals submitted
  (with their trend by month), total proposed against the program's budget.

The condition numbers come from ``app.layers.summary`` (the map's summary panel), so the map and
the dashboards never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, func, select

from app import program as programs
from app.layers import district_names
from app.layers.legend import worst_bands
from app.layers.summary import CITY, METRES_PER_MILE, AreaSummary, MapSummary, map_summary
from app.proposals.public import PUBLIC_STATES, CategoryChip, category_chips
from models.layers import PavementSegment, SidewalkSegment, Streetlight
from models.proposals import Proposal

if TYPE_CHECKING:
    from app.delivery.revenue import RevenueView

LIST_LIMIT = 500
POOR_FROM = "poor"  # "poor or worse": this band and every band below it
LIGHTS_NEEDING_WORK = ("out", "reported")


class DashboardError(ValueError):
    pass


@dataclass(frozen=True)
class SegmentRow:
    id: int
    street: str
    limits: str
    pci: float | None
    band: str
    length_mi: float


@dataclass(frozen=True)
class LightRow:
    id: int
    pole: str
    status: str
    lamp: str


@dataclass(frozen=True)
class GapRow:
    id: int
    street: str
    length_ft: float


@dataclass
class Operational:
    area_key: str
    area_name: str
    areas: list[tuple[str, str]]
    bands: list[str]  # labels of the bands listed
    segments: list[SegmentRow]
    segments_total: int
    lights: list[LightRow]
    lights_total: int
    gaps: list[GapRow]
    gaps_total: int
    limit: int = LIST_LIMIT


def _district_filter(summary: MapSummary, area: str | None) -> tuple[AreaSummary, int | None]:
    chosen = summary.area(area)
    if chosen is None:
        raise DashboardError("There is no such district.")
    if chosen.key == CITY:
        return chosen, None
    return chosen, (-1 if not chosen.key.isdigit() else int(chosen.key))


def _where_district(column: Any, district_id: int | None) -> list[Any]:
    if district_id is None:
        return []
    if district_id == -1:  # outside every district
        return [col(column).is_(None)]
    return [col(column) == district_id]


def operational(*, session: Session, area: str | None = None) -> Operational:
    summary = map_summary(session=session)
    chosen, district_id = _district_filter(summary, area)
    worst = worst_bands(summary.scheme)
    labels = {b.key: b.label for b in summary.scheme.bands}
    seg_where: list[Any] = [col(PavementSegment.band).in_(worst),
                            *_where_district(PavementSegment.district_id, district_id)]
    segments = [SegmentRow(s.id or 0, s.street_name or "Unnamed street",
                           " – ".join(x for x in (s.from_street, s.to_street) if x), s.pci,
                           labels.get(s.band or "", s.band or ""), s.length_m / METRES_PER_MILE)
                for s in session.exec(select(PavementSegment).where(*seg_where)
                                      .order_by(col(PavementSegment.pci), col(PavementSegment.id)).limit(LIST_LIMIT))]
    seg_total = session.exec(select(func.count()).select_from(PavementSegment).where(*seg_where)).one()
    light_where: list[Any] = [col(Streetlight.status).in_(LIGHTS_NEEDING_WORK),
                   *_where_district(Streetlight.district_id, district_id)]
    lights = [LightRow(r.id or 0, r.pole_id or f"#{r.id}", r.status, r.lamp_type or "")
              for r in session.exec(select(Streetlight).where(*light_where)
                                    .order_by(col(Streetlight.status), col(Streetlight.id)).limit(LIST_LIMIT))]
    light_total = session.exec(select(func.count()).select_from(Streetlight).where(*light_where)).one()
    gap_where: list[Any] = [col(SidewalkSegment.is_gap).is_(True),
                            *_where_district(SidewalkSegment.district_id, district_id)]
    gaps = [GapRow(r.id or 0, r.street_name or "Unnamed street", r.length_m / 0.3048)
            for r in session.exec(select(SidewalkSegment).where(*gap_where)
                                  .order_by(col(SidewalkSegment.length_m).desc(), col(SidewalkSegment.id))
                                  .limit(LIST_LIMIT))]
    gap_total = session.exec(select(func.count()).select_from(SidewalkSegment).where(*gap_where)).one()
    listed = [b.label for b in summary.scheme.bands if b.key in worst]
    return Operational(chosen.key, chosen.name, summary.areas, listed, segments, int(seg_total), lights,
                       int(light_total), gaps, int(gap_total))


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    colour_class: str = "bar--other"


@dataclass(frozen=True)
class CategoryTotal:
    category: CategoryChip
    count: int
    cents: int


@dataclass(frozen=True)
class DistrictTotal:
    name: str
    count: int
    cents: int
    pavement_miles: float
    poor_miles: float
    average_pci: float | None


@dataclass
class Management:
    summary: MapSummary
    poor_keys: list[str]
    by_category: list[CategoryTotal]
    by_district: list[DistrictTotal]
    total_count: int = 0
    total_cents: int = 0


def _poor_keys(summary: MapSummary) -> list[str]:
    keys = summary.scheme.keys()
    start = keys.index(POOR_FROM) if POOR_FROM in keys else len(keys) - 1
    return keys[start:]


def _poor_miles(area: AreaSummary, poor: list[str]) -> float:
    return sum(b.miles for b in area.bands if b.key in poor)


def _proposal_totals(session: Session) -> list[tuple[str | None, int | None, int, int]]:
    cost = func.coalesce(Proposal.override_cents, Proposal.estimate_total_cents, 0)
    query = (select(Proposal.category_key, Proposal.district_id, func.count(), func.sum(cost))
             .where(col(Proposal.state).in_(PUBLIC_STATES))
             .group_by(col(Proposal.category_key), col(Proposal.district_id)))
    return [(c, d, int(n), int(s or 0)) for c, d, n, s in session.exec(query)]


def management(*, session: Session) -> Management:
    summary = map_summary(session=session)
    poor = _poor_keys(summary)
    chips = category_chips(session=session)
    totals = _proposal_totals(session)
    per_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_district: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    for category, district_id, n, cents in totals:
        per_category[category or ""][0] += n
        per_category[category or ""][1] += cents
        per_district[district_id][0] += n
        per_district[district_id][1] += cents
    by_category = [CategoryTotal(chip, *per_category.get(key, [0, 0])) for key, chip in chips.items()]
    for key in per_category:
        if key not in chips:
            by_category.append(CategoryTotal(CategoryChip(key, key or "Uncategorised", "#5c5c5c"),
                                             *per_category[key]))
    names = district_names.by_id(session=session)
    by_district = []
    for area in summary.districts:
        d_id: int | None = int(area.key) if area.key.isdigit() else None
        count, cents = per_district.get(d_id, [0, 0])
        by_district.append(DistrictTotal(area.name if d_id is None else names.get(d_id, area.name), count, cents,
                                         area.pavement_miles, _poor_miles(area, poor), area.average_pci))
    return Management(summary, poor, by_category, by_district, sum(c.count for c in by_category),
                      sum(c.cents for c in by_category))


@dataclass(frozen=True)
class MonthCount:
    month: str  # YYYY-MM
    count: int


@dataclass
class Leadership:
    network_pci: float | None
    pavement_miles: float
    poor_miles: float
    proposals_submitted: int
    proposed_cents: int
    budget_cents: int | None
    revenue_cents: int | None
    program_name: str | None
    by_month: list[MonthCount] = field(default_factory=list)

    @property
    def poor_share(self) -> float | None:
        return self.poor_miles / self.pavement_miles if self.pavement_miles else None

    @property
    def proposed_share(self) -> float | None:
        return self.proposed_cents / self.budget_cents if self.budget_cents else None


def leadership(*, session: Session) -> Leadership:
    summary = map_summary(session=session)
    poor = _poor_keys(summary)
    count, cents = session.exec(select(func.count(), func.sum(func.coalesce(
        Proposal.override_cents, Proposal.estimate_total_cents, 0))).where(
        col(Proposal.state).in_(PUBLIC_STATES))).one()
    months: dict[str, int] = defaultdict(int)
    for submitted_at in session.exec(select(Proposal.submitted_at).where(
            col(Proposal.state).in_(PUBLIC_STATES), col(Proposal.submitted_at).is_not(None))):
        if submitted_at is not None:
            months[submitted_at.strftime("%Y-%m")] += 1
    view = programs.program_view(session=session)
    return Leadership(
        network_pci=summary.city.average_pci, pavement_miles=summary.city.pavement_miles,
        poor_miles=_poor_miles(summary.city, poor), proposals_submitted=int(count), proposed_cents=int(cents or 0),
        budget_cents=view.budget_cents if view else None,
        revenue_cents=view.program.expected_revenue_cents if view else None,
        program_name=view.program.name if view else None,
        by_month=[MonthCount(m, n) for m, n in sorted(months.items())])


def delivery_revenue(*, session: Session) -> RevenueView | None:
    """Revenue collected against the forecast, once delivery is open or a year is entered (else None)."""
    from app.delivery import revenue, vote  # here: delivery reads the program and the published list

    view = revenue.revenue_view(session=session)
    return view if view.entered or vote.delivery_open(session=session) else None
