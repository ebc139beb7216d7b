"""The program: the staff editor (/staff/program) and GET /api/v1/program."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import program as programs
from app.costing.arithmetic import dollars, parse_dollars, parse_percent, percent
from app.deps import PostedForm, SessionDep, StaffUser
from app.i18n import N_, localized
from app.i18n import gettext as _
from app.layers import district_names
from app.layers.bands import SCHEMES
from app.layers.district_names import DistrictNameError
from app.navigation import NavEntry
from app.program import (
    CategoryDraft,
    DistrictShareDraft,
    PhaseDraft,
    ProgramDraft,
    ProgramError,
    TierDraft,
)
from app.web import flash, render, use_viewer_language
from models.program import PhaseKey, ProgramPublic

router = APIRouter()
# The editor speaks the viewer's language; the API keeps English for its clients.
pages = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
api = APIRouter(prefix="/api/v1", tags=["program"])
NAV = [NavEntry("Program", "/staff/program", "staff", order=60)]
BLANK_ROWS = 2
PHASE_TITLES = {PhaseKey.drafting: N_("Drafting"), PhaseKey.accepting_proposals: N_("Accepting proposals"),
                PhaseKey.staff_review: N_("Staff review"), PhaseKey.whittling: N_("Whittling"),
                PhaseKey.published: N_("Published"), PhaseKey.vote: N_("Vote")}  # the page translates them


@dataclass
class ProgramForm:
    """The editor's fields as the text a person typed, so a refused form comes back as it was sent."""

    revision: str = ""
    name: str = ""
    revenue: str = ""
    years: str = "5"
    management: str = "3"
    band_scheme: str = "astm7"
    categories: list[dict[str, str]] = field(default_factory=list)
    tiers: list[dict[str, Any]] = field(default_factory=list)
    districts: list[dict[str, str]] = field(default_factory=list)
    phases: list[dict[str, str]] = field(default_factory=list)
    district_names: list[dict[str, str]] = field(default_factory=list)  # id, code, name, name_es (Spanish)


def _district_names(session: Session, typed: dict[str, str] | None = None) -> list[dict[str, str]]:
    """Each loaded district's names for the editor: English (imported) and Spanish (as stored, or as typed)."""
    return [{"id": str(d.id), "code": d.code or "", "name": d.name,
             "name_es": (typed or {}).get(str(d.id), d.name_es)} for d in district_names.listing(session=session)]


def _typed_names(raw: dict[str, list[str]]) -> dict[str, str]:
    return {key.removeprefix("district_es_"): (values[0] if values else "").strip()
            for key, values in raw.items() if key.startswith("district_es_")}


def _form_of(view: programs.ProgramView | None) -> ProgramForm:
    if view is None:
        d = programs.demo_draft(start=date.today())
        form = ProgramForm(name=d.name, revenue=dollars(d.expected_revenue_cents), years=str(d.collection_years),
                           management=percent(d.program_management_bps))
        draft = d
    else:
        draft = programs.draft_of(view)
        form = ProgramForm(revision=str(view.program.revision), name=draft.name,
                           revenue=dollars(draft.expected_revenue_cents), years=str(draft.collection_years),
                           management=percent(draft.program_management_bps), band_scheme=draft.band_scheme)
    form.categories = [{"key": c.key, "name": c.name, "name_es": c.name_es or "", "cap": dollars(c.cap_cents),
                        "floor": dollars(c.floor_cents)} for c in draft.categories]
    form.tiers = [{"number": str(t.number), "name": t.name, "share": percent(t.share_bps),
                   "exceeds": t.funded_only_if_revenue_exceeds} for t in draft.tiers]
    form.districts = [{"district": s.district, "share": percent(s.min_share_bps)} for s in draft.district_shares]
    dates = {p.key: p for p in draft.phases}
    form.phases = [{"key": k.value, "title": PHASE_TITLES[k],
                    "starts_on": str(dates[k.value].starts_on) if k.value in dates else "",
                    "ends_on": str(dates[k.value].ends_on) if k.value in dates else ""} for k in PhaseKey]
    return form


def _rows(values: dict[str, list[str]], *names: str) -> list[dict[str, str]]:
    count = max((len(values.get(n, [])) for n in names), default=0)
    rows = [{n: (values.get(n, [])[i] if i < len(values.get(n, [])) else "").strip() for n in names}
            for i in range(count)]
    return [dict(r, index=str(i)) for i, r in enumerate(rows) if any(r.values())]


def _parse(raw: dict[str, list[str]]) -> tuple[ProgramForm, ProgramDraft | None, list[str]]:
    one = {k: v[0] if v else "" for k, v in raw.items()}
    form = ProgramForm(revision=one.get("revision", ""), name=one.get("name", ""), revenue=one.get("revenue", ""),
                       years=one.get("years", ""), management=one.get("management", ""),
                       band_scheme=one.get("band_scheme", "astm7"))
    problems: list[str] = []

    def money(text: str, label: str) -> int | None:
        try:
            return parse_dollars(text, label=label)
        except ValueError as error:
            problems.append(str(error))
            return None

    def share(text: str, label: str) -> int | None:
        try:
            return parse_percent(text, label=label)
        except ValueError as error:
            problems.append(str(error))
            return None

    categories = _rows(raw, "category_key", "category_name", "category_name_es", "category_cap", "category_floor")
    form.categories = [{"key": r["category_key"], "name": r["category_name"], "name_es": r["category_name_es"],
                        "cap": r["category_cap"], "floor": r["category_floor"]} for r in categories]
    exceeds = set(raw.get("tier_exceeds", []))
    tiers = [dict(r, exceeds=r["index"] in exceeds) for r in _rows(raw, "tier_number", "tier_name", "tier_share")]
    form.tiers = [{"number": r["tier_number"], "name": r["tier_name"], "share": r["tier_share"],
                   "exceeds": r["exceeds"]} for r in tiers]
    districts = _rows(raw, "district_name", "district_share")
    form.districts = [{"district": r["district_name"], "share": r["district_share"]} for r in districts]
    form.phases = [{"key": k.value, "title": PHASE_TITLES[k],
                    "starts_on": one.get(f"phase_{k.value}_starts_on", "").strip(),
                    "ends_on": one.get(f"phase_{k.value}_ends_on", "").strip()} for k in PhaseKey]

    refused_before = len(problems)
    revenue = money(form.revenue, _("The expected revenue"))
    revenue_refused = len(problems) > refused_before  # a refusal of its own, so no second one below
    management = share(form.management, _("The program-management share"))
    if not form.years.strip().isdigit():
        problems.append(_("The collection period must be a whole number of years."))
    if form.band_scheme not in SCHEMES:
        problems.append(_("Choose a band scheme from the list."))
    category_drafts = [CategoryDraft(key=r["key"].lower(), name=r["name"],
                                     cap_cents=money(r["cap"], _("{category}: the cap").format(
                                         category=localized(r["name"], r["name_es"]) or r["key"])),
                                     floor_cents=money(r["floor"], _("{category}: the floor").format(
                                         category=localized(r["name"], r["name_es"]) or r["key"])),
                                     name_es=r["name_es"] or None)
                       for r in form.categories]
    tier_drafts = []
    for r in form.tiers:
        if not r["number"].isdigit():
            problems.append(_("Number each tier (1, 2, …)."))
            continue
        tier_share = share(r["share"], _("Tier {number}: the share").format(number=r["number"]))
        tier_drafts.append(TierDraft(int(r["number"]), r["name"], tier_share or 0, bool(r["exceeds"])))
    district_drafts = [DistrictShareDraft(r["district"], share(r["share"], _("District {district}: the share").format(
        district=r["district"])) or 0) for r in form.districts]
    phase_drafts = []
    for p in form.phases:
        if not p["starts_on"] and not p["ends_on"]:
            continue
        try:
            phase_drafts.append(PhaseDraft(p["key"], date.fromisoformat(p["starts_on"]),
                                           date.fromisoformat(p["ends_on"])))
        except ValueError:
            problems.append(_("{phase}: give both a start and an end date.").format(phase=_(p["title"])))
    if problems or revenue is None:
        if revenue is None and not revenue_refused:
            problems.append(_("The expected revenue must be more than $0."))
        return form, None, problems
    draft = ProgramDraft(name=form.name, expected_revenue_cents=revenue, collection_years=int(form.years),
                         program_management_bps=management or 0, band_scheme=form.band_scheme,
                         categories=category_drafts, tiers=tier_drafts, district_shares=district_drafts,
                         phases=phase_drafts)
    return form, draft, []


def _page(request: Request, session: Session, form: ProgramForm, view: programs.ProgramView | None,
          problems: list[str], status_code: int = 200) -> HTMLResponse:
    if not form.district_names:
        form.district_names = _district_names(session)
    return render(request, "program/edit.html", {
        "districts": programs.district_choices(session=session),
        "form": form, "problems": problems, "blank_rows": range(BLANK_ROWS), "schemes": list(SCHEMES.values()),
        "view": view, "phase": programs.current_phase(view, date.today()) if view else None,
    }, status_code=status_code)


@pages.get("/staff/program", response_class=HTMLResponse)
def edit_program(request: Request, session: SessionDep, staff: StaffUser) -> HTMLResponse:
    view = programs.program_view(session=session)
    return _page(request, session, _form_of(view), view, [])


@pages.post("/staff/program", response_model=None)
def save_program(request: Request, submitted: PostedForm, session: SessionDep, staff: StaffUser) -> Response:
    raw = {key: [str(v) for v in submitted.getlist(key)] for key in submitted}
    form, draft, problems = _parse(raw)
    typed = _typed_names(raw)
    form.district_names = _district_names(session, typed)
    if draft is not None:
        revision = int(form.revision) if form.revision.isdigit() else None
        try:  # the districts' Spanish names join the program's unit of work
            names = {int(k): v for k, v in typed.items() if k.isdigit()}
            district_names.save_spanish_names(session=session, actor=staff, names=names, commit=False)
            programs.save_program(session=session, actor=staff, draft=draft, expected_revision=revision)
        except (ProgramError, DistrictNameError) as error:
            session.rollback()
            problems = error.problems
        else:
            flash(request, _("The program is saved."), "success")
            return RedirectResponse("/staff/program", status_code=303)
    return _page(request, session, form, programs.program_view(session=session), problems, status_code=400)


@api.get("/program", response_model=ProgramPublic, summary="The referendum program")
def get_program(session: SessionDep) -> ProgramPublic:
    """Expected revenue, categories with caps and floors, tiers, district minimum shares and phases."""
    view = programs.program_view(session=session)
    if view is None:
        raise HTTPException(404, "The program has not been set up yet.")
    return programs.program_public(view, today=date.today())


router.include_router(pages)
router.include_router(api)
