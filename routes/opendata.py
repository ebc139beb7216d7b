"""Open data: the inventory page, the data.json catalog and downloads of every dataset."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from app.deps import SessionDep, SettingsDep
from app.navigation import NavEntry
from app.opendata import catalog, exports
from app.opendata.exports import DatasetNotLoaded
from app.opendata.formats import ExportFormat
from app.opendata.registry import UnknownDataset
from app.web import etag_matches, render, use_viewer_language, viewer_language

router = APIRouter(tags=["open data"], dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("Open data", "/data", order=60)]


@router.get("/data", response_class=HTMLResponse, include_in_schema=False)
def inventory_page(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    entries = catalog.inventory(session=session, settings=settings)
    return render(request, "opendata/index.html", {"datasets": entries, "opendata": settings.opendata},
                  headers={"Cache-Control": "private, max-age=60"})


@router.get("/data/catalog.json", summary="Catalog of open datasets (Project Open Data data.json v1.1)")
def catalog_json(request: Request, session: SessionDep, settings: SettingsDep,
                 if_none_match: str | None = Header(default=None)) -> Response:
    entries = catalog.inventory(session=session, settings=settings)
    # titles and descriptions are in the viewer's language
    etag = f'W/"catalog-{catalog.catalog_version(entries)}-{viewer_language(request)}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={settings.opendata.cache_max_age_s}",
               "Vary": "Cookie, Accept-Language"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(catalog.catalog(entries=entries, settings=settings), headers=headers)


@router.get("/data/{dataset_id}.{extension}", summary="Download a dataset as GeoJSON, CSV or GeoPackage",
            response_class=Response)
def download(dataset_id: str, extension: str, session: SessionDep, settings: SettingsDep,
             if_none_match: str | None = Header(default=None)) -> Response:
    try:
        export_format = ExportFormat(extension)
    except ValueError:
        raise HTTPException(404, f"Downloads come as .geojson, .csv or .gpkg, not .{extension}.") from None
    try:
        plan = exports.plan_export(session=session, dataset_id=dataset_id, export_format=export_format)
    except (UnknownDataset, DatasetNotLoaded) as error:
        raise HTTPException(404, str(error)) from None
    headers = {"ETag": plan.etag, "Cache-Control": f"public, max-age={settings.opendata.cache_max_age_s}"}
    if etag_matches(if_none_match, plan.etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{plan.filename}"'
    if export_format is ExportFormat.gpkg:
        path = exports.gpkg_tempfile(session=session, plan=plan)
        return FileResponse(path, media_type=export_format.media_type, headers=headers,
                            background=BackgroundTask(exports.remove_tempfile, path))
    chunks = (chunk.encode("utf-8") for chunk in exports.text_chunks(session=session, plan=plan))
    return StreamingResponse(chunks, media_type=export_format.media_type, headers=headers)


