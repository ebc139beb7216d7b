"""Staff scenarios (/staff/scenarios): working lists, the optimizer, hand edits, comparison, publishing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.costing.arithmetic import parse_dollars, parse_percent
from app.deps import PostedForm, SessionDep, SettingsDep, StaffUser
from app.i18n import N_
from app.i18n import gettext as _
from app.navigation import NavEntry
from app.optimizer import OptimizerInputError
from app.pavement_plan.service import PlanError
from app.scenarios import ScenarioError, ballot_cash, compare, pavement, publish, scenarios
from app.web import flash, render, use_viewer_language

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("Scenarios", "/staff/scenarios", "staff", order=63)]
# parse_percent's and parse_dollars' refusals for the labels below, translated when shown
AMOUNT_PROBLEMS = (
    N_("The target share must be a percentage, such as 8.5."), N_("The target share can have at most two decimals."),
    N_("The target share is too large."),
    N_("The borrowing limit must be an amount in dollars, such as 1,250.00."),
    N_("The borrowing limit must be in dollars and cents (at most two decimals)."),
    N_("The borrowing limit must not be negative."), N_("The borrowing limit is too large."))


def _int(value: Any, label: str | None = None) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise HTTPException(400, _("{label} must be a whole number, not “{text}”.").format(
            label=label or _("The value"), text=text))
    return int(text)


def _pool(session: SessionDep, scenario_id: int) -> scenarios.Pool:
    try:
        return scenarios.pool(session=session, scenario_id=scenario_id)
    except LookupError as error:
        raise HTTPException(404, _("There is no such scenario.")) from error
    except ScenarioError as error:
        raise HTTPException(409, str(error)) from error


@router.get("/staff/scenarios", response_class=HTMLResponse)
def scenario_list(request: Request, session: SessionDep, viewer: StaffUser) -> Response:
    return render(request, "scenarios/list.html", {"scenarios": scenarios.list_scenarios(session=session),
                                                   "published": publish.latest(session=session)})


@router.post("/staff/scenarios", response_model=None)
def scenario_create(request: Request, form: PostedForm, session: SessionDep, viewer: StaffUser) -> Response:
    try:
        share = parse_percent(str(form.get("target_share", "100")), label="The target share")
        scenario = scenarios.create_scenario(session=session, actor=viewer, name=str(form.get("name", "")),
                                             target_share_bps=share if share is not None else 10_000)
    except (ScenarioError, ValueError) as error:
        flash(request, _(str(error)), "error")
        return RedirectResponse("/staff/scenarios", status_code=303)
    return RedirectResponse(f"/staff/scenarios/{scenario.id}", status_code=303)


@router.get("/staff/scenarios/compare", response_class=HTMLResponse)
def scenario_compare(request: Request, session: SessionDep, viewer: StaffUser) -> Response:
    a = _int(request.query_params.get("a"), _("Scenario A"))
    b = _int(request.query_params.get("b"), _("Scenario B"))
    if a is None or b is None:
        raise HTTPException(400, _("Choose two scenarios to compare."))
    try:
        found = compare.compare(session=session, a_id=a, b_id=b)
    except LookupError as error:
        raise HTTPException(404, _("There is no such scenario.")) from error
    return render(request, "scenarios/compare.html", {"c": found})


def _page(request: Request, session: SessionDep, scenario_id: int, status_code: int = 200,
          **extra: Any) -> Response:
    p = _pool(session, scenario_id)
    outcome = scenarios.current_outcome(p)
    published = scenarios.published_from(session=session, scenario_id=scenario_id)
    latest = publish.latest(session=session)
    on_ballot = latest is not None and latest.scenario_id == scenario_id  # its proposals left the candidates
    cash = (ballot_cash.cash_view(session=session) if on_ballot else None) or scenarios.cash_view(p, outcome)
    context = {"p": p, "outcome": outcome, "optimized": None, "addition": None,
               "cash": cash, "schedule": scenarios.schedule_of(p, outcome.selection),
               "published": published,
               "readiness": publish.readiness(session=session, scenario_id=scenario_id),
               "tiers": [t.number for t in p.rules.tiers], **extra}
    return render(request, "scenarios/detail.html", context, status_code=status_code)


@router.get("/staff/scenarios/{scenario_id}", response_class=HTMLResponse)
def scenario_detail(request: Request, scenario_id: int, session: SessionDep, viewer: StaffUser) -> Response:
    addition = None
    if (target := _int(request.query_params.get("add"), _("The proposal"))) is not None:
        try:
            addition = scenarios.what_it_takes(session=session, scenario_id=scenario_id, proposal_id=target)
        except (ScenarioError, OptimizerInputError) as error:
            raise HTTPException(400, str(error)) from error
    return _page(request, session, scenario_id, addition=addition)


@router.post("/staff/scenarios/{scenario_id}/optimize", response_class=HTMLResponse)
def scenario_optimize(request: Request, scenario_id: int, session: SessionDep, viewer: StaffUser) -> Response:
    _pool(session, scenario_id)
    try:
        optimized = scenarios.optimize_scenario(session=session, actor=viewer, scenario_id=scenario_id)
    except (ScenarioError, OptimizerInputError) as error:
        flash(request, str(error), "error")
        return RedirectResponse(f"/staff/scenarios/{scenario_id}", status_code=303)
    return _page(request, session, scenario_id, optimized=optimized,
                 status_code=200 if optimized.applied else 422)


@router.post("/staff/scenarios/{scenario_id}/items", response_model=None)
def scenario_item(request: Request, form: PostedForm, scenario_id: int, session: SessionDep,
                  viewer: StaffUser) -> Response:
    proposal_id = _int(form.get("proposal_id"), _("The proposal")) or 0
    try:
        if "year" in form:
            scenarios.set_year(session=session, actor=viewer, scenario_id=scenario_id, proposal_id=proposal_id,
                               year=_int(form.get("year"), _("The year")))
        elif "lock" in form:
            lock = str(form.get("lock") or "") or None
            scenarios.set_lock(session=session, actor=viewer, scenario_id=scenario_id, proposal_id=proposal_id,
                               lock=lock)
        else:
            scenarios.set_tier(session=session, actor=viewer, scenario_id=scenario_id, proposal_id=proposal_id,
                               tier=_int(form.get("tier"), _("The tier")))
    except LookupError as error:
        raise HTTPException(404, _("There is no such scenario.")) from error
    except ScenarioError as error:
        flash(request, str(error), "error")
    return RedirectResponse(f"/staff/scenarios/{scenario_id}", status_code=303)


@router.post("/staff/scenarios/{scenario_id}/cash-flow", response_model=None)
def scenario_cash_flow(request: Request, form: PostedForm, scenario_id: int, session: SessionDep,
                       viewer: StaffUser) -> Response:
    """Whether the optimizer respects annual cash flow, and the borrowing limit."""
    try:
        limit = parse_dollars(str(form.get("borrowing_limit") or ""), label="The borrowing limit") or 0
        scenarios.set_cash_flow(session=session, actor=viewer, scenario_id=scenario_id,
                                respect=form.get("respect_cash_flow") == "on", borrowing_limit_cents=limit)
    except LookupError as error:
        raise HTTPException(404, _("There is no such scenario.")) from error
    except (ScenarioError, ValueError) as error:
        flash(request, _(str(error)), "error")
    else:
        flash(request, _("Cash-flow settings saved."), "success")
    return RedirectResponse(f"/staff/scenarios/{scenario_id}#cash-flow", status_code=303)


@router.get("/staff/scenarios/{scenario_id}/pavement", response_class=HTMLResponse)
def scenario_pavement(request: Request, scenario_id: int, session: SessionDep, viewer: StaffUser) -> Response:
    """The list against "do nothing" and the pavement plan with the same money: network PCI by year."""
    p = _pool(session, scenario_id)
    try:
        found, problem = pavement.compare(session=session, scenario_id=scenario_id), None
    except PlanError as error:
        found, problem = None, str(error)
    return render(request, "scenarios/pavement.html", {"p": p, "found": found, "problem": problem},
                  status_code=200 if found else 409)


def _confirm_page(request: Request, session: SessionDep, scenario_id: int, status_code: int = 200,
                  **extra: Any) -> Response:
    p = _pool(session, scenario_id)
    return render(request, "scenarios/publish_confirm.html",
                  {"p": p, "plan": publish.plan(session=session, scenario_id=scenario_id),
                   "readiness": publish.readiness(session=session, scenario_id=scenario_id), **extra},
                  status_code=status_code)


@router.get("/staff/scenarios/{scenario_id}/publish", response_class=HTMLResponse)
def scenario_publish_confirm(request: Request, scenario_id: int, session: SessionDep, viewer: StaffUser) -> Response:
    """The confirmation step: what publishing will do, and the button that does it."""
    return _confirm_page(request, session, scenario_id)


@router.post("/staff/scenarios/{scenario_id}/publish", response_model=None)
def scenario_publish(request: Request, form: PostedForm, scenario_id: int, session: SessionDep, settings: SettingsDep,
                     viewer: StaffUser) -> Response:
    _pool(session, scenario_id)
    try:
        if form.get("confirm") != "yes":
            ready = publish.readiness(session=session, scenario_id=scenario_id)
            if ready.problems:
                raise ScenarioError(" ".join(ready.problems))
            return _confirm_page(request, session, scenario_id, status_code=422,
                                 confirm_error=_("Nothing was published: confirm below to publish the ballot list."))
        published = publish.publish(session=session, settings=settings, actor=viewer, scenario_id=scenario_id,
                                    scenario_version=_int(form.get("scenario_version"), _("The scenario version")))
    except ScenarioError as error:
        return _page(request, session, scenario_id, status_code=409, publish_error=str(error))
    flash(request, _("Published ballot list version {version}; hash {hash}.").format(
        version=published.version, hash=published.content_hash), "success")
    return RedirectResponse("/ballot", status_code=303)
