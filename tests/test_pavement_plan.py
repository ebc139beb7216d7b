"""The pavement plan: the backlog priced like proposals, budget scenarios checked by hand, the
target-PCI search, curve fitting from repeated surveys, cash flow; pages and API on both databases."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from sqlmodel import Session, select

from app.costing import catalog
from app.costing.estimate import PavementAsset, estimate
from app.costing.service import AssetRef, price_assets
from app.impact.deterioration import CURVES, Curve, pci_at_age, project_pci
from app.pavement_plan import curves as curve_rules
from app.pavement_plan import service
from app.pavement_plan.cashflow import cash_flow, revenue_by_year
from app.pavement_plan.needs import Pricer, Segment, segment_cost
from app.pavement_plan.simulate import Network, budget_for_target, run
from models.accounts import Role
from models.layers import District, PavementSegment
from models.pavement_plan import CurveVersion, PlanScenario
from tests.conftest import csrf_of, make_user, sign_in

YEAR = date.today().year


def snapshot_of(session: Session):  # type: ignore[no-untyped-def]
    return catalog.snapshot(session=session, version=catalog.ensure_defaults(session=session))


def add_segments(session: Session, rows: list[tuple[str, str, float, float, str | None]]) -> list[int]:
    """(source key, class, PCI, length m, district name) → segment ids; districts are made as needed.
    The default cost catalog is set up too."""
    catalog.ensure_defaults(session=session)
    districts: dict[str, int] = {}
    ids = []
    for k, (key, functional_class, pci, length, district) in enumerate(rows):
        if district and district not in districts:
            row = District(name=district, area_m2=1.0, geom=from_shape(
                MultiPolygon([Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])]), srid=4326))
            session.add(row)
            session.flush()
            districts[district] = row.id or 0
        segment = PavementSegment(
            source_id=key, street_name=f"STREET {k}", functional_class=functional_class, pci=pci, length_m=length,
            width_m=8.0, survey_date=date(2020, 6, 1), district_id=districts.get(district or ""),
            geom=from_shape(MultiLineString([LineString([(-83.4 + k * 0.01, 33.9), (-83.399 + k * 0.01, 33.9)])]),
                            srid=4326))
        session.add(segment)
        session.flush()
        ids.append(segment.id or 0)
    return ids


CITY = [("A1", "arterial", 30.0, 400.0, "Ward 1"), ("C1", "collector", 60.0, 300.0, "Ward 1"),
        ("L1", "local", 80.0, 200.0, "Ward 2"), ("L2", "local", 15.0, 250.0, None), ("L3", "local", 95.0, 100.0, None)]


# -- pure ------------------------------------------------------------------------------------

def test_a_segment_costs_what_a_one_segment_proposal_costs(session: Session):
    snapshot = snapshot_of(session)
    for rule in (t for t in snapshot.treatments if t.layer_kind == "pavement" and t.unit_cost_cents):
        asset = PavementAsset(1, 123.45, rule.functional_class or "local", 7.3, None,
                              (rule.min_pci or 0) + 0.5)
        for year in (snapshot.base_year, YEAR):
            assert segment_cost(asset, rule, snapshot, year) == estimate([asset], snapshot,
                                                                         scheduled_year=year).total_cents


def _network(session: Session, rows: list[tuple[str, str, float, float, str | None]]) -> Network:
    snapshot = snapshot_of(session)
    segments = [Segment(PavementAsset(i + 1, length, cls, 8.0, None, pci), district)
                for i, (_key, cls, pci, length, district) in enumerate(rows)]
    return Network(segments, Pricer(snapshot), dict(CURVES), dict(curve_rules.DEFAULT_EFFECTS))


def test_a_budget_that_treats_one_street_a_year_matches_a_hand_computation(session: Session):
    network = _network(session, [("a", "local", 30.0, 100.0, None), ("b", "local", 40.0, 100.0, None)])
    pricer = network.pricer
    first = pricer.cost(network.segments[0], pricer.treatment(network.segments[0], 30.0), YEAR)  # type: ignore[arg-type]
    second = pricer.cost(network.segments[1], pricer.treatment(network.segments[1], 40.0), YEAR)  # type: ignore[arg-type]
    assert first == second  # same overlay, same area: a tie broken by benefit per dollar
    outcome = run(network, first_year=YEAR, years=2, yearly_budget_cents=first, policy="worst_first")
    # Year 1: worst first treats "a" (overlay resets it to 100), then both age one year.
    a1, b1 = pci_at_age(1.0, "local"), project_pci(40.0, 1.0, "local")
    assert outcome.rows[1].network_pci == pytest.approx((a1 + b1) / 2)
    assert outcome.rows[1].spent_cents == first and outcome.rows[1].treated_segments == 1
    # Year 2: "a" (PCI ~100) needs nothing; "b" now costs 3 % more (escalation), so the same budget
    # cannot treat it and the year's money is left unspent.
    b_rule = pricer.treatment(network.segments[1], b1)
    assert b_rule is not None and pricer.cost(network.segments[1], b_rule, YEAR + 1) > first
    assert outcome.rows[2].spent_cents == 0
    assert outcome.rows[2].network_pci == pytest.approx((project_pci(a1, 1.0, "local")
                                                         + project_pci(b1, 1.0, "local")) / 2)
    nothing = run(network, first_year=YEAR, years=2, yearly_budget_cents=0)
    assert nothing.rows[2].network_pci == pytest.approx((project_pci(30.0, 2.0, "local")
                                                         + project_pci(40.0, 2.0, "local")) / 2)
    assert nothing.rows[2].backlog_cents > 0 and nothing.spent_cents == 0


def test_the_target_search_returns_the_smallest_budget_within_its_tolerance(session: Session):
    network = _network(session, CITY)
    target = 70.0
    found = budget_for_target(network, target_pci=target, first_year=YEAR, years=3, tolerance_cents=50_000)
    assert found.reachable and found.yearly_budget_cents is not None and found.below_cents is not None
    assert found.yearly_budget_cents - found.below_cents <= 50_000
    assert run(network, first_year=YEAR, years=3, yearly_budget_cents=found.yearly_budget_cents).final_pci >= target  # type: ignore[operator]
    assert run(network, first_year=YEAR, years=3, yearly_budget_cents=found.below_cents).final_pci < target  # type: ignore[operator]
    unreachable = budget_for_target(network, target_pci=99.9, first_year=YEAR, years=3)
    assert not unreachable.reachable and unreachable.yearly_budget_cents is None


def test_fitting_recovers_known_curves_from_synthetic_surveys_and_refuses_too_few_pairs():
    rng = np.random.default_rng(7)
    truth = {"arterial": Curve(38.0, 50.0, 0.7), "collector": Curve(50.0, 65.0, 0.6), "local": Curve(55.0, 80.0, 0.55)}
    observations = []
    for c, curve in truth.items():
        for k in range(40):
            age = float(rng.uniform(1, 30))
            before = float(pci_at_age(age, c, curves=truth))
            after = float(pci_at_age(age + 4.0, c, curves=truth))
            observations += [curve_rules.Observation(f"{c}{k}", c, date(2016, 5, 1), before),
                             curve_rules.Observation(f"{c}{k}", c, date(2020, 5, 1), after)]
    observations.append(curve_rules.Observation("treated", "local", date(2016, 5, 1), 40.0))
    observations.append(curve_rules.Observation("treated", "local", date(2020, 5, 1), 97.0))
    pairing = curve_rules.pairs_from(observations)
    assert len(pairing.pairs) == 120 and pairing.treated == 1
    for result in curve_rules.fit(pairing.pairs, CURVES):
        expected = truth[result.functional_class]
        assert result.curve is not None and result.pairs == 40
        assert result.curve.rho == pytest.approx(expected.rho, rel=0.02)
        assert result.curve.alpha == pytest.approx(expected.alpha, rel=0.02)
        assert result.curve.beta == pytest.approx(expected.beta, rel=0.02)
        assert result.rmse is not None and result.rmse < 0.01
    few = curve_rules.fit(pairing.pairs[:5], CURVES)
    assert not few[0].fitted and "at least 10" in few[0].message and "5 pairs" in few[0].message


def test_revenue_is_split_to_the_cent_and_a_year_short_of_cash_is_flagged():
    revenue = revenue_by_year(14_450_000_003, 2027, 5)
    assert sum(revenue.values()) == 14_450_000_003 and revenue[2027] == 2_890_000_001 and revenue[2031] == 2_890_000_000
    flow = cash_flow(revenue, {2027: 4_000_000_000, 2028: 1_000_000_000})
    assert not flow.ok and flow.first_short is not None and flow.first_short.year == 2027
    assert flow.first_short.balance_cents == 2_890_000_001 - 4_000_000_000
    assert cash_flow(revenue, {2028: 5_000_000_000}).ok


# -- database, pages and API -----------------------------------------------------------------

def test_the_backlog_is_the_sum_of_per_segment_estimates_by_treatment_band_class_and_district(session: Session):
    ids = add_segments(session, CITY)
    needs = service.needs(session=session, year=YEAR)
    singles = {i: price_assets(session=session, refs=[AssetRef("pavement", i)], scheduled_year=YEAR).total_cents
               for i in ids}
    assert needs.total_cents == sum(singles.values()) > 0
    for groups in (needs.by_treatment, needs.by_band, needs.by_class, needs.by_district):
        assert sum(g.cents for g in groups) == needs.total_cents
    wards = {g.label: g.cents for g in needs.by_district}
    assert wards["Ward 1"] == singles[ids[0]] + singles[ids[1]]
    assert {g.key for g in needs.by_treatment} >= {"mill_overlay_3in_arterial", "patching", "reconstruct"}
    assert needs.segments == 5 and needs.needing_work == 4  # PCI 95 needs nothing


def test_the_public_sees_the_backlog_in_english_and_spanish_and_as_json(client, session: Session):
    ids = add_segments(session, CITY)
    total = sum(price_assets(session=session, refs=[AssetRef("pavement", i)],
                             scheduled_year=YEAR).total_cents for i in ids)
    page = client.get("/plan")
    assert page.status_code == 200 and "The backlog today" in page.text and "<svg" in page.text
    assert 'data-testid="needs-by-district"' in page.text and "Ward 1" in page.text
    body = client.get("/api/v1/network/needs").json()
    assert body["total_cents"] == total and body["year"] == YEAR
    assert "/api/v1/network/needs" in client.get("/openapi.json").json()["paths"]
    spanish = client.get("/plan", headers={"Accept-Language": "es"})
    assert "Plan de pavimentos" in spanish.text and "El rezago de hoy" in spanish.text
    # other years are whole-network computations: the public may ask for this year or the program's years only
    far = client.get("/api/v1/network/needs", params={"year": 2150})
    assert far.status_code == 400 and "this year or the program's years" in far.text
    assert "this year or the program&#39;s years" in client.get("/plan", params={"year": 2150}).text
    assert client.get("/api/v1/network/needs", params={"year": YEAR}).json()["total_cents"] == total


def test_staff_save_a_scenario_the_public_sees_it_and_bad_input_changes_nothing(client, session: Session, settings,
                                                                                staff):
    add_segments(session, CITY)
    resident = make_user(session, settings, "r@example.org", Role.resident)
    sign_in(client, resident.email)
    refused = client.post("/staff/plan", data={"csrf_token": csrf_of(client, "/plan"), "budget": "1000",
                                               "first_year": str(YEAR), "years": "3", "action": "save", "name": "x"})
    assert refused.status_code == 403
    client.post("/signout", data={"csrf_token": csrf_of(client, "/plan")})
    sign_in(client, staff.email)
    form = {"csrf_token": csrf_of(client, "/staff/plan"), "first_year": str(YEAR), "years": "3",
            "policy": "benefit_cost", "action": "save", "name": "Half a million a year", "budget": "500,000"}
    bad = client.post("/staff/plan", data={**form, "budget": "lots"})
    assert bad.status_code == 400 and "must be an amount in dollars" in bad.text
    both = client.post("/staff/plan", data={**form, "target_pci": "70"})
    assert both.status_code == 400 and "either a yearly budget or a target PCI" in both.text
    assert session.exec(select(PlanScenario)).first() is None
    saved = client.post("/staff/plan", data=form)
    assert saved.status_code == 303
    scenario = session.exec(select(PlanScenario)).one()
    assert scenario.yearly_budget_cents == 50_000_000 and len(scenario.result["rows"]) == 4
    assert scenario.result["rows"][-1]["network_pci"] > scenario.result["do_nothing"][-1]["network_pci"]
    client.post("/signout", data={"csrf_token": csrf_of(client, "/plan")})
    public = client.get(f"/plan/scenarios/{scenario.id}")
    assert public.status_code == 200 and "Half a million a year" in public.text
    assert 'data-testid="year-table"' in public.text and "Cash flow by year" in public.text
    assert "Half a million a year" in client.get("/plan").text
    api = client.get("/api/v1/network/scenarios").json()
    assert api[0]["yearly_budget_cents"] == 50_000_000 and api[0]["rows"][0]["year"] == YEAR - 1
    target = client.get("/staff/plan")  # anonymous
    assert target.status_code in (303, 401)


def test_a_target_pci_run_shows_the_budget_it_needs(client, session: Session, staff):
    add_segments(session, CITY)
    sign_in(client, staff.email)
    response = client.post("/staff/plan", data={"csrf_token": csrf_of(client, "/staff/plan"), "first_year": str(YEAR),
                                                 "years": "3", "policy": "benefit_cost", "target_pci": "70",
                                                 "action": "run"})
    assert response.status_code == 200 and 'data-testid="target-budget"' in response.text
    assert "PCI 70 by the last year needs" in response.text
    assert "Within $10,000 of the smallest yearly budget that reaches it" in response.text


def test_staff_edit_the_curves_with_validation_and_the_impact_model_uses_them(client, session: Session, staff):
    sign_in(client, staff.email)
    fields = {"csrf_token": csrf_of(client, "/staff/plan/curves"), "note": "City's 2024 study"}
    for c, curve in CURVES.items():
        fields.update({f"{c}_rho": str(curve.rho), f"{c}_alpha": str(curve.alpha), f"{c}_beta": str(curve.beta)})
    bad = client.post("/staff/plan/curves", data={**fields, "local_alpha": "1000", "action": "save"})
    assert bad.status_code == 400 and "α must be between 5 and 200" in bad.text
    no_reason = client.post("/staff/plan/curves", data={**fields, "note": "", "action": "save"})
    assert no_reason.status_code == 400 and "Say why the curves change" in no_reason.text
    preview = client.post("/staff/plan/curves", data={**fields, "local_alpha": "40", "action": "preview"})
    assert preview.status_code == 200 and "Preview (not saved)" in preview.text
    assert session.exec(select(CurveVersion)).first() is None
    saved = client.post("/staff/plan/curves", data={**fields, "local_alpha": "40", "action": "save"})
    assert saved.status_code == 303
    version = session.exec(select(CurveVersion)).one()
    assert version.number == 1 and version.is_current and version.created_by_id == staff.id
    curves = service.impact_curves(session=session)
    assert curves["local"].alpha == 40.0
    assert project_pci(70.0, 5.0, "local", curves=curves) < project_pci(70.0, 5.0, "local")
    assert client.get("/api/v1/network/curves").json()["version"] == 1


def test_keeping_a_survey_and_re_surveying_fits_the_curves_or_says_why_not(client, session: Session, staff):
    truth = {"arterial": Curve(38.0, 50.0, 0.7), "collector": Curve(50.0, 65.0, 0.6), "local": Curve(55.0, 80.0, 0.55)}
    rows = [(f"S{k}", "local", float(pci_at_age(1.0 + k * 0.6, "local", curves=truth)), 100.0, None)
            for k in range(12)]
    ids = add_segments(session, rows)
    sign_in(client, staff.email)
    token = csrf_of(client, "/staff/plan/curves")
    too_few = client.post("/staff/plan/curves/fit", data={"csrf_token": token})
    assert too_few.status_code == 400 and "at least 10 are needed" in too_few.text
    assert client.post("/staff/plan/surveys/keep", data={"csrf_token": token}).status_code == 303
    for k, sid in enumerate(ids):  # the re-import: the same keys surveyed four years later
        segment = session.get(PavementSegment, sid)
        assert segment is not None
        segment.pci = float(pci_at_age(1.0 + k * 0.6 + 4.0, "local", curves=truth))
        segment.survey_date = date(2024, 6, 1)
        session.add(segment)
    session.flush()
    page = client.get("/staff/plan/curves")
    assert "12 pairs from 12 segments" in page.text
    assert client.post("/staff/plan/curves/fit", data={"csrf_token": token}).status_code == 303
    version = session.exec(select(CurveVersion)).one()
    assert version.fit is not None and version.fit["local"]["pairs"] == 12 and version.fit["local"]["fitted"]
    assert version.curves["local"]["alpha"] == pytest.approx(80.0, rel=0.05)
    assert version.curves["arterial"]["alpha"] == CURVES["arterial"].alpha  # too few arterial pairs: kept


def test_the_impact_model_projects_with_the_curves_staff_saved(session: Session, staff):
    from app.scenarios.compare import projected_network_pci

    add_segments(session, CITY)
    before = projected_network_pci(session, [])
    faster = {c: Curve(curve.rho, curve.alpha * 0.6, curve.beta) for c, curve in CURVES.items()}
    service.save_curves(session=session, actor=staff, curves=faster, effects=curve_rules.DEFAULT_EFFECTS,
                        note="Our streets fail sooner")
    after = projected_network_pci(session, [])
    assert before is not None and after is not None and after < before - 1
