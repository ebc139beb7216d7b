"""The unit-cost catalog: staff pages (/staff/costs …) and the JSON API (catalog, estimates)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from app.costing import catalog
from app.costing.arithmetic import parse_percent, percent
from app.costing.catalog import CSV_COLUMNS, FUNCTIONAL_CLASSES, LAYER_KINDS, CatalogDraft, CatalogError
from app.costing.estimate import CostingError, Override
from app.costing.service import AssetRef, estimate_public, price_assets
from app.deps import CurrentUser, PostedForm, SessionDep, StaffUser
from app.i18n import N_
from app.i18n import gettext as _
from app.navigation import NavEntry
from app.web import flash, render, use_viewer_language
from models.costs import CatalogPublic, CatalogVersion, CatalogVersionSummary, EstimatePublic, EstimateRequest, Unit

router = APIRouter()
pages = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])  # the API keeps English
api = APIRouter(prefix="/api/v1", tags=["costs"])
NAV = [NavEntry("Cost catalog", "/staff/costs", "staff", order=61)]
BLANK_ROWS = 3
MAX_CSV_BYTES = 2_000_000
WIDTH_KEYS = ("arterial", "collector", "local", "default", "sidewalk")
# parse_percent's refusals for the markups (_markups), translated when shown
MARKUP_PROBLEMS = (
    N_("Design and engineering must be a percentage, such as 8.5."),
    N_("Design and engineering can have at most two decimals."), N_("Design and engineering is too large."),
    N_("Contingency must be a percentage, such as 8.5."), N_("Contingency can have at most two decimals."),
    N_("Contingency is too large."), N_("Escalation must be a percentage, such as 8.5."),
    N_("Escalation can have at most two decimals."), N_("Escalation is too large."))


def _version_or_404(session: Any, number: int) -> CatalogVersion:
    version = catalog.get_version_by_number(session=session, number=number)
    if version is None:
        raise HTTPException(404, _("There is no catalog version {number}.").format(number=number))
    return version


def _view(session: Any, version: CatalogVersion) -> dict[str, Any]:
    return {"version": version, "treatments": catalog.treatments_of(session=session, version=version),
            "units": {u.value: u.label for u in Unit}}


# -- pages -----------------------------------------------------------------------------------

@pages.get("/staff/costs", response_class=HTMLResponse)
def current_catalog(request: Request, session: SessionDep, viewer: StaffUser) -> HTMLResponse:
    version = catalog.current_version(session=session)
    context = _view(session, version) if version else {"version": None}
    return render(request, "costs/catalog.html", {**context, "problems": [], "columns": CSV_COLUMNS})


@pages.post("/staff/costs/defaults")
def create_defaults(request: Request, session: SessionDep, viewer: StaffUser) -> RedirectResponse:
    version = catalog.ensure_defaults(session=session)
    flash(request, _("Catalog version {number} is current.").format(number=version.number), "success")
    return RedirectResponse("/staff/costs", status_code=303)


@pages.get("/staff/costs/versions", response_class=HTMLResponse)
def history(request: Request, session: SessionDep, viewer: StaffUser) -> HTMLResponse:
    return render(request, "costs/history.html", {"versions": catalog.list_versions(session=session)})


@pages.get("/staff/costs/versions/{number}", response_class=HTMLResponse)
def one_version(request: Request, session: SessionDep, viewer: StaffUser, number: int) -> HTMLResponse:
    version = _version_or_404(session, number)
    return render(request, "costs/version.html", _view(session, version))


@pages.post("/staff/costs/versions/{number}/restore")
def restore(request: Request, session: SessionDep, staff: StaffUser, number: int) -> RedirectResponse:
    version = _version_or_404(session, number)
    new = catalog.make_current(session=session, actor=staff, version=version)
    flash(request, _("Version {number} was copied forward as version {new}, now current.").format(
        number=number, new=new.number), "success")
    return RedirectResponse("/staff/costs", status_code=303)


@pages.get("/staff/costs/catalog.csv")
def export(session: SessionDep, viewer: StaffUser, version: int | None = None) -> Response:
    chosen = (_version_or_404(session, version) if version is not None
              else catalog.current_version(session=session))
    if chosen is None:
        raise HTTPException(404, _("The cost catalog has not been set up yet."))
    return Response(catalog.export_csv(session=session, version=chosen), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="cost-catalog-v{chosen.number}.csv"'})


@pages.post("/staff/costs/import", response_model=None)
def import_csv(request: Request, form: PostedForm, session: SessionDep, staff: StaffUser) -> Response:
    upload, note = form.get("file"), str(form.get("note") or "")[:2000]
    problems: list[str] = []
    text = ""
    if not isinstance(upload, UploadFile) or not upload.filename:
        problems.append(_("Choose a CSV file to import."))
    else:
        data = upload.file.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            problems.append(_("That file is too large for a cost catalog (2 MB at most)."))
        else:  # cut at the limit, a character may be split: only a whole file is decoded
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                problems.append(_("Save the CSV as UTF-8 text and try again."))
    if not problems:
        try:
            version = catalog.import_csv(session=session, actor=staff, text=text, note=note)
        except CatalogError as error:
            problems = error.problems
        else:
            flash(request, _("Imported: catalog version {number} is now current.").format(number=version.number),
                  "success")
            return RedirectResponse("/staff/costs", status_code=303)
    current = catalog.current_version(session=session)
    context = _view(session, current) if current else {"version": None}
    return render(request, "costs/catalog.html", {**context, "problems": problems, "columns": CSV_COLUMNS},
                  status_code=400)


def _edit_page(request: Request, form: dict[str, Any], problems: list[str], status_code: int = 200) -> HTMLResponse:
    return render(request, "costs/edit.html", {
        "form": form, "problems": problems, "layer_kinds": LAYER_KINDS, "units": [u.value for u in Unit],
        "classes": FUNCTIONAL_CLASSES, "width_keys": WIDTH_KEYS}, status_code=status_code)


@pages.get("/staff/costs/edit", response_class=HTMLResponse)
def edit_form(request: Request, session: SessionDep, viewer: StaffUser) -> HTMLResponse:
    version = catalog.current_version(session=session)
    draft = catalog.draft_of(session=session, version=version) if version else catalog.default_draft()
    form = {
        "base_number": str(version.number) if version else "", "note": "", "base_year": str(draft.base_year),
        "design_engineering": percent(draft.design_engineering_bps), "contingency": percent(draft.contingency_bps),
        "escalation": percent(draft.escalation_bps), "source": draft.source,
        "lane_width": _metres(draft.lane_width_mm),
        "widths": {k: _metres(draft.class_widths_mm.get(k)) for k in WIDTH_KEYS},
        "rows": [catalog.rule_fields(t) for t in draft.treatments] + [{} for _ in range(BLANK_ROWS)],
    }
    return _edit_page(request, form, [])


@pages.post("/staff/costs/edit", response_model=None)
def save_edit(request: Request, submitted: PostedForm, session: SessionDep, staff: StaffUser) -> Response:
    one = {k: str(submitted.get(k) or "").strip() for k in submitted}
    columns = {c: [str(v).strip() for v in submitted.getlist(c)] for c in CSV_COLUMNS}
    count = max(len(v) for v in columns.values())
    rows = [{c: (columns[c][i] if i < len(columns[c]) else "") for c in CSV_COLUMNS} for i in range(count)]
    rows = [r for r in rows if any(r.values())]
    form = {**one, "widths": {k: one.get(f"width_{k}", "") for k in WIDTH_KEYS},
            "rows": rows + [{} for _ in range(BLANK_ROWS)]}
    problems: list[str] = []
    rules = []
    for number, row in enumerate(rows, start=1):
        try:
            rule = catalog.rule_from_fields(row)
        except ValueError as error:
            problems.append(_("Treatment {number}: {problem}").format(number=number, problem=error))
            continue
        key = rule.key or _("no key")
        problems.extend(_("Treatment {number} ({key}): {problem}").format(number=number, key=key, problem=p)
                        for p in catalog.rule_problems(rule))
        rules.append(rule)
    draft = _markups(one, problems)
    if not problems and draft is not None:
        try:
            based_on = one.get("base_number", "")
            version = catalog.create_version(session=session, actor=staff, draft=replace(draft, treatments=rules),
                                             note=one.get("note", ""),
                                             based_on=int(based_on) if based_on.isdigit() else None)
        except CatalogError as error:
            problems = error.problems
        else:
            flash(request, _("Saved as catalog version {number}; earlier versions are unchanged.").format(
                number=version.number), "success")
            return RedirectResponse("/staff/costs", status_code=303)
    return _edit_page(request, form, problems, status_code=400)


def _markups(one: dict[str, str], problems: list[str]) -> CatalogDraft | None:
    values: dict[str, int] = {}
    for field, label in (("design_engineering", "Design and engineering"), ("contingency", "Contingency"),
                         ("escalation", "Escalation")):
        try:
            values[field] = parse_percent(one.get(field, ""), label=label) or 0
        except ValueError as error:
            problems.append(_(str(error)))
    widths: dict[str, int] = {}
    for key in WIDTH_KEYS:
        mm = _millimetres(one.get(f"width_{key}", ""), _("The default width for {kind}").format(kind=key), problems)
        if mm is not None:
            widths[key] = mm
    lane = _millimetres(one.get("lane_width", ""), _("The lane width"), problems)
    if not one.get("base_year", "").isdigit():
        problems.append(_("The base year must be a year such as 2015."))
    if problems:
        return None
    return CatalogDraft(base_year=int(one["base_year"]), design_engineering_bps=values["design_engineering"],
                        contingency_bps=values["contingency"], escalation_bps=values["escalation"],
                        lane_width_mm=lane or 0, class_widths_mm=widths, source=one.get("source", ""))


def _metres(mm: int | None) -> str:
    return "" if mm is None else f"{Decimal(mm).scaleb(-3).normalize():f}"


def _millimetres(text: str, label: str, problems: list[str]) -> int | None:
    if not text:
        return None
    try:
        mm = Decimal(text) * 1000
    except InvalidOperation:
        problems.append(_("{label} must be in metres, such as 3.66.").format(label=label))
        return None
    if not mm.is_finite() or mm != mm.to_integral_value():
        problems.append(_("{label} can have at most three decimals (millimetres).").format(label=label))
        return None
    return int(mm)


# -- API -------------------------------------------------------------------------------------

@api.get("/catalog", response_model=CatalogPublic, summary="The current unit-cost catalog")
def api_current_catalog(session: SessionDep) -> CatalogPublic:
    """The current version: markups, base year and every treatment with its unit cost in cents."""
    version = catalog.current_version(session=session)
    if version is None:
        raise HTTPException(404, "The cost catalog has not been set up yet.")
    return catalog.catalog_public(session=session, version=version)


@api.get("/catalog/versions", response_model=list[CatalogVersionSummary], summary="Every catalog version")
def api_versions(session: SessionDep) -> list[CatalogVersionSummary]:
    return [catalog.version_public(v) for v in catalog.list_versions(session=session)]


@api.get("/catalog/versions/{number}", response_model=CatalogPublic, summary="One catalog version")
def api_version(session: SessionDep, number: int) -> CatalogPublic:
    return catalog.catalog_public(session=session, version=_version_or_404(session, number))


@api.post("/estimates", response_model=EstimatePublic, summary="Price assets")
def api_estimate(body: EstimateRequest, session: SessionDep, _: CurrentUser) -> EstimatePublic:
    """Take off quantities from the assets and price them with the current catalog version (or the one
    named), for work in ``scheduled_year``: lines, markups, escalation, low/high range, optional override."""
    version_id = None
    if body.catalog_version is not None:
        version_id = _version_or_404(session, body.catalog_version).id
    override = Override(body.override.amount_cents, body.override.reason) if body.override else None
    try:
        result = price_assets(session=session, refs=[AssetRef(a.layer, a.id) for a in body.assets],
                              scheduled_year=body.scheduled_year, version_id=version_id, override=override)
    except CostingError as error:
        raise HTTPException(422, str(error)) from error
    return estimate_public(result)


router.include_router(pages)
router.include_router(api)
