"""Program delivery at a glance: projects by phase, on time or late, progress and spending against
the published estimates by category and district, and the ballot projects as GeoJSON coloured by
phase (their geometry as published: the ballot item's snapshot)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from app import program as programs
from app.delivery import conditions, projects
from app.i18n import gettext as _
from models.delivery import DeliveryMilestone, DeliveryPhaseDates, DeliverySpending

PHASE_COLOURS = {"design": "#7b3294", "procurement": "#c2a5cf", "construction": "#e66101", "complete": "#1a9641"}


@dataclass
class Group:
    label: str
    projects: int = 0
    estimate_cents: int = 0
    spent_cents: int = 0
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

    @property
    def over(self) -> bool:
        return self.spent_cents > self.estimate.high_cents


@dataclass(frozen=True)
class Overview:
    rows: list[Row]
    by_phase: list[tuple[str, str, int, str]]  # key, label, count, colour
    by_category: list[Group]
    by_district: list[Group]
    late: int
    estimate_cents: int
    spent_cents: int
    features: dict[str, Any] = field(default_factory=dict)

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
    features = []
    for project, item in pairs:
        mine = milestones.get(project.id or 0, [])
        late, _phases = projects._late(project.phase, dates.get(project.id or 0, []), mine, today)
        row = Row(item.proposal_id, item.title, project.phase, projects.phase_label(project.phase),
                  projects.progress_of(project.phase, mine), bool(late), projects.estimate_of(item),
                  int(spent.get(project.id or 0, 0) or 0))
        rows.append(row)
        for groups, label in ((categories, names.get(item.category_key or "", item.category_key or "—")),
                              (districts, item.district or _("Citywide"))):
            g = groups.setdefault(label, Group(label))
            g.projects += 1
            g.estimate_cents += row.estimate.cost_cents
            g.spent_cents += row.spent_cents
            g.progress_sum += row.progress
            g.complete += row.phase == "complete"
        features += _features(item.snapshot, row)
    counts = {key: sum(1 for r in rows if r.phase == key) for key in PHASE_COLOURS}
    return Overview(rows, [(k, projects.phase_label(k), counts[k], PHASE_COLOURS[k]) for k in PHASE_COLOURS],
                    sorted(categories.values(), key=lambda g: g.label),
                    sorted(districts.values(), key=lambda g: g.label), sum(1 for r in rows if r.late),
                    sum(r.estimate.cost_cents for r in rows), sum(r.spent_cents for r in rows),
                    {"type": "FeatureCollection", "features": features})


def _features(snapshot: dict[str, Any] | None, row: Row) -> list[dict[str, Any]]:
    properties = {"proposal_id": row.proposal_id, "title": row.title, "phase": row.phase,
                  "phase_label": row.phase_label, "progress": row.progress, "colour": PHASE_COLOURS[row.phase]}
    geometries = [a["geometry"] for a in conditions.treated_assets(snapshot) if a.get("geometry")]
    drawn = ((snapshot or {}).get("proposal") or {}).get("geometry")
    if not geometries and drawn:
        geometries = [drawn]
    return [{"type": "Feature", "geometry": g, "properties": properties} for g in geometries]
