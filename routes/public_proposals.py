"""The public side of proposals: the list every resident can read, each project's page, supports
and comments, staff hiding a comment, and the proposals as GeoJSON for the map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app import participation
from app.delivery import projects as delivery
from app.deps import CurrentUser, SessionDep, StaffUser, ViewerDep
from app.i18n import gettext as _
from app.navigation import NavEntry
from app.phases import timeline
from app.proposals import ProposalNotFound, public
from app.proposals.cost_figures import cost_figures
from app.web import flash, render, use_viewer_language
from models.accounts import Role

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("Proposals", "/proposals", order=20)]

PRIVATE = {"Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Language"}


@router.get("/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, session: SessionDep, category: str = "", district: str = "",
                   status: str = "", sort: str = "newest", page: int = 1) -> HTMLResponse:
    try:
        listing = public.public_list(session=session, category=category, district=district, status=status,
                                     sort=sort, page=page)
    except public.FilterError as error:
        raise HTTPException(400, str(error)) from None
    query = {"category": category, "district": district, "status": status, "sort": sort}
    return render(request, "public/proposals.html", {"listing": listing, "query": query,
                                                     "timeline": timeline(session=session)}, headers=PRIVATE)


@router.get("/proposals/{proposal_id}", response_class=HTMLResponse)
def project_page(request: Request, session: SessionDep, viewer: ViewerDep, proposal_id: int) -> HTMLResponse:
    try:
        project = public.project_page(session=session, proposal_id=proposal_id)
    except ProposalNotFound:
        raise HTTPException(404, "There is no such proposal.") from None
    return render(request, "public/project.html", {
        "project": project,
        "supported": participation.has_supported(session=session, proposal_id=proposal_id, user=viewer),
        "supports_closed": participation.supports_closed_at(session=session),
        "cost_figures": cost_figures(session=session, proposal=project.proposal),
        "comments": participation.comments(session=session, proposal_id=proposal_id),
        "is_staff": bool(viewer and Role(viewer.role).is_staff),
        "delivery": delivery.of_proposal(session=session, proposal_id=proposal_id),
    }, headers=PRIVATE)


@router.post("/proposals/{proposal_id}/support", response_model=None)
def support(request: Request, session: SessionDep, viewer: CurrentUser, proposal_id: int,
            withdraw: Annotated[str, Form(max_length=5)] = "") -> Response:
    try:
        participation.ensure_supports_open(session=session)
        if withdraw:
            participation.withdraw_support(session=session, proposal_id=proposal_id, user=viewer)
            flash(request, _("Your support was withdrawn."), "success")
        elif participation.support(session=session, proposal_id=proposal_id, user=viewer):
            flash(request, _("Thank you: your support is counted."), "success")
        else:
            flash(request, _("You already support this proposal; it counts once."), "info")
    except participation.SupportsClosed:
        raise HTTPException(409, _("Supports closed when the ballot list was published.")) from None
    except LookupError:
        raise HTTPException(404, "There is no such proposal.") from None
    return RedirectResponse(f"/proposals/{proposal_id}#support", status_code=303)


@router.post("/proposals/{proposal_id}/comments", response_model=None)
def comment(request: Request, session: SessionDep, viewer: CurrentUser, proposal_id: int,
            body: Annotated[str, Form(max_length=20_000)] = "") -> Response:
    try:
        participation.add_comment(session=session, proposal_id=proposal_id, user=viewer, body=body)
    except participation.ParticipationError as error:
        flash(request, _(str(error)), "error")
    except LookupError:
        raise HTTPException(404, "There is no such proposal.") from None
    else:
        flash(request, _("Your comment is posted."), "success")
    return RedirectResponse(f"/proposals/{proposal_id}#comments", status_code=303)


@router.post("/proposals/{proposal_id}/comments/{comment_id}/hide", response_model=None)
def hide_comment(request: Request, session: SessionDep, staff: StaffUser, proposal_id: int, comment_id: int,
                 reason: Annotated[str, Form(max_length=5000)] = "") -> Response:
    try:
        participation.hide_comment(session=session, comment_id=comment_id, actor=staff, reason=reason)
    except participation.CommentNotFound:
        raise HTTPException(404, "There is no such comment.") from None
    except participation.ParticipationError as error:
        flash(request, _(str(error)), "error")
    else:
        flash(request, _("The comment is hidden; the reason is shown in its place."), "success")
    return RedirectResponse(f"/proposals/{proposal_id}#comments", status_code=303)


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise HTTPException(400, "bbox must be four numbers: west,south,east,north.") from None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise HTTPException(400, "bbox must be west,south,east,north in degrees, west ≤ east and south ≤ north.")
    return west, south, east, north


@router.get("/map/proposals.geojson")
def proposals_geojson(session: SessionDep, bbox: str | None = None, category: str = "", status: str = "",
                      district: str = "") -> JSONResponse:
    """Public proposals meeting the box (and the filters), for the map's proposals layer."""
    collection = public.map_features(session=session, bbox=_bbox(bbox), category=category, status=status,
                                     district=district)
    return JSONResponse(collection, media_type="application/geo+json",
                        headers={"Cache-Control": "public, max-age=60"})
