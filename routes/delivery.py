"""After the vote. Public: /projects (delivery at a glance: map by phase, progress, spending and
awards by category, district and tier, revenue collected against the forecast and the Tier 2
projects it allows), /projects.geojson, /projects/{id} (one project's phases, milestones, spending,
awards, updates with photos; follow and unfollow), /projects/photos/{name}. Staff: /staff/delivery
(the vote's result, revenue collected, every project), /staff/delivery/phases (the phases),
/staff/delivery/{id} (phases, milestones, spending, awards, updates, completion with its
confirmation)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from app.costing.arithmetic import parse_dollars
from app.delivery import DeliveryError, conditions, overview, phases, photos, projects, revenue, vote
from app.deps import CurrentUser, PostedForm, SessionDep, SettingsDep, StaffUser, ViewerDep
from app.i18n import gettext as _
from app.navigation import NavEntry
from app.web import flash, render, use_viewer_language

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("Delivery", "/projects", order=32), NavEntry("Delivery", "/staff/delivery", "staff", order=75)]
PRIVATE = {"Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Language"}
PHOTO_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
                 "Cache-Control": "public, max-age=86400, immutable", "Content-Disposition": "inline"}


def _date(form: Any, name: str) -> date | None:
    text = str(form.get(name, "") or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DeliveryError(_("“{text}” is not a date; use the date picker or YYYY-MM-DD.").format(text=text[:40]),
                            field=name) from None


def _count(form: Any, name: str) -> int | None:
    text = str(form.get(name, "") or "").strip().replace(",", "")
    return int(text) if text.isdigit() else None


def _dollars(form: Any, name: str, label: str) -> int | None:
    try:
        return parse_dollars(str(form.get(name, ""))[:40], label=label)
    except ValueError as error:
        raise DeliveryError(str(error), field=name) from None


# -- public -------------------------------------------------------------------------------------------

@router.get("/projects", response_class=HTMLResponse)
def delivery_overview(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "delivery/overview.html", {
        "result": vote.result_view(session=session), "view": overview.overview(session=session),
        "revenue": revenue.revenue_view(session=session)}, headers=PRIVATE)


@router.get("/projects.geojson")
def delivery_geojson(session: SessionDep) -> JSONResponse:
    return JSONResponse(overview.overview(session=session).features, media_type="application/geo+json")


@router.get("/projects/photos/{name}")
def delivery_photo(name: str, settings: SettingsDep) -> Response:
    path = photos.PhotoStore(settings).path(name)
    if path is None:
        raise HTTPException(404, "There is no such photo.")
    return FileResponse(path, media_type="image/jpeg", headers=PHOTO_HEADERS)


@router.get("/projects/{proposal_id}", response_class=HTMLResponse)
def project_page(request: Request, session: SessionDep, viewer: ViewerDep, proposal_id: int) -> HTMLResponse:
    try:
        delivery = projects.project_delivery(session=session, proposal_id=proposal_id)
    except LookupError:
        raise HTTPException(404, "This project is not being delivered.") from None
    return render(request, "delivery/project.html", {
        "d": delivery, "following": projects.is_following(session=session, user=viewer,
                                                          project_id=delivery.project.id or 0)}, headers=PRIVATE)


@router.post("/projects/{proposal_id}/follow", response_model=None)
def follow(request: Request, form: PostedForm, session: SessionDep, viewer: CurrentUser, proposal_id: int) -> Response:
    try:
        if form.get("stop"):
            projects.unfollow(session=session, user=viewer, proposal_id=proposal_id)
            flash(request, _("You no longer follow this project."), "success")
        elif projects.follow(session=session, user=viewer, proposal_id=proposal_id):
            flash(request, _("You follow this project: each update comes by e-mail."), "success")
        else:
            flash(request, _("You already follow this project."), "info")
    except LookupError:
        raise HTTPException(404, "This project is not being delivered.") from None
    return RedirectResponse(f"/projects/{proposal_id}#follow", status_code=303)


# -- staff ----------------------------------------------------------------------------------------------

def _staff_page(request: Request, session: SessionDep, error: DeliveryError | None = None,
                form: Any = None) -> HTMLResponse:
    return render(request, "delivery/staff.html", {
        "result": vote.current(session=session), "view": overview.overview(session=session),
        "revenue": revenue.revenue_view(session=session), "error": error, "form": form},
        status_code=422 if error else 200)


@router.get("/staff/delivery", response_class=HTMLResponse)
def staff_delivery(request: Request, session: SessionDep, viewer: StaffUser) -> HTMLResponse:
    return _staff_page(request, session)


@router.post("/staff/delivery/vote", response_model=None)
def record_vote(request: Request, form: PostedForm, session: SessionDep, viewer: StaffUser) -> Response:
    try:
        vote.record(session=session, actor=viewer, held_on=_date(form, "held_on"),
                    yes_votes=_count(form, "yes_votes"), no_votes=_count(form, "no_votes"),
                    source_url=str(form.get("source_url", ""))[:500])
    except DeliveryError as error:
        return _staff_page(request, session, error, form)
    flash(request, _("The result of the vote is recorded."), "success")
    return RedirectResponse("/staff/delivery", status_code=303)


@router.post("/staff/delivery/revenue", response_model=None)
def record_revenue(request: Request, form: PostedForm, session: SessionDep, viewer: StaffUser) -> Response:
    try:
        year = _count(form, "year")
        revenue.record(session=session, actor=viewer, year=year,
                       amount_cents=_dollars(form, "collected", _("The amount collected")),
                       note=str(form.get("note", ""))[:500])
    except DeliveryError as error:
        return _staff_page(request, session, error, form)
    flash(request, _("Revenue collected in {year} is saved.").format(year=year), "success")
    return RedirectResponse("/staff/delivery#revenue-title", status_code=303)


def _phases_page(request: Request, session: SessionDep, error: DeliveryError | None = None,
                 form: Any = None) -> HTMLResponse:
    configured = phases.all_phases(session=session)
    return render(request, "delivery/staff_phases.html", {
        "phases": configured, "dots": overview.phase_styles(configured), "error": error, "form": form or {}},
        status_code=422 if error else 200)


@router.get("/staff/delivery/phases", response_class=HTMLResponse)
def staff_phases(request: Request, session: SessionDep, viewer: StaffUser) -> HTMLResponse:
    return _phases_page(request, session)


@router.post("/staff/delivery/phases/{action}", response_model=None)
def staff_phases_action(request: Request, form: PostedForm, session: SessionDep, viewer: StaffUser,
                        action: str) -> Response:
    key = str(form.get("key", ""))[:20] or None
    try:
        if action == "save":
            progress = _count(form, "progress")
            phases.save(session=session, actor=viewer, key=key, name=str(form.get("name", ""))[:200],
                        name_es=str(form.get("name_es", ""))[:200], progress=progress)
            message = _("The phase is saved.")
        elif action in ("up", "down"):
            phases.move(session=session, actor=viewer, key=key or "", up=action == "up")
            message = _("The phase moved.")
        elif action == "remove":
            phases.remove(session=session, actor=viewer, key=key or "")
            message = _("The phase is removed.")
        else:
            raise LookupError(action)
    except DeliveryError as error:
        return _phases_page(request, session, error, form)
    except LookupError:
        raise HTTPException(404, "There is no such phase.") from None
    flash(request, message, "success")
    return RedirectResponse("/staff/delivery/phases", status_code=303)


def _project_page(request: Request, session: SessionDep, proposal_id: int, error: DeliveryError | None = None,
                  form: Any = None) -> HTMLResponse:
    try:
        delivery = projects.project_delivery(session=session, proposal_id=proposal_id)
    except LookupError:
        raise HTTPException(404, "This project is not being delivered.") from None
    return render(request, "delivery/staff_project.html", {
        "d": delivery, "phases": [(p.key, p.label) for p in phases.all_phases(session=session)],
        "error": error, "form": form or {}}, status_code=422 if error else 200)


@router.get("/staff/delivery/{proposal_id}", response_class=HTMLResponse)
def staff_project(request: Request, session: SessionDep, viewer: StaffUser, proposal_id: int) -> HTMLResponse:
    return _project_page(request, session, proposal_id)


@router.post("/staff/delivery/{proposal_id}/{action}", response_model=None)
def staff_action(request: Request, form: PostedForm, session: SessionDep, settings: SettingsDep, viewer: StaffUser,
                 proposal_id: int, action: str) -> Response:
    try:
        message = _act(session, settings, viewer, proposal_id, action, form)
    except DeliveryError as error:
        return _project_page(request, session, proposal_id, error, form)
    except LookupError:
        raise HTTPException(404, "This project is not being delivered.") from None
    if isinstance(message, Response):
        return message
    flash(request, message, "success")
    return RedirectResponse(f"/staff/delivery/{proposal_id}", status_code=303)


def _act(session: SessionDep, settings: SettingsDep, viewer: Any, proposal_id: int, action: str,
         form: Any) -> str:
    if action == "phase-dates":
        projects.save_phase_dates(session=session, actor=viewer, proposal_id=proposal_id,
                                  phase=str(form.get("phase", "")), planned_start=_date(form, "planned_start"),
                                  planned_end=_date(form, "planned_end"), actual_start=_date(form, "actual_start"),
                                  actual_end=_date(form, "actual_end"))
        return _("The phase's dates are saved.")
    if action == "phase":
        projects.move_phase(session=session, actor=viewer, proposal_id=proposal_id, to=str(form.get("to", "")),
                            on=_date(form, "on"))
        return _("The project moved to its next phase.")
    if action == "milestones":
        projects.add_milestone(session=session, actor=viewer, proposal_id=proposal_id,
                               title=str(form.get("title", ""))[:500], planned_on=_date(form, "planned_on"))
        return _("The milestone is added.")
    if action == "milestone-done":
        milestone = _count(form, "milestone_id")
        projects.milestone_done(session=session, actor=viewer, proposal_id=proposal_id,
                                milestone_id=milestone or 0, done_on=_date(form, "done_on"))
        return _("The milestone is marked as reached.")
    if action == "award":
        projects.add_award(session=session, actor=viewer, proposal_id=proposal_id,
                           awarded_on=_date(form, "awarded_on"),
                           amount_cents=_dollars(form, "award_amount", _("The amount awarded")),
                           contractor=str(form.get("contractor", ""))[:300],
                           description=str(form.get("award_description", ""))[:300],
                           reason=str(form.get("award_reason", ""))[:2000])
        return _("The contract award is recorded.")
    if action == "spending":
        cents = _dollars(form, "amount", _("The amount"))
        projects.add_spending(session=session, actor=viewer, proposal_id=proposal_id, spent_on=_date(form, "spent_on"),
                              amount_cents=cents, description=str(form.get("description", ""))[:300],
                              reason=str(form.get("reason", ""))[:2000])
        return _("The spending is recorded.")
    if action == "updates":
        return _post_update(session, settings, viewer, proposal_id, form)
    if action == "complete":
        left_out = {str(v) for v in form.getlist("left_out")}
        conditions.complete(session=session, actor=viewer, proposal_id=proposal_id, on=_date(form, "on"),
                            left_out=left_out)
        return _("The project is complete; the condition of the assets it treated is updated on the map.")
    raise LookupError(action)


def _post_update(session: SessionDep, settings: SettingsDep, viewer: Any, proposal_id: int, form: Any) -> str:
    files = [f for f in form.getlist("photo") if isinstance(f, UploadFile) and f.filename]
    alts = [str(a) for a in form.getlist("alt_text")]
    limit = settings.delivery.max_photo_mb * 1024 * 1024
    uploads = []
    for number, upload in enumerate(files):
        data = upload.file.read(limit + 1)  # one byte past the limit is enough to refuse it
        uploads.append(photos.Upload(upload.filename or "", data, alts[number] if number < len(alts) else ""))
    projects.post_update(session=session, settings=settings, actor=viewer, proposal_id=proposal_id,
                         body=str(form.get("body", ""))[:5000], uploads=uploads)
    return _("The update is published and followers are e-mailed.")


@router.get("/staff/delivery/{proposal_id}/complete", response_class=HTMLResponse)
def confirm_complete(request: Request, session: SessionDep, viewer: StaffUser, proposal_id: int,
                     on: str = "") -> HTMLResponse:
    """What completing will write to the layers, before staff confirm."""
    try:
        when = date.fromisoformat(on) if on else date.today()
    except ValueError:
        when = date.today()
    try:
        delivery = projects.project_delivery(session=session, proposal_id=proposal_id)
        changes = conditions.plan(session=session, proposal_id=proposal_id, on=when)
    except LookupError:
        raise HTTPException(404, "This project is not being delivered.") from None
    return render(request, "delivery/complete_confirm.html", {"d": delivery, "changes": changes, "on": when})
