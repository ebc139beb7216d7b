"""Vector tiles of the condition layers and their TileJSON (layer ids as in /ogc)."""

from __future__ import annotations

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from app.deps import SessionDep, SettingsDep
from app.layers.specs import UnknownLayer
from app.tiles import service
from app.tiles.grid import TileOutOfRange
from app.web import etag_matches

router = APIRouter(prefix="/tiles", tags=["vector tiles"])


@router.get("/{layer}/{z}/{x}/{y}.mvt", summary="A Mapbox Vector Tile of one layer", response_class=Response,
            responses={200: {"content": {service.MEDIA_TYPE: {}}}, 204: {"description": "No features here"},
                       304: {"description": "Not modified"}})
def tile(layer: str, z: int, x: int, y: int, session: SessionDep, settings: SettingsDep,
         if_none_match: str | None = Header(default=None)) -> Response:
    try:
        plan = service.plan_tile(session=session, tiles=settings.tiles, layer_id=layer, z=z, x=x, y=y)
    except (UnknownLayer, TileOutOfRange) as error:
        raise HTTPException(404, str(error)) from None
    headers = {"ETag": plan.etag, "Cache-Control": f"public, max-age={settings.tiles.cache_max_age_s}, "
                                                   "must-revalidate"}
    if etag_matches(if_none_match, plan.etag):
        return Response(status_code=304, headers=headers)
    content = service.render_tile(session=session, tiles=settings.tiles, plan=plan)
    if not content:
        return Response(status_code=204, headers=headers)
    return Response(content, media_type=service.MEDIA_TYPE, headers=headers)


@router.get("/{layer}.json", summary="TileJSON 3.0 of one layer")
def tilejson(layer: str, request: Request, session: SessionDep, settings: SettingsDep,
             if_none_match: str | None = Header(default=None)) -> Response:
    try:
        document, etag = service.tilejson(session=session, tiles=settings.tiles, layer_id=layer,
                                          base_url=str(request.base_url))
    except UnknownLayer as error:
        raise HTTPException(404, str(error)) from None
    headers = {"ETag": etag, "Cache-Control": "public, no-cache"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(document, headers=headers)
