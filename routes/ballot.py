"""The published ballot list: /ballot (the list with totals) and /ballot/export.json (its canonical export)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import SessionDep
from app.navigation import NavEntry
from app.scenarios import publish
from app.web import render

router = APIRouter(include_in_schema=False)
NAV = [NavEntry("Ballot list", "/ballot", "everyone", order=30)]


@router.get("/ballot", response_class=HTMLResponse)
def ballot(request: Request, session: SessionDep) -> Response:
    view = publish.ballot_view(session=session)
    return render(request, "ballot/index.html", {"published": view.published, "items": view.items,
                                                 "totals": view.totals, "names": view.category_names,
                                                 "export": view.export, "view": view})


@router.get("/ballot/export.json")
def ballot_export(session: SessionDep) -> Response:
    published = publish.latest(session=session)
    if published is None:
        raise HTTPException(404, "No ballot list has been published yet.")
    return Response(published.export.encode("utf-8"), media_type="application/json",
                    headers={"X-Content-SHA256": published.content_hash,
                             "Content-Disposition": 'inline; filename="ballot-list.json"'})
