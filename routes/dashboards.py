"""Dashboards in three tiers: headlines (leadership), by district and category (management),
and asset lists (operational)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from app import dashboards
from app.deps import SessionDep
from app.layers import district_names
from app.navigation import NavEntry
from app.pavement_plan import service as plan
from app.web import render, use_viewer_language

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("Dashboards", "/dashboards", order=40)]
HEADERS = {"Cache-Control": "private, max-age=60", "Vary": "Cookie, Accept-Language"}


@router.get("/dashboards", response_class=HTMLResponse)
def leadership(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "dashboards/leadership.html", {"d": dashboards.leadership(session=session),
                                                          "revenue": dashboards.delivery_revenue(session=session),
                                                          "needs": plan.needs_or_none(session=session)},
                  headers=HEADERS)


@router.get("/dashboards/management", response_class=HTMLResponse)
def management(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "dashboards/management.html", {"d": dashboards.management(session=session),
                                                           "needs": plan.needs_or_none(session=session),
                                                           "district_names": district_names.by_name(session=session)},
                  headers=HEADERS)


@router.get("/dashboards/operational", response_class=HTMLResponse)
def operational(request: Request, session: SessionDep, area: str | None = None) -> HTMLResponse:
    try:
        data = dashboards.operational(session=session, area=area)
    except dashboards.DashboardError as error:
        raise HTTPException(404, str(error)) from None
    return render(request, "dashboards/operational.html", {"d": data}, headers=HEADERS)
