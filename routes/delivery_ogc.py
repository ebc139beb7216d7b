"""The ``delivery`` collection of OGC API – Features (/ogc/collections/delivery): the ballot projects
being delivered, as GeoJSON; browsers (f=html) are sent to /projects. Registered before the
condition layers' routes (routes load in name order), whose ``{collection_id}`` would take it.
Errors are in the asker's language, as on the pages."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.deps import SessionDep
from app.i18n import gettext as _
from app.ogc import delivery
from app.ogc.features import BadQuery
from app.web import use_viewer_language

router = APIRouter(prefix=f"/ogc/collections/{delivery.ID}", tags=["OGC API – Features"],
                   dependencies=[Depends(use_viewer_language)])
FormatParam = Query(default=None, description="json (GeoJSON) or html (the /projects page).")
HEADERS = {"Cache-Control": "public, no-cache"}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _html(f: str | None, request: Request, page: str) -> RedirectResponse | None:
    if f not in (None, "json", "geojson", "html"):
        raise HTTPException(400, _("f must be json or html, not {f}.").format(f=repr(f)))
    if f == "html" or (f is None and "text/html" in request.headers.get("accept", "")):
        return RedirectResponse(page, status_code=303)
    return None


@router.get("", summary="The ballot projects being delivered")
def delivery_collection(request: Request, f: str | None = FormatParam) -> Response:
    return _html(f, request, "/projects") or JSONResponse(delivery.collection(base=_base(request)),
                                                          headers=HEADERS)


@router.get("/items", summary="The ballot projects being delivered, one point each",
            description="Filters: bbox (lon/lat), limit (1–1000, default 100), offset, phase "
                        "(design, procurement, construction or complete).")
def delivery_items(request: Request, session: SessionDep, f: str | None = FormatParam,
                   bbox: str | None = Query(default=None), limit: int | None = Query(default=None),
                   offset: int | None = Query(default=None), phase: str | None = Query(default=None)) -> Response:
    redirect = _html(f, request, "/projects")
    if redirect:
        return redirect
    try:
        document = delivery.items(session=session, base=_base(request), params=dict(request.query_params),
                                  time_stamp=datetime.now(UTC).isoformat(timespec="seconds"))
    except BadQuery as error:
        raise HTTPException(400, str(error)) from None
    return JSONResponse(document, media_type=delivery.GEOJSON, headers=HEADERS)


@router.get("/items/{feature_id}", summary="One ballot project being delivered")
def delivery_item(feature_id: int, request: Request, session: SessionDep, f: str | None = FormatParam) -> Response:
    feature = delivery.item(session=session, base=_base(request), feature_id=feature_id) \
        if 0 < feature_id < 2**31 else None
    if feature is None:
        raise HTTPException(404, _("No ballot project {number} is being delivered.").format(number=feature_id))
    return _html(f, request, f"/projects/{feature_id}") or JSONResponse(feature, media_type=delivery.GEOJSON,
                                                                         headers=HEADERS)
