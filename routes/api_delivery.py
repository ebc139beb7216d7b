"""Delivery of the ballot projects, read-only and public (/api/v1/delivery): every project's status,
and one project with its public timeline. The same records as the ``delivery`` dataset in /data.
Words (the timeline, phases in words, errors) are in the asker's language, as on the pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from app.delivery import projects, records
from app.deps import SessionDep
from app.i18n import gettext as _
from app.web import use_viewer_language, viewer_language

router = APIRouter(prefix="/api/v1/delivery", tags=["delivery"], dependencies=[Depends(use_viewer_language)])
PHASE = ("The delivery phase's key: design, procurement, construction or complete as first set up; staff may "
         "rename, reorder and add phases (an added one has a key of its own); complete is always the last.")
NOT_DELIVERED: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such ballot project is being delivered (or no vote has passed)."}}


class DeliveryProjectOut(BaseModel):
    proposal_id: int
    title: str
    category: str | None
    category_name: str | None
    category_name_es: str | None
    district: str | None = Field(description="The council district as published; null: citywide.")
    district_es: str | None
    tier: int
    phase: str = Field(description=PHASE)
    progress: int = Field(ge=0, le=100, description="Per cent done.")
    late: bool
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    spent_cents: int
    awarded_cents: int = Field(description="Contract awards to date, in cents: a commitment, not spending.")
    estimate_cents: int
    estimate_low_cents: int
    estimate_high_cents: int
    last_update_on: date | None
    updated_at: datetime
    point: dict[str, Any] | None = Field(description="GeoJSON Point on the project (WGS84).")
    page: str = Field(description="The project's public page (a path).")
    feed: str = Field(description="The Atom feed of the project's public updates (a path).")


class PhaseOut(BaseModel):
    phase: str
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None


class MilestoneOut(BaseModel):
    title: str
    planned_on: date | None
    done_on: date | None


class SpendingOut(BaseModel):
    spent_on: date
    amount_cents: int
    description: str
    reason: str = Field(description="Why spending went past the estimate's range (empty when it did not).")


class AwardOut(BaseModel):
    awarded_on: date
    amount_cents: int
    contractor: str = Field(description="Empty: not recorded (an award entered before contractors were).")
    description: str
    reason: str = Field(description="Why awards went past the estimate's range (empty when they did not).")


class PhotoOut(BaseModel):
    url: str
    alt_text: str
    width: int
    height: int


class UpdateOut(BaseModel):
    id: int
    at: datetime
    phase: str = Field(description="The phase the project was in, in words (in the language asked for).")
    body: str = Field(description="Raw text as staff typed it; escape it when you show it.")
    photos: list[PhotoOut]


class TimelineEntry(BaseModel):
    on: date
    text: str = Field(description="What happened, in words (in the language asked for: Accept-Language).")


class DeliveryProjectDetail(DeliveryProjectOut):
    phases: list[PhaseOut]
    milestones: list[MilestoneOut]
    spending: list[SpendingOut]
    awards: list[AwardOut] = Field(description="Contract awards, oldest first.")
    timeline: list[TimelineEntry] = Field(
        description="Phases begun, milestones reached, contract awards and spending, oldest first.")
    updates: list[UpdateOut] = Field(description="Public updates, newest first.")
    condition: list[dict[str, Any]] | None = Field(
        description="Once complete: each treated asset's condition before and after.")


def _out(record: records.ProjectRecord) -> dict[str, Any]:
    return {**record.properties(),
            "point": {"type": "Point", "coordinates": [record.point.x, record.point.y]} if record.point else None,
            "page": f"/projects/{record.proposal_id}", "feed": f"/projects/{record.proposal_id}/updates.atom"}


@router.get("/projects", response_model=list[DeliveryProjectOut], summary="Every ballot project being delivered")
def delivery_projects(session: SessionDep) -> list[DeliveryProjectOut]:
    return [DeliveryProjectOut(**_out(r)) for r in records.records(session=session)]


@router.get("/projects/{proposal_id}", response_model=DeliveryProjectDetail, responses=NOT_DELIVERED,
            summary="One ballot project's delivery, with its public timeline")
def delivery_project(proposal_id: int, session: SessionDep, request: Request,
                     response: Response) -> DeliveryProjectDetail:
    try:
        record = records.record(session=session, proposal_id=proposal_id)
        d = projects.project_delivery(session=session, proposal_id=proposal_id)
    except LookupError:
        raise HTTPException(404, _("This project is not being delivered.")) from None
    response.headers["Content-Language"] = viewer_language(request)
    response.headers["Vary"] = "Accept-Language, Cookie"  # the words follow the cookie and account too
    applied = [a for a in (d.completed or {}).get("assets", []) if a.get("applied")]
    return DeliveryProjectDetail(
        **_out(record),
        phases=[PhaseOut(phase=p.key, planned_start=p.planned_start, planned_end=p.planned_end,
                         actual_start=p.actual_start, actual_end=p.actual_end) for p in d.phases],
        milestones=[MilestoneOut(title=m.title, planned_on=m.planned_on, done_on=m.done_on) for m in d.milestones],
        spending=[SpendingOut(spent_on=s.spent_on, amount_cents=s.amount_cents, description=s.description,
                              reason=s.reason) for s in d.spending],
        awards=[AwardOut(awarded_on=a.awarded_on, amount_cents=a.amount_cents, contractor=a.contractor,
                         description=a.description, reason=a.reason) for a in d.awards],
        timeline=[TimelineEntry(on=on, text=text) for on, text in d.timeline],
        updates=[UpdateOut(id=u.id, at=u.at, phase=u.phase_label, body=u.body,
                           photos=[PhotoOut(url=f"/projects/photos/{p.stored_name}", alt_text=p.alt_text,
                                            width=p.width, height=p.height) for p in u.photos])
                 for u in d.updates],
        condition=[{k: a.get(k) for k in ("layer", "label", "treatment", "before", "after")} for a in applied]
        if d.completed else None)
