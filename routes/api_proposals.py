"""JSON API for groups, their proposals, lists and estimates (/api/v1).

Writes carry the proposal's ``version``; a stale one answers 409 with who changed it and when.
Someone else's group or proposal answers 404, exactly like a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from app import groups
from app.deps import CurrentUser, SessionDep
from app.groups import GroupError, GroupNotFound
from app.proposals import ProposalError, ProposalNotFound, VersionConflict, editor, lists, states
from app.proposals.editor import ProposalInput
from app.proposals.selection import AssetKey, geometry_geojson, parse_asset_keys
from models.proposals import Proposal

router = APIRouter(prefix="/api/v1", tags=["groups and proposals"])


class GroupOut(BaseModel):
    id: int
    name: str
    description: str
    role: str
    member_count: int


class GroupIn(BaseModel):
    name: str = Field(max_length=400)
    description: str = Field(default="", max_length=8000)


class ProposalIn(BaseModel):
    title: str = Field(max_length=1000)
    description: str = Field(default="", max_length=20_000)
    category_key: str | None = Field(default=None, max_length=100)
    scheduled_year: int | None = None
    geometry: dict[str, Any] | None = Field(default=None, description="GeoJSON Point, LineString or Polygon (WGS84).")
    assets: list[str] = Field(default_factory=list, description='Selected assets as "layer:id", e.g. "pavement:12".')
    override_cents: int | None = None
    override_reason: str | None = Field(default=None, max_length=4000)
    alternate_of_id: int | None = None


class ProposalUpdate(ProposalIn):
    version: int = Field(description="The version you loaded; a newer one on the server answers 409.")


class ProposalOut(BaseModel):
    id: int
    group_id: int
    title: str
    description: str = Field(description="Raw text as typed; escape it when you show it.")
    category_key: str | None
    scheduled_year: int | None
    state: str
    version: int
    position: int
    geometry: dict[str, Any] | None
    assets: list[str]
    district_id: int | None
    alternate_of_id: int | None
    estimate_total_cents: int | None
    estimate_low_cents: int | None
    estimate_high_cents: int | None
    estimate_catalog_version_id: int | None
    override_cents: int | None
    override_reason: str | None
    final_cents: int | None
    submitted_at: datetime | None
    updated_at: datetime


class EstimateOut(BaseModel):
    proposal_id: int
    version: int
    catalog_version_id: int | None
    total_cents: int | None
    low_cents: int | None
    high_cents: int | None
    override_cents: int | None
    final_cents: int | None
    breakdown: dict[str, Any] | None = Field(description="Lines (treatment, quantity, unit cost, subtotal), markups.")


class ListRowOut(BaseModel):
    id: int
    title: str
    state: str
    category_key: str | None
    final_cents: int | None
    alternate_of_id: int | None
    counted: bool


class CategoryBudgetOut(BaseModel):
    key: str
    name: str
    cap_cents: int | None
    used_cents: int
    over: bool


class ListOut(BaseModel):
    group_id: int
    proposals: list[ListRowOut]
    budget_total_cents: int | None
    used_cents: int
    over: bool
    categories: list[CategoryBudgetOut]
    warnings: list[str]


class SubmitOut(BaseModel):
    proposal: ProposalOut
    already_submitted: bool


def _out(session: SessionDep, p: Proposal) -> ProposalOut:
    return ProposalOut(
        id=p.id or 0, group_id=p.group_id, title=p.title, description=p.description, category_key=p.category_key,
        scheduled_year=p.scheduled_year, state=p.state, version=p.version, position=p.position,
        geometry=geometry_geojson(p.geom), assets=[str(k) for k in editor.asset_keys(session=session,
                                                                                     proposal_id=p.id or 0)],
        district_id=p.district_id, alternate_of_id=p.alternate_of_id, estimate_total_cents=p.estimate_total_cents,
        estimate_low_cents=p.estimate_low_cents, estimate_high_cents=p.estimate_high_cents,
        estimate_catalog_version_id=p.estimate_catalog_version_id, override_cents=p.override_cents,
        override_reason=p.override_reason, final_cents=p.final_cents, submitted_at=p.submitted_at,
        updated_at=p.updated_at)


def _input(body: ProposalIn) -> ProposalInput:
    try:
        keys: list[AssetKey] = parse_asset_keys(body.assets)
    except ProposalError as error:
        raise HTTPException(422, str(error)) from error
    return ProposalInput(title=body.title, description=body.description, category_key=body.category_key,
                         scheduled_year=body.scheduled_year, geometry=body.geometry, assets=keys,
                         override_cents=body.override_cents, override_reason=body.override_reason,
                         alternate_of_id=body.alternate_of_id)


def _load(session: SessionDep, viewer: CurrentUser, group_id: int, proposal_id: int) -> Proposal:
    try:
        return editor.get_for_member(session=session, group_id=group_id, proposal_id=proposal_id, viewer=viewer)
    except ProposalNotFound as error:
        raise HTTPException(404, "There is no such proposal.") from error


@router.get("/groups", response_model=list[GroupOut])
def my_groups(session: SessionDep, viewer: CurrentUser) -> list[GroupOut]:
    return [GroupOut(**g.__dict__) for g in groups.groups_of(session=session, user=viewer)]


@router.post("/groups", response_model=GroupOut, status_code=201)
def create_group(body: GroupIn, session: SessionDep, viewer: CurrentUser) -> GroupOut:
    try:
        group = groups.create_group(session=session, creator=viewer, name=body.name, description=body.description)
    except GroupError as error:
        raise HTTPException(422, str(error)) from error
    return GroupOut(id=group.id or 0, name=group.name, description=group.description, role="owner", member_count=1)


@router.get("/groups/{group_id}/proposals", response_model=list[ProposalOut])
def group_proposals(group_id: int, session: SessionDep, viewer: CurrentUser) -> list[ProposalOut]:
    try:
        groups.require_member(session=session, group_id=group_id, user=viewer)
    except GroupNotFound as error:
        raise HTTPException(404, "There is no such group.") from error
    rows = lists.rows(session=session, group_id=group_id)
    return [_out(session, _load(session, viewer, group_id, r.id)) for r in rows]


@router.post("/groups/{group_id}/proposals", response_model=ProposalOut, status_code=201)
def create_proposal(group_id: int, body: ProposalIn, session: SessionDep, viewer: CurrentUser) -> ProposalOut:
    try:
        proposal = editor.create_proposal(session=session, group_id=group_id, actor=viewer, data=_input(body))
    except ProposalNotFound as error:
        raise HTTPException(404, "There is no such group.") from error
    except ProposalError as error:
        raise HTTPException(422, str(error)) from error
    return _out(session, proposal)


@router.get("/groups/{group_id}/proposals/{proposal_id}", response_model=ProposalOut)
def get_proposal(group_id: int, proposal_id: int, session: SessionDep, viewer: CurrentUser) -> ProposalOut:
    return _out(session, _load(session, viewer, group_id, proposal_id))


@router.put("/groups/{group_id}/proposals/{proposal_id}", response_model=ProposalOut,
            responses={409: {"description": "Someone saved a newer version, or the proposal is submitted."}})
def update_proposal(group_id: int, proposal_id: int, body: ProposalUpdate, session: SessionDep,
                    viewer: CurrentUser) -> ProposalOut:
    _load(session, viewer, group_id, proposal_id)
    try:
        proposal = editor.update_proposal(session=session, group_id=group_id, proposal_id=proposal_id, actor=viewer,
                                          expected_version=body.version, data=_input(body))
    except VersionConflict as error:
        raise HTTPException(409, str(error)) from error
    except ProposalError as error:
        raise HTTPException(409 if error.field == "state" else 422, str(error)) from error
    return _out(session, proposal)


@router.delete("/groups/{group_id}/proposals/{proposal_id}", status_code=204, response_class=Response)
def delete_proposal(group_id: int, proposal_id: int, session: SessionDep, viewer: CurrentUser) -> Response:
    _load(session, viewer, group_id, proposal_id)
    try:
        editor.delete_draft(session=session, group_id=group_id, proposal_id=proposal_id, actor=viewer)
    except ProposalError as error:
        raise HTTPException(409, str(error)) from error
    return Response(status_code=204)


@router.post("/groups/{group_id}/proposals/{proposal_id}/submit", response_model=SubmitOut)
def submit(group_id: int, proposal_id: int, version: int, session: SessionDep, viewer: CurrentUser) -> SubmitOut:
    _load(session, viewer, group_id, proposal_id)
    try:
        result = states.submit(session=session, group_id=group_id, proposal_id=proposal_id, actor=viewer,
                               expected_version=version)
    except ProposalError as error:
        raise HTTPException(409, str(error)) from error
    return SubmitOut(proposal=_out(session, result.proposal), already_submitted=result.already)


@router.get("/groups/{group_id}/proposals/{proposal_id}/estimate", response_model=EstimateOut)
def estimate(group_id: int, proposal_id: int, session: SessionDep, viewer: CurrentUser) -> EstimateOut:
    p = _load(session, viewer, group_id, proposal_id)
    return EstimateOut(proposal_id=p.id or 0, version=p.version, catalog_version_id=p.estimate_catalog_version_id,
                       total_cents=p.estimate_total_cents, low_cents=p.estimate_low_cents,
                       high_cents=p.estimate_high_cents, override_cents=p.override_cents, final_cents=p.final_cents,
                       breakdown=p.estimate)


@router.get("/groups/{group_id}/list", response_model=ListOut)
def group_list(group_id: int, session: SessionDep, viewer: CurrentUser) -> ListOut:
    try:
        groups.require_member(session=session, group_id=group_id, user=viewer)
    except GroupNotFound as error:
        raise HTTPException(404, "There is no such group.") from error
    budget = lists.budget(session=session, group_id=group_id)
    return ListOut(
        group_id=group_id,
        proposals=[ListRowOut(id=r.id, title=r.title, state=r.state, category_key=r.category_key,
                              final_cents=r.final_cents, alternate_of_id=r.alternate_of_id, counted=r.counted)
                   for r in lists.rows(session=session, group_id=group_id)],
        budget_total_cents=budget.total_cents, used_cents=budget.used_cents, over=budget.over,
        categories=[CategoryBudgetOut(key=c.key, name=c.name, cap_cents=c.cap_cents, used_cents=c.used_cents,
                                      over=c.over) for c in budget.categories],
        warnings=budget.warnings)
