"""Program delivery at a glance: projects by phase, on time or late, progress, spending and contract
awards against the published estimates by category, district and tier, and the ballot projects as
GeoJSON coloured by phase (their geometry as published: the ballot item's snapshot).

Phases are the ones staff configured (``phases``); each gets a colour: the default phases keep
theirs, an added phase takes the next free colour of the palette, *complete* is always green."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from app import program as programs
from app.delivery import conditions, phases, projects
from app.i18n import gettext as _
from models.delivery import DeliveryAward, DeliveryMilestone, DeliveryPhaseDates, DeliverySpending

# the colour slots (static/css/delivery.css .phase-dot--c0 …); complete is its own
PALETTE = ("#7b3294", "#c2a5cf", "#e66101", "#5e3c99", "#fdb863", "#b35806", "#998ec3", "#542788", "#f1a340",
           "#2d004b", "#8c510a")
COMPLETE_COLOUR = "#1a9641"
DEFAULT_SLOTS = {"design": 0, "procurement": 1, "construction": 2}


def phase_styles(configured: list[phases.Phase]) -> dict[str, tuple[str, str]]:
    """Each phase's dot class and colour."""
    styles: dict[str, tuple[str, str]] = {}
    used = {DEFAULT_SLOTS[p.key] for p in configured if p.key in DEFAULT_SLOTS}
    free = (n for n in range(len(PALETTE)) if n not in used)
    for p in configured:
        if p.is_complete:
            styles[p.key] = ("phase-dot--complete", COMPLETE_COLOUR)
            continue
        slot = DEFAULT_SLOTS[p.key] if p.key in DEFAULT_SLOTS else next(free, len(PALETTE) - 1)
        styles[p.key] = (f"phase-dot--c{slot}", PALETTE[slot])
    return styles


@dataclass
class Group:
    label: str
    projects: int = 0
    estimate_cents: int = 0
    spent_cents: int = 0
    awarded_cents: int = 0
    progress_sum: int = 0
    complete: int = 0

    @property
    def progress(self) -> int:
        return round(self.progress_sum / self.projects) if self.projects else 0

    @property
    def spent_share(self) -> float:
        return self.spent_cents / self.estimate_cents if self.estimate_cents else 0.0


@dataclass(frozen=True)
class Row:
    proposal_id: int
    title: str
    phase: str
    phase_label: str
    progress: int
    late: bool
    estimate: projects.Estimate
    spent_cents: int
    awarded_cents: int = 0
    tier: int = 1
    dot: str = ""

    @property
    def over(self) -> bool:
        return self.spent_cents > self.estimate.high_cents

    @property
    def award_over(self) -> bool:
        return self.awarded_cents > self.estimate.high_cents


@dataclass(frozen=True)
class Overview:
    rows: list[Row]
    by_phase: list[tuple[str, str, int, str]]  # key, label, count, dot class
    by_category: list[Group]
    by_district: list[Group]
    late: int
    estimate_cents: int
    spent_cents: int
    features: dict[str, Any] = field(default_factory=dict)
    by_tier: list[Group] = field(default_factory=list)
    awarded_cents: int = 0

    @property
    def on_time(self) -> int:
        return len(self.rows) - self.late


def overview(*, session: Session, today: date | None = None) -> Overview:
    today = today or date.today()
    pairs = projects.projects(session=session)
    ids = [p.id for p, _item in pairs]
    spent = dict(session.exec(select(DeliverySpending.project_id, func.sum(DeliverySpending.amount_cents))
                              .where(col(DeliverySpending.project_id).in_(ids))
                              .group_by(col(DeliverySpending.project_id))).all()) if ids else {}
    awarded = dict(session.exec(select(DeliveryAward.project_id, func.sum(DeliveryAward.amount_cents))
                                .where(col(DeliveryAward.project_id).in_(ids))
                                .group_by(col(DeliveryAward.project_id))).all()) if ids else {}
    configured = phases.all_phases(session=session)
    styles = phase_styles(configured)
    milestones: dict[int, list[DeliveryMilestone]] = {}
    dates: dict[int, list[DeliveryPhaseDates]] = {}
    if ids:
        for m in session.exec(select(DeliveryMilestone).where(col(DeliveryMilestone.project_id).in_(ids))):
            milestones.setdefault(m.project_id, []).append(m)
        for d in session.exec(select(DeliveryPhaseDates).where(col(DeliveryPhaseDates.project_id).in_(ids))):
            dates.setdefault(d.project_id, []).append(d)
    view = programs.program_view(session=session)
    names = programs.category_names(view)
    rows: list[Row] = []
    categories: dict[str, Group] = {}
    districts: dict[str, Group] = {}
    tiers: dict[int, Group] = {}
    features = []
    for project, item in pairs:
        mine = milestones.get(project.id or 0, [])
        late, _phases = projects._late(project.phase, dates.get(project.id or 0, []), mine, today, configured)
        row = Row(item.proposal_id, item.title, project.phase, projects.phase_label(project.phase, configured),
                  projects.progress_of(project.phase, mine, configured), bool(late), projects.estimate_of(item),
                  int(spent.get(project.id or 0, 0) or 0), int(awarded.get(project.id or 0, 0) or 0), item.tier,
                  styles.get(project.phase, ("", PALETTE[-1]))[0])
        rows.append(row)
        tier = tiers.setdefault(item.tier, Group(_("Tier {number}").format(number=item.tier)))
        for g in (categories.setdefault(label := names.get(item.category_key or "", item.category_key or "—"),
                                        Group(label)),
                  districts.setdefault(district := item.district or _("Citywide"), Group(district)), tier):
            g.projects += 1
            g.estimate_cents += row.estimate.cost_cents
            g.spent_cents += row.spent_cents
            g.awarded_cents += row.awarded_cents
            g.progress_sum += row.progress
            g.complete += row.phase == phases.COMPLETE
        features += _features(item.snapshot, row, styles)
    counts = {p.key: sum(1 for r in rows if r.phase == p.key) for p in configured}
    return Overview(rows, [(p.key, p.label, counts[p.key], styles[p.key][0]) for p in configured],
                    sorted(categories.values(), key=lambda g: g.label),
                    sorted(districts.values(), key=lambda g: g.label), sum(1 for r in rows if r.late),
                    sum(r.estimate.cost_cents for r in rows), sum(r.spent_cents for r in rows),
                    {"type": "FeatureCollection", "features": features},
                    [tiers[n] for n in sorted(tiers)], sum(r.awarded_cents for r in rows))


def _features(snapshot: dict[str, Any] | None, row: Row, styles: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    properties = {"proposal_id": row.proposal_id, "title": row.title, "phase": row.phase,
                  "phase_label": row.phase_label, "progress": row.progress,
                  "colour": styles.get(row.phase, ("", PALETTE[-1]))[1]}
    geometries = [a["geometry"] for a in conditions.treated_assets(snapshot) if a.get("geometry")]
    drawn = ((snapshot or {}).get("proposal") or {}).get("geometry")
    if not geometries and drawn:
        geometries = [drawn]
    return [{"type": "Feature", "geometry": g, "properties": properties} for g in geometries]
