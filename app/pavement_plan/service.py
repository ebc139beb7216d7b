"""The pavement plan's database side: segments, curve versions, kept surveys, saved scenarios,
cash flow. Functions take ``*, session``; the ones that write commit once, after validating."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit, i18n
from app.costing import catalog
from app.costing.estimate import CatalogSnapshot, PavementAsset
from app.i18n import gettext as _
from app.impact.deterioration import CURVES, Curve
from app.layers.summary import pavement_scheme
from app.pavement_plan import curves as curve_rules
from app.pavement_plan.cashflow import CashFlow, cash_flow, revenue_by_year
from app.pavement_plan.curves import (
    CLASSES,
    DEFAULT_EFFECTS,
    ClassFit,
    CurveError,
    Effect,
    Observation,
    Pairing,
)
from app.pavement_plan.in_use import current_version, impact_curves, parse_curves
from app.pavement_plan.needs import Group, Needs, Pricer, Segment, network_needs
from app.pavement_plan.simulate import (
    DEFAULT_TOLERANCE_CENTS,
    Network,
    Outcome,
    ScenarioError,
    TargetResult,
    budget_for_target,
    run,
)
from app.pavement_plan.years import PlanYears, plan_years
from app.scenarios import ballot_cash
from models.accounts import User
from models.costs import CatalogVersion
from models.layers import District, Layer, PavementSegment
from models.pavement_plan import CurveVersion, PlanScenario, SurveyObservation

__all__ = ["impact_curves"]


class PlanError(ValueError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# -- inputs ----------------------------------------------------------------------------------

def load_segments(*, session: Session) -> list[Segment]:
    names = dict(session.exec(select(District.id, District.name)).all())
    rows = session.exec(select(PavementSegment.id,  # type: ignore[call-overload, misc]  # sqlmodel: <= 4 columns
                               PavementSegment.length_m, PavementSegment.functional_class,
                               PavementSegment.width_m, PavementSegment.lanes, PavementSegment.pci,
                               PavementSegment.district_id, PavementSegment.street_name)
                        .order_by(col(PavementSegment.id)))
    return [Segment(PavementAsset(sid or 0, length, functional_class or "local", width, lanes, pci),
                    names.get(district_id) if district_id is not None else None, street)
            for sid, length, functional_class, width, lanes, pci, district_id, street in rows]


def _catalog(session: Session) -> CatalogSnapshot:
    version = catalog.current_version(session=session)
    if version is None:
        raise PlanError(_("The cost catalog is empty; staff must set it up first."), field="catalog_version")
    return catalog.snapshot(session=session, version=version)


# -- curves ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CurveSet:
    curves: dict[str, Curve]
    effects: dict[str, Effect]
    version: CurveVersion | None  # None: Groundwork's defaults, never edited


def _parse_effects(data: Mapping[str, Any]) -> dict[str, Effect]:
    return {k: Effect(str(v["kind"]), float(v["value"])) for k, v in data.items()}


def current_curves(*, session: Session) -> CurveSet:
    version = current_version(session=session)
    if version is None:
        return CurveSet(dict(CURVES), dict(DEFAULT_EFFECTS), None)
    return CurveSet(parse_curves(version.curves), _parse_effects(version.effects), version)


def curve_versions(*, session: Session) -> list[CurveVersion]:
    return list(session.exec(select(CurveVersion).order_by(col(CurveVersion.number).desc())))


def save_curves(*, session: Session, actor: User | None, curves: Mapping[str, Curve], effects: Mapping[str, Effect],
                note: str, fit: dict[str, Any] | None = None) -> CurveVersion:
    """Write the next curve version and make it current; refuses bad values or a missing reason."""
    problems = []
    try:
        curve_rules.validate(curves, effects)
    except CurveError as error:
        problems = list(error.problems)
    if not note.strip():
        problems.append(_("Say why the curves change (the note is kept with the version)."))
    elif len(note) > 2000:
        problems.append(_("Keep the note under 2,000 characters."))
    if problems:
        raise CurveError(problems)
    previous = current_version(session=session)
    number = (session.exec(select(func.max(CurveVersion.number))).one() or 0) + 1
    session.execute(update(CurveVersion).where(col(CurveVersion.is_current)).values(is_current=False))
    version = CurveVersion(
        number=number, created_by_id=actor.id if actor else None, note=note.strip(), is_current=True,
        curves={k: {"rho": c.rho, "alpha": c.alpha, "beta": c.beta} for k, c in curves.items()},
        effects={k: {"kind": e.kind, "value": e.value} for k, e in effects.items()}, fit=fit)
    session.add(version)
    session.flush()
    audit.record(session=session, actor=actor, action="curves.version_created", object_type="pavement_curve_version",
                 object_id=version.id, before={"version": previous.number} if previous else None,
                 after={"version": number, "note": version.note, "curves": version.curves})
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise CurveError([_("Someone saved the curves at the same moment; reload and try again.")]) from error
    return version


# -- surveys and fitting ---------------------------------------------------------------------

def _live_observations(session: Session) -> list[Observation]:
    rows = session.exec(select(col(PavementSegment.source_id), col(PavementSegment.functional_class),
                               col(PavementSegment.survey_date), col(PavementSegment.pci))
                        .where(col(PavementSegment.source_id).is_not(None), col(PavementSegment.pci).is_not(None),
                               col(PavementSegment.survey_date).is_not(None)))
    return [Observation(str(s), (c or "local").lower(), d, float(p)) for s, c, d, p in rows
            if d is not None and p is not None]  # as the query asks


def kept_survey_dates(*, session: Session) -> list[tuple[date, int]]:
    """The survey dates kept so far, with how many segments each."""
    rows = session.exec(select(col(SurveyObservation.survey_date), func.count())
                        .group_by(col(SurveyObservation.survey_date)).order_by(col(SurveyObservation.survey_date)))
    return [(d, int(n)) for d, n in rows]


def keep_survey(*, session: Session, actor: User | None) -> int:
    """Keep the pavement layer's current PCIs (by source key and survey date) so a later re-import
    can be compared with them. Observations already kept are left as they are. Returns how many
    were added."""
    live = _live_observations(session)
    if not live:
        raise PlanError(_("No pavement segment has a source key, a PCI and a survey date, so there is nothing "
                          "to keep; import a pavement layer with its survey dates first."))
    kept = set(session.exec(select(col(SurveyObservation.source_id), col(SurveyObservation.survey_date))).all())
    added = 0
    for item in live:
        if (item.source_id, item.survey_date) in kept:
            continue
        kept.add((item.source_id, item.survey_date))
        session.add(SurveyObservation(source_id=item.source_id, functional_class=item.functional_class,
                                      survey_date=item.survey_date, pci=item.pci,
                                      recorded_by_id=actor.id if actor else None))
        added += 1
    audit.record(session=session, actor=actor, action="survey.kept", object_type="pavement_survey_observation",
                 after={"added": added, "segments": len(live)})
    session.commit()
    return added


def observations(*, session: Session) -> list[Observation]:
    """Every kept observation and the live layer's (the live one wins on the same key and date)."""
    kept = [Observation(o.source_id, o.functional_class, o.survey_date, o.pci)
            for o in session.exec(select(SurveyObservation))]
    return kept + _live_observations(session)


@dataclass(frozen=True)
class FitReport:
    pairing: Pairing
    fits: list[ClassFit]
    current: CurveSet

    @property
    def any_fitted(self) -> bool:
        return any(f.fitted for f in self.fits)


def fit_curves(*, session: Session) -> FitReport:
    current = current_curves(session=session)
    pairing = curve_rules.pairs_from(observations(session=session))
    return FitReport(pairing, curve_rules.fit(pairing.pairs, current.curves), current)


def apply_fit(*, session: Session, actor: User | None) -> CurveVersion:
    """A new curve version with every class that could be fitted replaced by its fit."""
    report = fit_curves(session=session)
    if not report.any_fitted:
        raise PlanError(" ".join(f.message for f in report.fits))
    curves = dict(report.current.curves)
    fit_data: dict[str, Any] = {"pairs": len(report.pairing.pairs), "treated_left_out": report.pairing.treated}
    for result in report.fits:
        fit_data[result.functional_class] = {"pairs": result.pairs, "rmse": result.rmse,
                                             "r_squared": result.r_squared, "fitted": result.fitted}
        if result.curve is not None:
            curves[result.functional_class] = result.curve
    fitted = ", ".join(curve_rules.class_label(f.functional_class) for f in report.fits if f.fitted)
    note = _("Fitted from {pairs} pairs of survey observations ({classes}).").format(
        pairs=len(report.pairing.pairs), classes=fitted)
    return save_curves(session=session, actor=actor, curves=curves, effects=report.current.effects, note=note,
                       fit=fit_data)


# -- needs and scenarios ---------------------------------------------------------------------

_NEEDS_CACHE: OrderedDict[tuple[Any, ...], Needs] = OrderedDict()
_NEEDS_CACHE_SIZE = 16
_NEEDS_LOCK = threading.Lock()
_SCENARIO_CACHE: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()  # run_scenario's, the same way


def _needs_key(session: Session, year: int) -> tuple[Any, ...]:
    """What the backlog depends on: the viewer's language (its labels), the pavement and district
    layers' revisions, the catalog and curve versions in use, the year priced, and (a guard against
    writes that bypass the layer store) the segments' count, highest id and PCI sum. One small query
    each; the backlog itself is not read."""
    revisions = dict(session.exec(select(col(Layer.kind), col(Layer.revision))
                                  .where(col(Layer.kind).in_(("pavement", "district")))).all())
    catalog_version = session.exec(select(CatalogVersion.id, CatalogVersion.created_at)
                                   .where(col(CatalogVersion.is_current))).first()
    curves = current_version(session=session)
    count, highest, pci_sum = session.exec(select(func.count(), func.max(PavementSegment.id),
                                                  func.sum(PavementSegment.pci))).one()
    return (str(session.get_bind().engine.url), i18n.current(), revisions.get("pavement"), revisions.get("district"),
            tuple(catalog_version) if catalog_version else None,
            (curves.id, curves.created_at) if curves else None, year, count, highest,
            None if pci_sum is None else round(float(pci_sum), 6))


def needs(*, session: Session, year: int | None = None) -> Needs:
    """The backlog today, priced for work in ``year`` (default: this year). Remembered by what it
    depends on (``_needs_key``), so a second view is instant and an import, a new catalog version or
    new curves make it computed again."""
    year = year or date.today().year
    key = _needs_key(session, year)
    with _NEEDS_LOCK:
        if key in _NEEDS_CACHE:
            _NEEDS_CACHE.move_to_end(key)
            return _NEEDS_CACHE[key]
    snapshot = _catalog(session)
    segments = load_segments(session=session)
    if not segments:
        raise PlanError(_("There is no pavement layer yet; import one (groundwork import pavement FILE) first."))
    try:
        found = network_needs(segments, snapshot, year=year, band_scheme=pavement_scheme(session=session))
    except ValueError as error:
        raise PlanError(str(error), field="year") from error
    with _NEEDS_LOCK:
        _NEEDS_CACHE[key] = found
        while len(_NEEDS_CACHE) > _NEEDS_CACHE_SIZE:
            _NEEDS_CACHE.popitem(last=False)
    return found


def needs_or_none(*, session: Session) -> Needs | None:
    """The backlog for the dashboards: None when there is no pavement layer or cost catalog yet."""
    try:
        return needs(session=session)
    except PlanError:
        return None


def _group_data(groups: list[Group]) -> list[dict[str, Any]]:
    return [{"key": g.key, "label": g.label, "segments": g.segments, "miles": round(g.miles, 3), "cents": g.cents}
            for g in groups]


def needs_data(found: Needs) -> dict[str, Any]:
    """The backlog as plain data: what /api/v1/network/needs and `groundwork network needs --json` give."""
    return {"year": found.year, "catalog_version": found.catalog_version, "total_cents": found.total_cents,
            "segments": found.segments, "needing_work": found.needing_work, "unrated": found.unrated,
            "unpriced": len(found.unpriced), "by_treatment": _group_data(found.by_treatment),
            "by_band": _group_data(found.by_band), "by_class": _group_data(found.by_class),
            "by_district": _group_data(found.by_district)}


def network(*, session: Session) -> Network:
    current = current_curves(session=session)
    return Network(load_segments(session=session), Pricer(_catalog(session)), current.curves, current.effects)


def simulate(*, session: Session, first_year: int, years: int, yearly_budget_cents: int | None,
             policy: str) -> Outcome:
    try:
        return run(network(session=session), first_year=first_year, years=years,
                   yearly_budget_cents=yearly_budget_cents, policy=policy)
    except (ScenarioError, ValueError) as error:
        raise PlanError(str(error), field=getattr(error, "field", None)) from error


def target(*, session: Session, target_pci: float, first_year: int, years: int, policy: str,
           tolerance_cents: int = DEFAULT_TOLERANCE_CENTS) -> TargetResult:
    try:
        return budget_for_target(network(session=session), target_pci=target_pci, first_year=first_year,
                                 years=years, policy=policy, tolerance_cents=tolerance_cents)
    except (ScenarioError, ValueError) as error:
        raise PlanError(str(error), field=getattr(error, "field", None)) from error


def outcome_data(outcome: Outcome) -> list[dict[str, Any]]:
    return [{"year": r.year, "network_pci": None if r.network_pci is None else round(r.network_pci, 2),
             "spent_cents": r.spent_cents, "treated_segments": r.treated_segments,
             "treated_miles": round(r.treated_miles, 3), "backlog_cents": r.backlog_cents,
             "deferred_cents": r.deferred_cents} for r in outcome.rows]


def run_scenario(*, session: Session, years: int | None = None, first_year: int | None = None,
                 policy: str = "benefit_cost", yearly_budget_cents: int | None = None,
                 target_pci: float | None = None, tolerance_cents: int = DEFAULT_TOLERANCE_CENTS) -> dict[str, Any]:
    """A budget scenario (a yearly budget → network PCI, backlog and deferred maintenance by year) or a
    target one (a target PCI → the smallest yearly budget reaching it, within ``tolerance_cents``), with
    "do nothing" beside it, as plain data: what /api/v1/network/scenarios/run and `groundwork network
    scenario` give. Years and first year default to the program's collection years. Nothing is saved; the
    result is remembered like the backlog (the same question again is answered at once); callers must
    not change it."""
    if (yearly_budget_cents is None) == (target_pci is None):
        raise PlanError(_("Give either a yearly budget or a target PCI."), field="budget")
    span = plan_years(session=session) if years is None or first_year is None else None
    first = first_year if first_year is not None else span.first_year if span else date.today().year
    count = years if years is not None else span.years if span else 5
    key = (*_needs_key(session, 0), count, first, policy, yearly_budget_cents, target_pci, tolerance_cents)
    with _NEEDS_LOCK:
        if key in _SCENARIO_CACHE:
            _SCENARIO_CACHE.move_to_end(key)
            return _SCENARIO_CACHE[key]
    result = _run_scenario(session=session, years=count, first_year=first, policy=policy,
                           yearly_budget_cents=yearly_budget_cents, target_pci=target_pci,
                           tolerance_cents=tolerance_cents)
    with _NEEDS_LOCK:
        _SCENARIO_CACHE[key] = result
        while len(_SCENARIO_CACHE) > _NEEDS_CACHE_SIZE:
            _SCENARIO_CACHE.popitem(last=False)
    return result


def _run_scenario(*, session: Session, years: int, first_year: int, policy: str, yearly_budget_cents: int | None,
                  target_pci: float | None, tolerance_cents: int) -> dict[str, Any]:
    first, count = first_year, years
    snapshot = _catalog(session)
    curve_set = current_curves(session=session)
    result: dict[str, Any] = {"policy": policy, "first_year": first, "years": count, "target_pci": None,
                              "reachable": None, "below_cents": None, "tolerance_cents": None, "steps": None,
                              "catalog_version": snapshot.version_number,
                              "curve_version": curve_set.version.number if curve_set.version else None}
    net = Network(load_segments(session=session), Pricer(snapshot), curve_set.curves, curve_set.effects)
    try:
        if target_pci is not None:
            found = budget_for_target(net, target_pci=target_pci, first_year=first, years=count, policy=policy,
                                      tolerance_cents=tolerance_cents)
            outcome = found.outcome
            result.update(kind="target", target_pci=target_pci, reachable=found.reachable,
                          yearly_budget_cents=found.yearly_budget_cents, below_cents=found.below_cents,
                          tolerance_cents=found.tolerance_cents, steps=found.steps)
        else:
            outcome = run(net, first_year=first, years=count, yearly_budget_cents=yearly_budget_cents, policy=policy)
            result.update(kind="budget", yearly_budget_cents=yearly_budget_cents)
        nothing = run(net, first_year=first, years=count, yearly_budget_cents=0, policy=policy)
    except (ScenarioError, ValueError) as error:
        raise PlanError(str(error), field=getattr(error, "field", None)) from error
    result.update(rows=outcome_data(outcome), do_nothing=outcome_data(nothing))
    return result


def save_scenario(*, session: Session, actor: User | None, name: str, first_year: int, years: int, policy: str,
                  yearly_budget_cents: int | None = None, target_pci: float | None = None) -> PlanScenario:
    """Run a budget scenario (a yearly budget) or a target one (a target PCI) and save it by name."""
    name = name.strip()
    if not name or len(name) > 200:
        raise PlanError(_("Give the scenario a name (200 characters at most)."), field="name")
    if session.exec(select(PlanScenario.id).where(PlanScenario.name == name)).first() is not None:
        raise PlanError(_("There is already a scenario named “{name}”.").format(name=name), field="name")
    if (yearly_budget_cents is None) == (target_pci is None):
        raise PlanError(_("Give either a yearly budget or a target PCI."), field="budget")
    snapshot = _catalog(session)
    curve_set = current_curves(session=session)
    extra: dict[str, Any] = {}
    if target_pci is not None:
        found = target(session=session, target_pci=target_pci, first_year=first_year, years=years, policy=policy)
        if not found.reachable or found.yearly_budget_cents is None:
            raise PlanError(_("Even treating every segment that needs work each year, the network PCI after {years} "
                              "years would be {pci:.1f}, short of {target:g}.").format(
                years=years, pci=found.outcome.final_pci or 0, target=target_pci), field="target_pci")
        budget, outcome, kind = found.yearly_budget_cents, found.outcome, "target"
        extra = {"tolerance_cents": found.tolerance_cents, "below_cents": found.below_cents}
    else:
        assert yearly_budget_cents is not None
        budget = yearly_budget_cents
        outcome = simulate(session=session, first_year=first_year, years=years, yearly_budget_cents=budget,
                           policy=policy)
        kind = "budget"
    nothing = simulate(session=session, first_year=first_year, years=years, yearly_budget_cents=0, policy=policy)
    scenario = PlanScenario(
        name=name, created_by_id=actor.id if actor else None, kind=kind, policy=policy, first_year=first_year,
        years=years, yearly_budget_cents=budget, target_pci=target_pci,
        result={"rows": outcome_data(outcome), "do_nothing": outcome_data(nothing),
                "catalog_version": snapshot.version_number,
                "curve_version": curve_set.version.number if curve_set.version else None, **extra})
    session.add(scenario)
    session.flush()
    audit.record(session=session, actor=actor, action="plan.scenario_saved", object_type="pavement_plan_scenario",
                 object_id=scenario.id, after={"name": name, "kind": kind, "yearly_budget_cents": budget})
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise PlanError(_("There is already a scenario named “{name}”.").format(name=name), field="name") from error
    return scenario


def list_scenarios(*, session: Session) -> list[PlanScenario]:
    return list(session.exec(select(PlanScenario).order_by(col(PlanScenario.created_at).desc(),
                                                           col(PlanScenario.id).desc())))


def get_scenario(*, session: Session, scenario_id: int) -> PlanScenario | None:
    return session.get(PlanScenario, scenario_id)


def delete_scenario(*, session: Session, actor: User | None, scenario_id: int) -> None:
    scenario = session.get(PlanScenario, scenario_id)
    if scenario is None:
        raise PlanError(_("There is no such scenario."))
    audit.record(session=session, actor=actor, action="plan.scenario_deleted", object_type="pavement_plan_scenario",
                 object_id=scenario_id, before={"name": scenario.name})
    session.delete(scenario)
    session.commit()


# -- cash flow -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CashFlowView:
    title: str
    flow: CashFlow
    years: PlanYears


def scenario_cash_flow(*, session: Session, scenario: PlanScenario) -> CashFlowView:
    years = plan_years(session=session)
    spending = {int(r["year"]): int(r["spent_cents"]) for r in scenario.result.get("rows", [])[1:]}
    revenue = revenue_by_year(years.revenue_cents, years.first_year, years.years)
    return CashFlowView(scenario.name, cash_flow(revenue, spending), years)


def ballot_cash_flow(*, session: Session) -> CashFlowView | None:
    """The published list's items by their year (as its scenario schedules them, app.scenarios.ballot_cash)
    against the revenue; None before publication."""
    found = ballot_cash.cash_view(session=session)
    return None if found is None else CashFlowView(found.title, found.flow, found.years)


def default_curve_fields(current: CurveSet) -> dict[str, str]:
    fields = {}
    for c in CLASSES:
        curve = current.curves.get(c, CURVES[c])
        fields.update({f"{c}_rho": f"{curve.rho:g}", f"{c}_alpha": f"{curve.alpha:g}", f"{c}_beta": f"{curve.beta:g}"})
    return fields

