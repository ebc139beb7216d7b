"""Staff page for importing condition layers: upload or URL → preview (nothing written) → confirm."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from app.deps import PostedForm, SessionDep, SettingsDep, StaffUser
from app.i18n import gettext as _
from app.importers import fields, jobs, preview_result, service, uploads
from app.importers.preview_map import preview_map
from app.importers.report import ImportFailed
from app.layers.bands import SCHEMES
from app.navigation import NavEntry
from app.web import flash, is_htmx, render, use_viewer_language
from models.imports import JobState
from models.layers import LayerKind

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("Import data", "/staff/import", "staff", order=60)]
SESSION_KEY = "import_token"


def _index(request: Request, session: SessionDep, settings: SettingsDep, *, form: dict[str, str] | None = None,
           error: str | None = None, status_code: int = 200) -> HTMLResponse:
    return render(request, "imports/index.html",
                  {"kinds": [(k.value, _(k.title)) for k in LayerKind],
                   "schemes": [(s.key, s.label) for s in SCHEMES.values()],
                   "layers": service.layers(session=session), "form": form or {}, "error": error,
                   "max_upload_mb": settings.imports.max_upload_mb}, status_code=status_code)


@router.get("/staff/import", response_class=HTMLResponse)
def index(request: Request, session: SessionDep, settings: SettingsDep, staff: StaffUser) -> HTMLResponse:
    return _index(request, session, settings)


@router.post("/staff/import")
def upload(request: Request, form: PostedForm, session: SessionDep, settings: SettingsDep,
           staff: StaffUser) -> Response:
    values = {key: str(form.get(key) or "").strip() for key in
              ("kind", "url", "crs", "units", "layer", "bands", "mapping", "constants")}
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    error = None
    try:
        kind = LayerKind(values["kind"])
    except ValueError:
        kind, error = None, _("Choose what kind of layer this is.")
    if error is None and not files and not values["url"].startswith(("http://", "https://")):
        error = _("Choose a file to upload, or give an http(s) address.")
    try:
        mapping = fields.parse_pairs(values["mapping"].splitlines(), "mapping")
        constants = fields.parse_pairs(values["constants"].splitlines(), "set")
    except ValueError as problem:
        error = error or str(problem)
    if error or kind is None:
        return _index(request, session, settings, form=values, error=error, status_code=422)
    jobs.forget_previews(session=session, pending=_pending(request, settings), actor=staff)  # replaced: its checks go
    session.commit()
    pending = uploads.start(settings=settings.imports, kind=kind, uploaded_by=staff.id)
    pending.mapping, pending.constants = mapping, constants
    pending.crs, pending.units, pending.layer = values["crs"] or None, values["units"] or None, values["layer"] or None
    pending.append, pending.band_scheme = form.get("append") == "on", values["bands"] or None
    try:
        if files:
            uploads.store_files(pending, [(f.filename or "upload", f.file) for f in files], settings=settings.imports)
        else:
            pending.source = pending.name = values["url"]
    except uploads.UploadTooLarge as problem:
        return _index(request, session, settings, form=values, error=str(problem), status_code=413)
    except ImportFailed as problem:
        uploads.discard(pending)
        return _index(request, session, settings, form=values, error=str(problem), status_code=422)
    pending.save()
    request.session[SESSION_KEY] = pending.token
    return RedirectResponse("/staff/import/preview", status_code=303)


def _pending(request: Request, settings: SettingsDep) -> uploads.PendingImport | None:
    return uploads.load(request.session.get(SESSION_KEY), settings=settings.imports)


@router.get("/staff/import/preview", response_class=HTMLResponse)
def preview(request: Request, session: SessionDep, settings: SettingsDep, staff: StaffUser) -> Response:
    """What the waiting import would do. A file larger than ``imports.preview_in_request_mb`` is checked by a
    job in the background (in its own process, as imports are) while this page shows its progress."""
    pending = _pending(request, settings)
    if pending is None:
        flash(request, _("There is no import waiting; upload a file or give a URL."), "warning")
        return _redirect(request, "/staff/import")  # htmx polling a check: the whole page goes, not the box
    kind = LayerKind(pending.kind)
    context: dict[str, Any] = {"pending": pending, "kind": kind, "error": None, "result": None,
                               "fields": fields.field_names(kind), "map": None}
    try:
        uploads.fetch_if_remote(pending, settings=settings.imports)
        if _checked_in_background(pending, settings):
            return _checked_by_a_job(request, session, pending, staff, context)
        result = service.preview(pending.source, pending.options(), session=session, settings=settings.imports,
                                 work_dir=_work(pending), name=pending.name)
    except ImportFailed as problem:
        context["error"], context["report"] = str(problem), problem.report
    else:
        context["result"], context["report"] = result, result.report
        context["map"] = preview_map(session=session, kind=kind, geometries=result.drawn, total=result.valid)
    return render(request, "imports/preview.html", context)


def _checked_in_background(pending: uploads.PendingImport, settings: SettingsDep) -> bool:
    """Whether the upload is large: its files' size, a zip's as unpacked (GeoJSON and CSV shrink 5 to 10 times)."""
    source = Path(pending.source)
    files = [source] if source.suffix.lower() != ".shp" else list(source.parent.glob(source.stem + ".*"))
    size = 0
    for path in files:
        if path.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(path) as archive:
                    size += sum(member.file_size for member in archive.infolist())
                continue
            except (zipfile.BadZipFile, OSError):
                pass  # the check itself says what is wrong with it
        size += path.stat().st_size if path.is_file() else 0
    return size > settings.imports.preview_in_request_mb * 1_000_000


def _checked_by_a_job(request: Request, session: SessionDep, pending: uploads.PendingImport, staff: StaffUser,
                      context: dict[str, Any]) -> Response:
    job = jobs.preview_job(session=session, pending=pending, actor=staff)
    assert job.id is not None
    if job.state in (JobState.queued.value, JobState.running.value):
        view = jobs.view(session=session, job_id=job.id)
        template = "imports/_checking.html" if is_htmx(request) else "imports/checking.html"
        return render(request, template, {"job": view, "pending": pending})
    if is_htmx(request):  # it ended while the page was polling: show the whole preview
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    if job.state == JobState.failed.value:
        kept = (job.result or {}).get("report")
        context["error"], context["report"] = job.message, preview_result.report_from(kept) if kept else None
    else:
        result, context["map"] = preview_result.from_result(job.result or {})
        context["result"], context["report"] = result, result.report
    return render(request, "imports/preview.html", context)


@router.post("/staff/import/confirm")
def confirm(request: Request, form: PostedForm, session: SessionDep, settings: SettingsDep,
            staff: StaffUser) -> Response:
    pending = _pending(request, settings)
    if pending is None:
        flash(request, _("There is no import waiting; upload a file or give a URL."), "warning")
        return _redirect(request, "/staff/import")
    mapping = {name[len("map_"):]: str(value) for name, value in form.multi_items() if name.startswith("map_")}
    if mapping:
        pending.mapping = mapping
        pending.save()
    if form.get("action") == "recheck":
        jobs.forget_previews(session=session, pending=pending, actor=staff)  # a background check is made again
        session.commit()
        return _redirect(request, "/staff/import/preview")
    expected = str(form.get("expected_unlinking") or "")
    job = jobs.enqueue(session=session, pending=pending, actor=staff, skip_invalid=form.get("skip_invalid") == "on",
                       allow_unlinking=form.get("allow_unlinking") == "on",
                       expected_unlinking=int(expected) if expected.isdigit() else None,
                       new_area=form.get("new_area") == "on")
    return _redirect(request, f"/staff/import/jobs/{job.id}")


@router.get("/staff/import/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: int, session: SessionDep, settings: SettingsDep, staff: StaffUser) -> Response:
    """The job's progress: polled by htmx every second, refreshed by the page itself without JavaScript."""
    job = jobs.view(session=session, job_id=job_id)
    if job is None or job.preview:  # a preview's check is shown on the preview page, to its own staff member
        raise HTTPException(404, _("There is no such import."))
    if job.state == "done" and request.session.get(SESSION_KEY) == job.upload_token:
        request.session.pop(SESSION_KEY, None)  # its upload is imported and gone
    template = "imports/_job.html" if is_htmx(request) else "imports/job.html"
    return render(request, template, {"job": job})


@router.post("/staff/import/cancel")
def cancel(request: Request, session: SessionDep, settings: SettingsDep, staff: StaffUser) -> Response:
    pending = _pending(request, settings)
    if pending is not None:
        jobs.forget_previews(session=session, pending=pending, actor=staff)
        session.commit()
        uploads.discard(pending)
    request.session.pop(SESSION_KEY, None)
    flash(request, _("The import was cancelled; nothing was written."), "info")
    return RedirectResponse("/staff/import", status_code=303)


def _work(pending: uploads.PendingImport) -> Path:
    return Path(pending.directory) / "work"


def _redirect(request: Request, path: str) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": path})
    return RedirectResponse(path, status_code=303)
