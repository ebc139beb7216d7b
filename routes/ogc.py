"""OGC API – Features at /ogc: GeoJSON for clients (GDAL, QGIS, scripts), HTML for browsers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from app.deps import SessionDep, SettingsDep
from app.layers.specs import LayerSpec, UnknownLayer, spec_for
from app.ogc import documents, features
from app.web import etag_matches, render

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])
FormatParam = Query(default=None, description="json (GeoJSON) or html; by default from the Accept header.")
REVALIDATE = "public, no-cache"


def _html(request: Request, f: str | None) -> bool:
    if f is None:
        return "text/html" in request.headers.get("accept", "")
    if f in ("html", "json", "geojson"):
        return f == "html"
    raise HTTPException(400, f"f must be json or html, not {f!r}.")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _spec(collection_id: str) -> LayerSpec:
    try:
        return spec_for(collection_id)
    except UnknownLayer as error:
        raise HTTPException(404, str(error)) from None


def _json(document: dict[str, Any], media_type: str = documents.JSON, headers: dict[str, str] | None = None
          ) -> JSONResponse:
    return JSONResponse(document, media_type=media_type, headers=headers)


@router.get("", summary="Landing page")
def landing(request: Request, settings: SettingsDep, f: str | None = FormatParam) -> Response:
    document = documents.landing(base=_base(request), site_name=settings.site_name)
    if _html(request, f):
        return render(request, "ogc/landing.html", {"doc": document})
    return _json(document)


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request, f: str | None = FormatParam) -> Response:
    document = documents.conformance()
    if _html(request, f):
        return render(request, "ogc/conformance.html", {"doc": document})
    return _json(document)


@router.get("/collections", summary="The condition layers")
def collections(request: Request, session: SessionDep, f: str | None = FormatParam) -> Response:
    document = documents.collections(session=session, base=_base(request))
    if _html(request, f):
        return render(request, "ogc/collections.html", {"doc": document})
    return _json(document, headers={"Cache-Control": REVALIDATE})


@router.get("/collections/{collection_id}", summary="One condition layer")
def collection(collection_id: str, request: Request, session: SessionDep, f: str | None = FormatParam) -> Response:
    spec = _spec(collection_id)
    document = documents.collection_for(session=session, spec=spec, base=_base(request))
    if _html(request, f):
        return render(request, "ogc/collection.html", {"doc": document, "queryables": spec.queryables})
    return _json(document, headers={"Cache-Control": REVALIDATE})


@router.get("/collections/{collection_id}/items", summary="Features of a layer, a bounded page at a time",
            description="Filters: bbox (lon/lat), limit (1–1000, default 100), offset, and equality on the "
                        "layer's queryable properties, e.g. ?band=poor&street_name=MAIN ST.")
def items(collection_id: str, request: Request, session: SessionDep, f: str | None = FormatParam,
          if_none_match: str | None = Header(default=None)) -> Response:
    spec = _spec(collection_id)
    html = _html(request, f)
    params = dict(request.query_params)
    try:
        query = features.parse_query(spec, params)
    except features.BadQuery as error:
        raise HTTPException(400, str(error)) from None
    state = features.layer_state(session=session, spec=spec)
    etag = features.etag(spec=spec, revision=state.revision, url=str(request.url))
    headers = {"ETag": etag, "Cache-Control": REVALIDATE}
    if not html and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    time_stamp = datetime.now(UTC).isoformat(timespec="seconds")
    if html:
        page = features.items(session=session, spec=spec, query=query, state=state)
        document = documents.items_document(spec=spec, page=page, base=_base(request), params=params,
                                            time_stamp=time_stamp)
        pages = documents.pager(spec=spec, page=page, base=_base(request), params=params, html=True)
        return render(request, "ogc/items.html", {"doc": document, "spec": spec, "page": page, "pages": pages,
                                                  "columns": features.property_names(spec), "params": params})
    text = features.items_text(session=session, spec=spec, query=query, state=state)
    return StreamingResponse(documents.encode_items(spec=spec, page=text, base=_base(request), params=params,
                                                    time_stamp=time_stamp),
                             media_type=documents.GEOJSON, headers=headers)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
def item(collection_id: str, feature_id: str, request: Request, session: SessionDep,
         f: str | None = FormatParam, if_none_match: str | None = Header(default=None)) -> Response:
    spec = _spec(collection_id)
    html = _html(request, f)
    missing = HTTPException(404, f"{spec.title} has no feature {feature_id!r}.")
    if not (feature_id.isascii() and feature_id.isdigit()) or int(feature_id) >= 2**31:
        raise missing
    etag = features.etag(spec=spec, revision=features.revision(session=session, spec=spec), url=str(request.url))
    headers = {"ETag": etag, "Cache-Control": REVALIDATE}
    if not html and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    feature = features.item(session=session, spec=spec, feature_id=int(feature_id))
    if feature is None:
        raise missing
    document = documents.item_document(spec=spec, feature=feature, base=_base(request))
    if html:
        return render(request, "ogc/item.html", {"doc": document, "spec": spec})
    return StreamingResponse(documents.encode(document), media_type=documents.GEOJSON, headers=headers)
