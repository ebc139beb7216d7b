"""The public map, its summary panel and the table view of the same data."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import SessionDep, SettingsDep
from app.layers import browse, summary
from app.layers.addresses import address_named, has_addresses
from app.layers.mapview import map_view
from app.navigation import NavEntry
from app.web import etag_matches, is_htmx, render, use_viewer_language, viewer_language

router = APIRouter(tags=["map"], dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("Map", "/map", order=10)]


def _summary_context(session: SessionDep, area: str | None) -> dict[str, object]:
    numbers = summary.map_summary(session=session)
    chosen = numbers.area(area)
    if chosen is None:
        raise HTTPException(404, f"There is no district {area!r} on the map.")
    return {"summary": numbers, "area": chosen}


@router.get("/map", response_class=HTMLResponse, include_in_schema=False)
def map_page(request: Request, session: SessionDep, settings: SettingsDep, area: str | None = None,
             layer: str | None = None, feature: int | None = None, address: str | None = None) -> HTMLResponse:
    """The map; ``?layer=…&feature=…`` opens a feature, ``?address=12 Main St`` shows an address."""
    view = map_view(session=session, settings=settings, focus_layer=layer, focus_id=feature)
    place = address_named(session=session, text=address[:300]) if address else None
    context: dict[str, object] = {"view": view, "has_addresses": has_addresses(session=session), "place": place,
                                  "q": place.address if place else ""}
    if not view.empty:
        context.update(_summary_context(session, area))
    return render(request, "map/index.html", context)


@router.get("/map/summary", response_class=HTMLResponse, include_in_schema=False)
def summary_panel(request: Request, session: SessionDep, area: str | None = None,
                  if_none_match: str | None = Header(default=None)) -> Response:
    """The summary panel alone (htmx refreshes it); revalidated cheaply by the layers' revisions."""
    etag = f'W/"summary-{summary.revision_tag(session=session)}-{area or "city"}-{viewer_language(request)}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Cookie, Accept-Language, HX-Request"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return render(request, "map/_summary.html", _summary_context(session, area), headers=headers)


@router.get("/map/table", response_class=HTMLResponse, include_in_schema=False)
def table_page(request: Request, session: SessionDep, layer: str | None = None, q: str | None = None,
               category: str | None = None, area: str | None = None, sort: str | None = None,
               dir: str | None = None, page: int | None = None) -> HTMLResponse:
    try:
        query = browse.table_query(layer=layer, street=q, category=category, area=area, sort=sort,
                                   direction=dir, page=page)
        table = browse.browse(session=session, query=query)
    except browse.BrowseError as error:
        raise HTTPException(400, str(error)) from None
    template = "map/_rows.html" if is_htmx(request) and request.headers.get("HX-Target") == "table-results" \
        else "map/table.html"
    return render(request, template, {"table": table}, headers={"Vary": "HX-Request"})
