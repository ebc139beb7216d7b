"""`groundwork network needs|scenario` give the same numbers as /api/v1/network/…, refuse bad input
clearly, and the backlog is remembered until the layer, the catalog or the curves change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app import db, i18n, settings
from app.cli import cli
from app.costing import catalog
from app.db import make_engine, new_session
from app.main import create_app
from app.pavement_plan import service
from models.accounts import Role
from tests.conftest import fresh_database, make_settings, make_user, sign_in
from tests.test_pavement_plan import CITY, add_segments

YEAR = date.today().year


@pytest.fixture(params=["spatialite", "postgis"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url, remove = fresh_database(request.param, tmp_path)
    monkeypatch.setenv("GROUNDWORK_DATABASE_URL", url)
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()
    yield url
    db.get_engine().dispose()
    db.get_engine.cache_clear()
    settings.get_settings.cache_clear()
    remove()  # type: ignore[operator]


def run(*args: str):  # type: ignore[no-untyped-def]
    db.get_engine().dispose()
    return CliRunner().invoke(cli, list(args))


def test_needs_and_scenarios_agree_with_the_api_and_bad_input_is_refused(database_url: str) -> None:
    no_catalog = run("network", "needs")
    assert no_catalog.exit_code == 1 and "cost catalog is empty" in no_catalog.output
    engine = make_engine(database_url)
    with new_session(engine) as session:
        catalog.ensure_defaults(session=session)
        session.commit()
    no_layer = run("network", "needs")
    assert no_layer.exit_code == 1 and "no pavement layer" in no_layer.output
    with new_session(engine) as session:
        add_segments(session, CITY)
        session.commit()

    needs = run("network", "needs", "--json")
    assert needs.exit_code == 0, needs.output
    data = json.loads(needs.output)
    with new_session(engine) as session:
        found = service.needs(session=session)
    assert data["total_cents"] == sum(cents for _key, cents in found.per_segment.values()) > 0
    assert data["catalog_version"] == 1
    assert sum(g["cents"] for g in data["by_treatment"]) == data["total_cents"]
    assert sum(g["segments"] for g in data["by_district"]) == 5
    assert {g["key"] for g in data["by_class"]} == {"arterial", "collector", "local"}
    table = run("network", "needs")
    assert f"${data['total_cents'] / 100:,.2f}" in table.output and "By district" in table.output

    common = ["--years", "3", "--first-year", str(YEAR)]
    budget = run("network", "scenario", "--budget", "150,000", *common, "--json")
    assert budget.exit_code == 0, budget.output
    scenario = json.loads(budget.output)
    assert len(scenario["rows"]) == 4 and all(r["spent_cents"] <= 15_000_000 for r in scenario["rows"])
    assert all(r["deferred_cents"] >= 0 for r in scenario["rows"])
    target = run("network", "scenario", "--target-pci", "70", *common)
    assert target.exit_code == 0, target.output
    assert "within $10,000.00" in " ".join(target.output.split())

    application = create_app(make_settings(database_url), engine=engine, check_schema=False)
    with new_session(engine) as session:
        make_user(session, make_settings(database_url), "planner@city.example", Role.staff)
    with TestClient(application, follow_redirects=False) as client:
        assert client.get("/api/v1/network/needs").json() == data
        ask = {"yearly_budget_cents": 15_000_000, "years": 3, "first_year": YEAR}
        assert client.get("/api/v1/network/scenarios/run", params=ask).status_code == 401  # costly: staff only
        sign_in(client, "planner@city.example")
        api = client.get("/api/v1/network/scenarios/run", params={"yearly_budget_cents": 15_000_000, "years": 3,
                                                                    "first_year": YEAR})
        assert api.status_code == 200 and api.json() == scenario
        found_target = client.get("/api/v1/network/scenarios/run", params={"target_pci": 70, "years": 3,
                                                                           "first_year": YEAR}).json()
        assert found_target["kind"] == "target" and found_target["tolerance_cents"] == 1_000_000
        assert client.get("/api/v1/network/scenarios/run", params={"yearly_budget_cents": -1}).status_code == 422
    engine.dispose()

    for args, message in ((("--budget", "-5"), "--budget must not be negative"),
                          (("--budget", "lots"), "--budget must be an amount in dollars"),
                          (("--budget", "5", "--target-pci", "70"), "either --budget"),
                          (("--target-pci", "120"), "between 0 and 100"),
                          (("--budget", "5", "--years", "0"), "between 1 and 30 years"),
                          (("--budget", "5", "--policy", "cheapest"), "choose benefit_cost or worst_first")):
        refused = run("network", "scenario", *args)
        assert refused.exit_code == 1 and message in " ".join(refused.output.split()), (args, refused.output)


def test_the_backlog_is_remembered_until_the_layer_the_catalog_or_the_curves_change(database_url: str) -> None:
    engine = make_engine(database_url)
    with new_session(engine) as session:
        add_segments(session, CITY)
        session.commit()
        first = service.needs(session=session)
        assert service.needs(session=session) is first  # a second view is not computed again
        i18n.activate("es")
        try:
            spanish = service.needs(session=session)  # labels in the viewer's language: kept apart
        finally:
            i18n.activate("en")
        assert spanish is not first and spanish.total_cents == first.total_cents
        assert {g.label for g in spanish.by_class} == {"Arterial", "Colectora", "Local"}
        asked = {"years": 2, "first_year": YEAR, "yearly_budget_cents": 10_000_000}
        ran = service.run_scenario(session=session, **asked)
        assert service.run_scenario(session=session, **asked) is ran
        draft = catalog.draft_of(session=session, version=catalog.current_version(session=session))  # type: ignore[arg-type]
        draft.contingency_bps += 500
        catalog.create_version(session=session, actor=None, draft=draft, note="more contingency")
        repriced = service.needs(session=session)
        assert repriced is not first and repriced.total_cents > first.total_cents
        assert service.run_scenario(session=session, **asked) is not ran
        add_segments(session, [("L9", "local", 20.0, 500.0, None)])
        session.commit()
        grown = service.needs(session=session)
        assert grown is not repriced and grown.segments == repriced.segments + 1
    engine.dispose()
