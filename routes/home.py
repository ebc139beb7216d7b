"""The home page and the load balancer's health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.delivery import vote
from app.deps import SessionDep
from app.migrate import current_revision, head_revision
from app.navigation import NavEntry
from app.phases import timeline
from app.web import render

router = APIRouter()
NAV = [NavEntry("Home", "/", order=0)]


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "home.html", {"vote_result": vote.result_view(session=session),
                                         "timeline": timeline(session=session)})


@router.get("/healthz", tags=["operations"])
def healthz(request: Request, session: SessionDep) -> JSONResponse:
    """200 when the database answers and its schema is current; 503 otherwise."""
    engine = request.app.state.engine
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        current, head = current_revision(engine), head_revision()
    except SQLAlchemyError as error:
        return JSONResponse({"status": "error", "detail": f"database unavailable: {error.__class__.__name__}"},
                            status_code=503)
    database = "spatialite" if engine.dialect.name == "sqlite" else "postgis"
    if current != head:
        return JSONResponse({"status": "error", "database": database,
                             "detail": f"schema at {current}, needs {head}: run groundwork db upgrade"},
                            status_code=503)
    return JSONResponse({"status": "ok", "database": database, "schema": current},
                        headers={"Cache-Control": "no-store"})
