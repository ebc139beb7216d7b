"""Vector tiles of the condition layers and their TileJSON (layer ids as in /ogc)."""

from __future__ import annotations

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from app.deps import SessionDep, SettingsDep
from app.layers.specs import UnknownLayer
from app.settings import Settings
from app.tiles import service
from app.tiles.grid import TileOutOfRange
from app.web import etag_matches

router = APIRouter(prefix="/tiles", tags=["vector tiles"])


@router.get("/{layer}/{z}/{x}/{y}.mvt", summary="A Mapbox Vector Tile of one layer", response_class=Response,
            responses={200: {"content": {service.MEDIA_TYPE: {}}}, 204: {"description": "No features here"},
                       304: {"description": "Not modified"}})
def tile(layer: str, z: int, x: int, y: int, request: Request, session: SessionDep, settings: SettingsDep,
         v: str | None = Query(default=None, max_length=40,
                               description="The layer's version, as in TileJSON's URLs: such a tile never "
                                           "changes (cached for a year)."),
         if_none_match: str | None = Header(default=None)) -> Response:
    server: service.TileServer = request.app.state.tiles
    try:
        plan = server.plan(session=session, tiles=settings.tiles, layer_id=layer, z=z, x=x, y=y, requested=v)
    except (UnknownLayer, TileOutOfRange) as error:
        raise HTTPException(404, str(error)) from None
    if etag_matches(if_none_match, plan.etag):
        return Response(status_code=304, headers=_headers(plan, settings))
    plan, content = server.tile(session=session, tiles=settings.tiles, plan=plan)
    headers = _headers(plan, settings)
    if not content:
        return Response(status_code=204, headers=headers)
    return Response(content, media_type=service.MEDIA_TYPE, headers=headers)


def _headers(plan: service.TilePlan, settings: Settings) -> dict[str, str]:
    return {"ETag": plan.etag, "Cache-Control": plan.cache_control(settings.tiles)}


@router.get("/{layer}.json", summary="TileJSON 3.0 of one layer")
def tilejson(layer: str, request: Request, session: SessionDep, settings: SettingsDep,
             if_none_match: str | None = Header(default=None)) -> Response:
    server: service.TileServer = request.app.state.tiles
    try:
        document, etag = service.tilejson(session=session, tiles=settings.tiles, versions=server.read(session),
                                          layer_id=layer, base_url=str(request.base_url))
    except UnknownLayer as error:
        raise HTTPException(404, str(error)) from None
    headers = {"ETag": etag, "Cache-Control": "public, no-cache"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(document, headers=headers)
