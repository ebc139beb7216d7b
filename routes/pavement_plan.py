"""The pavement plan: the public view (/plan), staff pages (/staff/plan …) and the JSON API
(/api/v1/network/…). Thin: parse, authorize, call ``app.pavement_plan.service``, render."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.costing.arithmetic import parse_dollars
from app.deps import PostedForm, SessionDep, StaffUser
from app.i18n import gettext as _
from app.impact.deterioration import Curve
from app.navigation import NavEntry
from app.pavement_plan import curves as curve_rules
from app.pavement_plan import service
from app.pavement_plan.curves import CLASSES, CurveError
from app.pavement_plan.needs import Needs
from app.pavement_plan.service import PlanError
from app.pavement_plan.simulate import MAX_BUDGET_CENTS, MAX_YEARS
from app.pavement_plan.years import plan_years
from app.web import flash, render

router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/network", tags=["pavement plan"])
NAV = [NavEntry("Pavement plan", "/plan", order=45), NavEntry("Pavement plan", "/staff/plan", "staff", order=62)]
HEADERS = {"Cache-Control": "private, max-age=60", "Vary": "Cookie, Accept-Language"}


def _policy_labels() -> dict[str, str]:
    return {"benefit_cost": _("Best benefit per dollar"), "worst_first": _("Worst first")}


# -- public ----------------------------------------------------------------------------------

def _public_year(session: Session, year: int | None) -> int | None:
    """The year a public page prices the backlog for: this year or one of the program's collection years.
    (Each other year would be a whole-network computation anyone could ask for over and over.)"""
    if year is None:
        return None
    allowed = sorted({date.today().year, *plan_years(session=session).span})
    if year not in allowed:
        raise PlanError(_("The backlog is priced for this year or the program's years ({first}–{last}).").format(
            first=allowed[0], last=allowed[-1]), field="year")
    return year


@pages.get("/plan", response_class=HTMLResponse)
def plan(request: Request, session: SessionDep, year: int | None = None) -> HTMLResponse:
    try:
        needs: Needs | None = service.needs(session=session, year=_public_year(session, year))
        problem = None
    except PlanError as error:
        needs, problem = None, str(error)
    return render(request, "plan/index.html", {
        "needs": needs, "problem": problem, "scenarios": service.list_scenarios(session=session),
        "curves": service.current_curves(session=session), "policies": _policy_labels(),
        "class_labels": curve_rules.class_labels(),
        "ballot": service.ballot_cash_flow(session=session)}, headers=HEADERS)


@pages.get("/plan/scenarios/{scenario_id}", response_class=HTMLResponse)
def scenario_page(request: Request, session: SessionDep, scenario_id: int) -> HTMLResponse:
    scenario = service.get_scenario(session=session, scenario_id=scenario_id)
    if scenario is None:
        raise HTTPException(404, _("There is no such scenario."))
    return render(request, "plan/scenario.html", {
        "scenario": scenario, "rows": scenario.result.get("rows", []),
        "nothing": scenario.result.get("do_nothing", []), "policies": _policy_labels(),
        "cash": service.scenario_cash_flow(session=session, scenario=scenario)}, headers=HEADERS)


# -- staff -----------------------------------------------------------------------------------

def _staff_page(request: Request, session: Any, *, problems: list[str] | None = None,
                form: dict[str, str] | None = None, outcome: Any = None, found: Any = None,
                status_code: int = 200) -> HTMLResponse:
    years = service.plan_years(session=session)
    defaults = {"first_year": str(years.first_year), "years": str(years.years), "policy": "benefit_cost",
                "budget": "", "target_pci": "", "name": ""}
    return render(request, "plan/staff.html", {
        "problems": problems or [], "form": {**defaults, **(form or {})}, "outcome": outcome, "found": found,
        "policies": _policy_labels(), "scenarios": service.list_scenarios(session=session)},
        status_code=status_code)


@pages.get("/staff/plan", response_class=HTMLResponse)
def staff_plan(request: Request, session: SessionDep, _staff: StaffUser) -> HTMLResponse:
    return _staff_page(request, session)


def _int(text: str, label: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise PlanError(_("{label} must be a whole number.").format(label=label)) from None


def _float(text: str, label: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise PlanError(_("{label} must be a number.").format(label=label)) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise PlanError(_("{label} must be a number.").format(label=label))
    return value


@pages.post("/staff/plan", response_class=HTMLResponse)
def staff_run(request: Request, session: SessionDep, staff: StaffUser,
              action: Annotated[str, Form()] = "run", name: Annotated[str, Form()] = "",
              first_year: Annotated[str, Form()] = "", years: Annotated[str, Form()] = "",
              policy: Annotated[str, Form()] = "benefit_cost", budget: Annotated[str, Form()] = "",
              target_pci: Annotated[str, Form()] = "") -> Any:
    form = {"name": name, "first_year": first_year, "years": years, "policy": policy, "budget": budget,
            "target_pci": target_pci}
    try:
        first, count = _int(first_year, _("The first year")), _int(years, _("The number of years"))
        cents = parse_dollars(budget, label=_("The yearly budget")) if budget.strip() else None
        target = _float(target_pci, _("The target PCI")) if target_pci.strip() else None
        if (cents is None) == (target is None):
            raise PlanError(_("Give either a yearly budget or a target PCI."))
        if action == "save":
            saved = service.save_scenario(session=session, actor=staff, name=name, first_year=first, years=count,
                                          policy=policy, yearly_budget_cents=cents, target_pci=target)
            flash(request, _("Scenario “{name}” saved; the public can see it.").format(name=saved.name), "success")
            return RedirectResponse(f"/plan/scenarios/{saved.id}", status_code=303)
        if target is not None:
            found = service.target(session=session, target_pci=target, first_year=first, years=count, policy=policy)
            return _staff_page(request, session, form=form, found=found, outcome=found.outcome)
        outcome = service.simulate(session=session, first_year=first, years=count, yearly_budget_cents=cents,
                                   policy=policy)
        return _staff_page(request, session, form=form, outcome=outcome)
    except (PlanError, ValueError) as error:
        return _staff_page(request, session, problems=[str(error)], form=form, status_code=400)


@pages.post("/staff/plan/scenarios/{scenario_id}/delete")
def staff_delete(request: Request, session: SessionDep, staff: StaffUser, scenario_id: int) -> RedirectResponse:
    try:
        service.delete_scenario(session=session, actor=staff, scenario_id=scenario_id)
    except PlanError as error:
        raise HTTPException(404, str(error)) from None
    flash(request, _("Scenario deleted."), "success")
    return RedirectResponse("/staff/plan", status_code=303)


def _curves_page(request: Request, session: Any, *, fields: dict[str, str] | None = None,
                 problems: list[str] | None = None, preview: dict[str, Curve] | None = None,
                 status_code: int = 200) -> HTMLResponse:
    current = service.current_curves(session=session)
    shown = preview or current.curves
    return render(request, "plan/curves.html", {
        "current": current, "fields": fields or service.default_curve_fields(current), "problems": problems or [],
        "classes": CLASSES, "class_labels": curve_rules.class_labels(), "chart": curve_rules.preview(shown),
        "previewing": preview is not None,
        "versions": service.curve_versions(session=session), "source": curve_rules.CURVES_SOURCE,
        "effects": sorted(current.effects.items()), "report": service.fit_curves(session=session),
        "kept": service.kept_survey_dates(session=session), "min_pairs": curve_rules.MIN_PAIRS},
        status_code=status_code)


@pages.get("/staff/plan/curves", response_class=HTMLResponse)
def curves_page(request: Request, session: SessionDep, _staff: StaffUser) -> HTMLResponse:
    return _curves_page(request, session)


@pages.post("/staff/plan/curves", response_class=HTMLResponse)
def curves_save(request: Request, data: PostedForm, session: SessionDep, staff: StaffUser) -> Any:
    fields = {k: str(v) for k, v in data.items() if k != "csrf_token"}
    problems: list[str] = []
    parsed: dict[str, Curve] = {}
    for c in CLASSES:
        values = []
        for part, label in (("rho", "ρ"), ("alpha", "α"), ("beta", "β")):
            try:
                values.append(_float(fields.get(f"{c}_{part}", ""), f"{curve_rules.class_label(c)} {label}"))
            except PlanError as error:
                problems.append(str(error))
        if len(values) == 3:
            parsed[c] = Curve(*values)
    if not problems:
        try:
            curve_rules.validate(parsed, {})
        except CurveError as error:
            problems.extend(error.problems)
    if problems:
        return _curves_page(request, session, fields=fields, problems=problems, status_code=400)
    if fields.get("action") == "preview":
        return _curves_page(request, session, fields=fields, preview=parsed)
    current = service.current_curves(session=session)
    try:
        version = service.save_curves(session=session, actor=staff, curves=parsed, effects=current.effects,
                                      note=fields.get("note", ""))
    except CurveError as error:
        return _curves_page(request, session, fields=fields, problems=error.problems, preview=parsed, status_code=400)
    flash(request, _("Curves version {number} saved and in use.").format(number=version.number), "success")
    return RedirectResponse("/staff/plan/curves", status_code=303)


@pages.post("/staff/plan/surveys/keep")
def survey_keep(request: Request, session: SessionDep, staff: StaffUser) -> Any:
    try:
        added = service.keep_survey(session=session, actor=staff)
    except PlanError as error:
        return _curves_page(request, session, problems=[str(error)], status_code=400)
    flash(request, _("{count} observations kept.").format(count=added), "success")
    return RedirectResponse("/staff/plan/curves", status_code=303)


@pages.post("/staff/plan/curves/fit")
def curves_fit(request: Request, session: SessionDep, staff: StaffUser) -> Any:
    try:
        version = service.apply_fit(session=session, actor=staff)
    except (PlanError, CurveError) as error:
        return _curves_page(request, session, problems=[str(error)], status_code=400)
    flash(request, _("Curves version {number} saved and in use.").format(number=version.number), "success")
    return RedirectResponse("/staff/plan/curves", status_code=303)


# -- API -------------------------------------------------------------------------------------

class NeedsGroupOut(BaseModel):
    key: str
    label: str
    segments: int
    miles: float
    cents: int


class NeedsOut(BaseModel):
    year: int = Field(description="The year the work is priced for (escalation from the catalog's base year).")
    catalog_version: int | None
    total_cents: int = Field(description="The backlog: the sum of every segment's one-segment estimate.")
    segments: int
    needing_work: int
    unrated: int
    by_treatment: list[NeedsGroupOut]
    by_band: list[NeedsGroupOut]
    by_class: list[NeedsGroupOut]
    by_district: list[NeedsGroupOut]
    unpriced: int = Field(0, description="Rated segments the catalog has no treatment for.")


class YearOut(BaseModel):
    year: int
    network_pci: float | None
    spent_cents: int
    treated_segments: int
    treated_miles: float
    backlog_cents: int
    deferred_cents: int | None = Field(None, description="The year's needed work the budget did not fund (absent "
                                                          "in scenarios saved before it was reported).")


class ScenarioOut(BaseModel):
    id: int
    name: str
    kind: str = Field(description="budget (a yearly budget) or target (the budget a target PCI needs)")
    policy: str
    first_year: int
    years: int
    yearly_budget_cents: int
    target_pci: float | None
    catalog_version: int | None
    curve_version: int | None
    rows: list[YearOut] = Field(description="Year 0 (today), then each plan year.")
    do_nothing: list[YearOut]


class CurveOut(BaseModel):
    functional_class: str
    rho: float
    alpha: float
    beta: float


class CurvesOut(BaseModel):
    version: int | None = Field(description="None: Groundwork's defaults")
    curves: list[CurveOut]
    effects: dict[str, dict[str, Any]]


class CashYearOut(BaseModel):
    year: int
    revenue_cents: int
    spending_cents: int
    balance_cents: int = Field(description="Revenue to date minus spending to date.")


class CashFlowOut(BaseModel):
    title: str
    ok: bool = Field(description="Spending to date never exceeds revenue to date.")
    unscheduled_cents: int
    rows: list[CashYearOut]


@api.get("/needs", response_model=NeedsOut)
def api_needs(session: SessionDep, year: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> NeedsOut:
    """The network's backlog: each rated segment's treatment by the catalog's rules, priced like a proposal,
    for this year (default) or one of the program's collection years."""
    try:
        return NeedsOut(**service.needs_data(service.needs(session=session, year=_public_year(session, year))))
    except PlanError as error:
        raise HTTPException(400, str(error)) from None


def _scenario_out(s: Any) -> ScenarioOut:
    return ScenarioOut(id=s.id or 0, name=s.name, kind=s.kind, policy=s.policy, first_year=s.first_year, years=s.years,
                       yearly_budget_cents=s.yearly_budget_cents, target_pci=s.target_pci,
                       catalog_version=s.result.get("catalog_version"), curve_version=s.result.get("curve_version"),
                       rows=[YearOut(**r) for r in s.result.get("rows", [])],
                       do_nothing=[YearOut(**r) for r in s.result.get("do_nothing", [])])


@api.get("/scenarios", response_model=list[ScenarioOut])
def api_scenarios(session: SessionDep) -> list[ScenarioOut]:
    """Saved budget scenarios, newest first, with their results by year."""
    return [_scenario_out(s) for s in service.list_scenarios(session=session)]


class ScenarioRunOut(BaseModel):
    kind: str = Field(description="budget (the yearly budget given) or target (the smallest budget reaching the "
                                  "target PCI)")
    policy: str
    first_year: int
    years: int
    yearly_budget_cents: int | None = Field(description="None: the target cannot be reached")
    target_pci: float | None = None
    reachable: bool | None = None
    below_cents: int | None = Field(None, description="Target: the largest budget tried that does not reach it.")
    tolerance_cents: int | None = Field(None, description="Target: the answer is within this of the smallest "
                                                          "budget reaching the target.")
    steps: int | None = Field(None, description="Target: full simulations run.")
    catalog_version: int | None
    curve_version: int | None
    rows: list[YearOut] = Field(description="Year 0 (today), then each plan year.")
    do_nothing: list[YearOut]


@api.get("/scenarios/run", response_model=ScenarioRunOut)
def api_run_scenario(
        session: SessionDep,
        _staff: StaffUser,
        yearly_budget_cents: Annotated[int | None, Query(ge=0, le=MAX_BUDGET_CENTS)] = None,
        target_pci: Annotated[float | None, Query(ge=0, le=100)] = None,
        years: Annotated[int | None, Query(ge=1, le=MAX_YEARS)] = None,
        first_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
        policy: Annotated[str, Query(pattern="^(benefit_cost|worst_first)$")] = "benefit_cost") -> ScenarioRunOut:
    """Run a scenario without saving it: a yearly budget → network PCI, backlog and deferred maintenance by
    year; or a target PCI → the smallest yearly budget reaching it (within $10,000). Same numbers as
    `groundwork network scenario`. Staff only: a new question costs seconds of the server's time
    (a target search is a dozen whole-network simulations); the saved scenarios are public."""
    try:
        return ScenarioRunOut(**service.run_scenario(
            session=session, years=years, first_year=first_year, policy=policy,
            yearly_budget_cents=yearly_budget_cents, target_pci=target_pci))
    except PlanError as error:
        raise HTTPException(400, str(error)) from None


@api.get("/scenarios/{scenario_id}", response_model=ScenarioOut)
def api_scenario(session: SessionDep, scenario_id: int) -> ScenarioOut:
    scenario = service.get_scenario(session=session, scenario_id=scenario_id)
    if scenario is None:
        raise HTTPException(404, "There is no such scenario.")
    return _scenario_out(scenario)


@api.get("/curves", response_model=CurvesOut)
def api_curves(session: SessionDep) -> CurvesOut:
    """The deterioration curves in use (PCI = 100 − ρ / ln(α/age)^(1/β)) and the treatments' effects."""
    current = service.current_curves(session=session)
    return CurvesOut(version=current.version.number if current.version else None,
                     curves=[CurveOut(functional_class=k, rho=c.rho, alpha=c.alpha, beta=c.beta)
                             for k, c in current.curves.items()],
                     effects={k: {"kind": e.kind, "value": e.value} for k, e in current.effects.items()})


@api.get("/cashflow", response_model=CashFlowOut)
def api_cashflow(session: SessionDep, scenario: int | None = None) -> CashFlowOut:
    """Spending by year against revenue collected: a saved scenario's, or the published list's."""
    if scenario is not None:
        found = service.get_scenario(session=session, scenario_id=scenario)
        if found is None:
            raise HTTPException(404, "There is no such scenario.")
        view = service.scenario_cash_flow(session=session, scenario=found)
    else:
        ballot = service.ballot_cash_flow(session=session)
        if ballot is None:
            raise HTTPException(404, "No list has been published yet.")
        view = ballot
    return CashFlowOut(title=view.title, ok=view.flow.ok, unscheduled_cents=view.flow.unscheduled_cents,
                       rows=[CashYearOut(year=r.year, revenue_cents=r.revenue_cents, spending_cents=r.spending_cents,
                                         balance_cents=r.balance_cents) for r in view.flow.rows])


router.include_router(pages)
router.include_router(api)
