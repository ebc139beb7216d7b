"""Finding a place on the public map: addresses and street names as you type (htmx), a results
page without JavaScript, and the proposals layer's toggle and legend (loaded into the map's panel)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep
from app.layers.addresses import find_addresses, has_addresses
from app.layers.streets import find_streets
from app.proposals.public import category_chips, public_list
from app.web import is_htmx, render, use_viewer_language

# In the viewer's language (category names, statuses); the language can come from a cookie, so caches vary on it.
router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])


@router.get("/map/streets", response_class=HTMLResponse)
def streets(request: Request, session: SessionDep, q: str = "") -> HTMLResponse:
    """Streets whose name holds the query, and (when address points are loaded) addresses starting with it."""
    query = q[:200]
    context = {"matches": find_streets(session=session, query=query),
               "addresses": find_addresses(session=session, query=query),
               "has_addresses": has_addresses(session=session), "q": query}
    template = "public/_street_results.html" if is_htmx(request) else "public/streets.html"
    return render(request, template, context,
                  headers={"Cache-Control": "private, max-age=60", "Vary": "HX-Request, Accept-Language, Cookie"})


@router.get("/map/proposals-panel", response_class=HTMLResponse)
def proposals_panel(request: Request, session: SessionDep) -> HTMLResponse:
    """The proposals toggle with its legend by category, for the map's panel."""
    choices = public_list(session=session, per_page=1)
    return render(request, "public/_map_proposals.html", {"chips": list(category_chips(session=session).values()),
                                                          "choices": choices},
                  headers={"Cache-Control": "private, max-age=60", "Vary": "Accept-Language, Cookie"})
