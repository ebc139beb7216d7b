"""The staff landing page after sign-in: what needs me now."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import staff_desk
from app.deps import SessionDep, StaffUser
from app.navigation import NavEntry
from app.web import render

router = APIRouter(include_in_schema=False)
NAV = [NavEntry("Desk", "/staff", "staff", order=10)]


@router.get("/staff", response_class=HTMLResponse)
def desk(request: Request, session: SessionDep, staff: StaffUser) -> HTMLResponse:
    return render(request, "staff/desk.html", {"desk": staff_desk.desk(session=session, viewer=staff)})
