"""The public record of each ballot project's delivery, for readers other than the pages: the
``delivery`` open dataset (/data), its OGC API collection, the /api/v1 read endpoints and the Atom
feeds of public updates all read it here, so they say the same thing as /projects.

One record per ballot project being delivered (none before a passed vote). The geometry is one
point on the project (on its treated assets as published, else on the shape its group drew), so
every format — CSV with longitude and latitude included — can carry it; the full shapes are on
/projects.geojson.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shapely.geometry import GeometryCollection, Point, shape
from shapely.geometry.base import BaseGeometry
from sqlmodel import Session, col, func, select

from app import program as programs
from app.delivery import conditions, projects, vote
from app.geometry import representative_point
from models.delivery import DeliveryProject, DeliveryUpdate
from models.layers import District

FEED_ENTRIES = 50  # the program-wide feed's newest updates


@dataclass(frozen=True)
class ProjectRecord:
    proposal_id: int
    title: str
    category: str | None
    category_name: str | None
    category_name_es: str | None
    district: str | None  # as published (English); None: citywide
    district_es: str | None
    tier: int
    phase: str
    progress: int
    late: bool
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    spent_cents: int
    awarded_cents: int  # contract awards to date: a commitment, never counted as spending
    estimate_cents: int
    estimate_low_cents: int
    estimate_high_cents: int
    last_update_on: date | None  # the newest public update
    updated_at: datetime  # the newest change of any kind
    point: Point | None

    def properties(self) -> dict[str, Any]:
        """The dataset's row (language-neutral: phase and category keys, names in both languages)."""
        return {name: getattr(self, name) for name in PROPERTY_NAMES}


PROPERTY_NAMES = ("proposal_id", "title", "category", "category_name", "category_name_es", "district",
                  "district_es", "tier", "phase", "progress", "late", "planned_start", "planned_end",
                  "actual_start", "actual_end", "spent_cents", "awarded_cents", "estimate_cents", "estimate_low_cents",
                  "estimate_high_cents", "last_update_on", "updated_at")


def _point(snapshot: dict[str, Any] | None) -> Point | None:
    shapes: list[BaseGeometry] = [shape(a["geometry"]) for a in conditions.treated_assets(snapshot)
                                  if a.get("geometry")]
    drawn = ((snapshot or {}).get("proposal") or {}).get("geometry")
    if not shapes and drawn:
        shapes = [shape(drawn)]
    if not shapes:
        return None
    point = representative_point(shapes[0] if len(shapes) == 1 else GeometryCollection(shapes))
    return Point(round(point.x, 7), round(point.y, 7))


def _names(session: Session) -> tuple[dict[str, tuple[str, str | None]], dict[str, str | None]]:
    view = programs.program_view(session=session)
    categories = {c.key: (c.name, c.name_es) for c in view.categories} if view else {}
    districts = {name: name_es for name, name_es in session.exec(select(District.name, District.name_es))}
    return categories, districts


def _record(session: Session, project: DeliveryProject, categories: dict[str, tuple[str, str | None]],
            districts: dict[str, str | None], today: date) -> ProjectRecord:
    d = projects.project_delivery(session=session, proposal_id=project.proposal_id, today=today)
    item = projects._item(session, project.proposal_id)
    planned_starts = [p.planned_start for p in d.phases if p.planned_start]
    planned_ends = [p.planned_end for p in d.phases if p.planned_end]
    actual_starts = [p.actual_start for p in d.phases if p.actual_start]
    category = categories.get(item.category_key or "")
    return ProjectRecord(
        proposal_id=project.proposal_id, title=item.title, category=item.category_key,
        category_name=category[0] if category else None, category_name_es=category[1] if category else None,
        district=item.district, district_es=districts.get(item.district) if item.district else None,
        tier=item.tier, phase=project.phase, progress=d.progress, late=bool(d.late),
        planned_start=min(planned_starts, default=None), planned_end=max(planned_ends, default=None),
        actual_start=min(actual_starts, default=None), actual_end=project.completed_on,
        spent_cents=d.spent_cents, awarded_cents=d.awarded_cents, estimate_cents=d.estimate.cost_cents,
        estimate_low_cents=d.estimate.low_cents,
        estimate_high_cents=d.estimate.high_cents, last_update_on=d.updates[0].at.date() if d.updates else None,
        updated_at=project.updated_at, point=_point(item.snapshot))


def records(*, session: Session, today: date | None = None) -> Iterator[ProjectRecord]:
    """Every ballot project being delivered, by tier then title."""
    categories, districts = _names(session)
    for project, _item in projects.projects(session=session):
        yield _record(session, project, categories, districts, today or date.today())


def record(*, session: Session, proposal_id: int, today: date | None = None) -> ProjectRecord:
    """One project's record (LookupError when it is not being delivered)."""
    project = projects._project(session, proposal_id)
    categories, districts = _names(session)
    return _record(session, project, categories, districts, today or date.today())


@dataclass(frozen=True)
class State:
    revision: int  # changes whenever any project does (every change bumps the project's version)
    count: int
    modified: datetime | None


def state(*, session: Session) -> State | None:
    """What is published now; None before a passed vote."""
    if not vote.delivery_open(session=session):
        return None
    count, versions = session.exec(select(func.count(), func.coalesce(func.sum(DeliveryProject.version), 0))).one()
    modified = session.exec(select(DeliveryProject.updated_at).order_by(col(DeliveryProject.updated_at).desc())
                            .limit(1)).first()
    return State(int(versions), int(count), modified)


# -- the feed of public updates -------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedEntry:
    update_id: int
    proposal_id: int
    project_title: str
    phase: str
    body: str
    at: datetime


def feed_entries(*, session: Session, proposal_id: int | None = None) -> list[FeedEntry]:
    """Public updates, newest first: one project's (LookupError when it is not being delivered), or
    the program's newest ``FEED_ENTRIES``."""
    if proposal_id is not None:
        projects._project(session, proposal_id)
    elif not vote.delivery_open(session=session):
        return []
    query = (select(DeliveryUpdate, DeliveryProject.proposal_id)
             .join(DeliveryProject, col(DeliveryProject.id) == DeliveryUpdate.project_id)
             .order_by(col(DeliveryUpdate.at).desc(), col(DeliveryUpdate.id).desc()))
    if proposal_id is not None:
        query = query.where(DeliveryProject.proposal_id == proposal_id)
    else:
        query = query.limit(FEED_ENTRIES)
    rows = list(session.exec(query))
    titles = {pid: projects._item(session, pid).title for pid in {pid for _u, pid in rows}}
    return [FeedEntry(update.id or 0, pid, titles[pid], update.phase, update.body, update.at)
            for update, pid in rows]
