"""The demo city: a believable, deterministic city that loads the same way every time."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import LineString, MultiLineString
from sqlalchemy import func, select
from sqlmodel import Session

from app import program as programs
from app.costing.catalog import current_version
from app.db import make_engine
from app.demo import DemoRefused, load_demo_city
from app.demo.addresses import address_records
from app.demo.boundaries import boundary_records
from app.demo.city import make_plan
from app.demo.lights import light_records
from app.demo.pavement import pavement_records
from app.demo.ramps import ramp_records
from app.demo.sidewalks import sidewalk_records
from app.demo.streets import build_network
from app.geometry import cut_line, geodesic_length_m
from app.impact.deterioration import CURVES, equivalent_age, pci_at_age, project_pci
from app.layers.addresses import find_addresses
from app.layers.store import FeatureRecord, write_layer
from models.layers import FEATURE_TABLES, AddressPoint, District, Layer, LayerKind, PavementSegment

SMALL = 0.1


@pytest.fixture(scope="module")
def city_at_scale_1():
    plan = make_plan(42, 1.0)
    network = build_network(plan)
    districts, tracts = boundary_records(plan)
    return {"districts": districts, "tracts": tracts, "pavement": pavement_records(plan, network),
            "sidewalks": sidewalk_records(plan, network), "ramps": ramp_records(plan, network),
            "lights": light_records(plan, network), "addresses": address_records(plan, network)}


def _digest(session: Session) -> str:
    """Every stored row of every layer, ids replaced by what they point at."""
    names = {d.id: d.name for d in session.exec(select(District)).scalars()}  # type: ignore[call-overload]
    hasher = hashlib.sha256()
    for kind, model in FEATURE_TABLES.items():
        table = model.__table__  # type: ignore[attr-defined]
        columns = [c for c in table.c if c.name not in ("id", "district_id", "tract_id", "geom")]
        extra = [table.c.district_id] if kind.in_areas else []
        for row in session.execute(select(*columns, *extra, table.c.geom).order_by(table.c.source_id)):
            values = list(row[:-1])
            if kind.in_areas:
                values[-1] = names.get(values[-1])
            hasher.update(repr(values).encode())
            hasher.update(to_shape(row[-1]).wkb)
    return hasher.hexdigest()


def test_a_city_of_100k_has_the_expected_network_and_assets(city_at_scale_1):
    city = city_at_scale_1
    assert 3_500 <= len(city["pavement"]) <= 4_600
    assert 6_000 <= len(city["sidewalks"]) <= 10_000
    assert 3_000 <= len(city["ramps"]) <= 5_000
    assert 6_500 <= len(city["lights"]) <= 9_500
    assert 6 <= len(city["districts"]) <= 10 and 25 <= len(city["tracts"]) <= 30
    assert sum(d.fields["population"] for d in city["districts"]) == 100_000
    assert sum(t.fields["population"] for t in city["tracts"]) == 100_000
    classes = Counter(r.fields["functional_class"] for r in city["pavement"])
    assert classes["local"] > classes["collector"] > classes["arterial"] > 200
    arterial = next(r for r in city["pavement"] if r.fields["functional_class"] == "arterial")
    assert arterial.fields["lanes"] >= 4 and 14 <= arterial.fields["width_m"] <= 20
    assert all(r.fields["street_name"] for r in city["pavement"])
    assert len({r.fields["street_name"] for r in city["pavement"]}) > 200
    assert sum(r.fields["from_street"] is not None for r in city["pavement"]) > 0.9 * len(city["pavement"])
    lengths = [geodesic_length_m(r.geometry) for r in city["pavement"]]
    assert 100 < float(np.median(lengths)) < 250
    rates = [t.fields["poverty_rate"] for t in city["tracts"]]
    assert min(rates) >= 0.05 and max(rates) <= 0.45 and max(rates) - min(rates) > 0.2
    # near Athens, Georgia, so basemaps line up
    minx, miny, maxx, maxy = MultiLineString([g for r in city["pavement"] for g in r.geometry.geoms]).bounds
    assert -83.5 < minx < maxx < -83.25 and 33.85 < miny < maxy < 34.05


def test_lights_are_mostly_utility_owned_led_with_a_few_out(city_at_scale_1):
    lights = city_at_scale_1["lights"]
    status = Counter(r.fields["status"] for r in lights)
    assert 0.03 <= status["out"] / len(lights) <= 0.05
    assert 0.005 <= status["reported"] / len(lights) <= 0.02
    owners = Counter(r.fields["owner"] for r in lights)
    assert owners["utility"] > 0.75 * len(lights) and owners["city"] > 0
    lamps = Counter(r.fields["lamp_type"] for r in lights)
    assert lamps["LED"] > len(lights) / 2 and lamps["HPS"] > 0 and lamps["MH"] > 0
    assert len({r.fields["pole_id"] for r in lights}) == len(lights)


def test_sidewalks_have_gaps_hazards_and_conditions(city_at_scale_1):
    sidewalks = city_at_scale_1["sidewalks"]
    gaps = [r for r in sidewalks if r.fields["is_gap"]]
    assert 0.05 < len(gaps) / len(sidewalks) < 0.3
    assert {r.fields["condition"] for r in sidewalks if not r.fields["is_gap"]} == {"excellent", "good", "fair", "poor"}
    assert all(1.2 <= r.fields["width_m"] <= 1.8 for r in sidewalks if not r.fields["is_gap"])
    assert sum(r.fields["trip_hazards"] for r in sidewalks) > 0
    assert {r.fields["condition"] for r in city_at_scale_1["ramps"]} <= {"excellent", "good", "fair", "poor"}


def test_older_surfaces_score_lower_in_every_class(city_at_scale_1):
    pavement = city_at_scale_1["pavement"]
    for functional_class in CURVES:
        rows = [r for r in pavement if r.fields["functional_class"] == functional_class]
        ages = np.array([r.attributes["AGE_YEARS"] for r in rows])
        pci = np.array([r.fields["pci"] for r in rows])
        assert np.corrcoef(ages, pci)[0, 1] < -0.8
        assert pci[ages < 5].mean() > 85 > 60 > pci[ages > 20].mean()
    assert all(0 <= r.fields["pci"] <= 100 for r in pavement)


def test_address_points_house_the_households_along_the_streets(city_at_scale_1):
    addresses = city_at_scale_1["addresses"]
    assert 15_000 <= len(addresses) <= 30_000
    households = sum(r.attributes["UNITS"] for r in addresses)
    assert 38_000 <= households <= 42_000  # 100,000 residents at 2.5 a household
    downtown = [r.attributes["UNITS"] for r in addresses if r.fields["zip_code"] == "30601"]
    outer = [r.attributes["UNITS"] for r in addresses if r.fields["zip_code"] != "30601"]
    assert np.mean(downtown) > 1.5 * np.mean(outer)  # apartment buildings downtown
    streets = {r.fields["street_name"] for r in city_at_scale_1["pavement"]}
    assert {r.fields["street_name"] for r in addresses} <= streets
    assert len({(r.fields["street_name"], r.fields["house_number"]) for r in addresses}) == len(addresses)
    assert all(r.fields["full_address"] == f"{r.fields['house_number']} {r.fields['street_name']}" for r in addresses)
    numbers = [int(r.fields["house_number"]) for r in addresses if r.fields["street_name"] == "Prince Ave"]
    assert min(numbers) >= 100 and {n % 2 for n in numbers} == {0, 1}  # even on one side, odd on the other
    assert max(numbers) - min(numbers) > 1_000  # 1,000 numbers a mile along an arterial


def generated_digest(seed: int, scale: float = SMALL) -> str:
    """A digest of every record the generator makes (geometry bytes, fields, attributes, ids)."""
    plan = make_plan(seed, scale)
    network = build_network(plan)
    districts, tracts = boundary_records(plan)
    records = (districts + tracts + pavement_records(plan, network) + sidewalk_records(plan, network)
               + ramp_records(plan, network) + light_records(plan, network) + address_records(plan, network))
    return hashlib.sha256(b"".join(r.geometry.wkb + repr((r.fields, r.attributes, r.source_id)).encode()
                                   for r in records)).hexdigest()


def test_the_same_seed_gives_the_same_city_in_any_process_and_another_seed_another():
    here = generated_digest(7)
    assert generated_digest(7) == here
    assert generated_digest(8) != here
    elsewhere = subprocess.run([sys.executable, "-c", "from tests.test_demo import generated_digest as d; print(d(7))"],
                               env={"PYTHONHASHSEED": "12345", "PATH": ""}, capture_output=True, text=True,
                               check=True, cwd=Path(__file__).resolve().parents[1])
    assert elsewhere.stdout.strip() == here


def test_loading_twice_leaves_the_same_data_and_every_asset_has_a_district(session: Session):
    first = load_demo_city(session=session, scale=SMALL, today=date(2026, 11, 25))
    assert first.source == "demo:seed=42,scale=0.1"
    assert first.counts[LayerKind.pavement] > 300 and first.program_written
    assert first.counts[LayerKind.address] > 1_500
    some = session.execute(select(AddressPoint).order_by(AddressPoint.id).limit(1)).scalar_one()
    house, street = some.full_address.split(" ", 1)
    found = find_addresses(session=session, query=f"{house} {street.replace(' St', ' Street')}")
    assert found and found[0].address == some.full_address and found[0].district
    before, revision = _digest(session), session.get(Layer, "pavement").revision
    program_revision = programs.get_program(session=session).revision
    again = load_demo_city(session=session, scale=SMALL, today=date(2026, 12, 1))
    assert _digest(session) == before
    assert session.get(Layer, "pavement").revision == revision  # no row changed: cached tiles stay good
    assert not again.program_written and programs.get_program(session=session).revision == program_revision
    for kind in LayerKind:
        if kind.in_areas:
            table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
            unassigned = session.execute(select(func.count()).select_from(table).where(
                (table.c.district_id.is_(None)) | (table.c.tract_id.is_(None)))).scalar_one()
            assert unassigned == 0, kind


def test_the_demo_program_is_open_for_proposals_with_a_share_for_every_district(session: Session):
    load_demo_city(session=session, scale=SMALL, today=date(2026, 11, 25))
    view = programs.program_view(session=session)
    assert view.program.expected_revenue_cents == 14_450_000_000 and view.program.program_management_bps == 300
    assert programs.accepting_proposals(session=session, today=date(2026, 11, 25))
    codes = {d.code for d in session.exec(select(District)).scalars()}  # type: ignore[call-overload]
    assert {s.district for s in view.district_shares} == codes and len(codes) == 8
    assert current_version(session=session) is not None


def _delivery_state(session: Session) -> list[tuple[object, ...]]:
    """Each ballot project's delivery as the public sees it, by title."""
    from app.delivery import projects

    state = []
    for project, item in projects.projects(session=session):
        d = projects.project_delivery(session=session, proposal_id=project.proposal_id)
        state.append((item.title, project.phase, d.progress, len(d.late), d.spent_cents, d.awarded_cents,
                      [(m.title, m.planned_on, m.done_on) for m in d.milestones], [u.body for u in d.updates],
                      [(a["key"], a["after"]) for a in (project.completed or {}).get("assets", []) if a["applied"]]))
    return sorted(state, key=lambda row: str(row[0]))


def test_the_demo_comes_voted_with_projects_in_every_phase_and_the_same_when_run_again(session: Session, settings):
    """Through the staff services: published, voted, delivered; completed work updated the assets."""
    from app.delivery import phases, projects, vote
    from app.demo.delivery import seed_demo_delivery
    from app.demo.proposals import seed_demo_proposals
    from models.outbox import OutboxMessage

    def run():  # type: ignore[no-untyped-def]
        load_demo_city(session=session, scale=SMALL)
        seed_demo_proposals(session=session, settings=settings)
        return seed_demo_delivery(session=session, settings=settings)

    first = run()
    result = vote.result_view(session=session)
    assert result is not None and result.passed and result.held_on < date.today()
    assert not programs.accepting_proposals(session=session, today=date.today())  # its calendar is past the vote
    assert set(first.by_phase) == {p.key for p in phases.all_phases(session=session)}
    state = _delivery_state(session)
    late = [row[3] > 0 for row in state if row[1] != "complete"]
    assert any(late) and not all(late)  # an overdue milestone is late; the rest are on schedule
    done = [p for p, _item in projects.projects(session=session) if p.phase == "complete"]
    treated = [a for p in done for a in p.completed["assets"] if a["applied"] and a["layer"] == "pavement"]
    assert treated and all(a["after"]["pci"] > a["before"]["pci"] for a in treated)
    pci = {a["source_key"]: a["after"]["pci"] for a in treated}
    stored = dict(session.execute(select(PavementSegment.source_id, PavementSegment.pci)
                                  .where(PavementSegment.source_id.in_(list(pci)))).all())
    assert stored == pytest.approx(pci)
    mail = session.execute(select(OutboxMessage.headers).where(OutboxMessage.subject.contains("Update on"))).first()
    assert mail is not None and "List-Unsubscribe" in mail[0]  # a resident follows, mail says how to stop

    again = run()  # the layers are generated afresh; the completed work is written to them again
    assert _delivery_state(session) == state and again.by_phase == first.by_phase
    assert again.reapplied >= len(treated)
    assert dict(session.execute(select(PavementSegment.source_id, PavementSegment.pci)
                                .where(PavementSegment.source_id.in_(list(pci)))).all()) == pytest.approx(pci)


def test_demo_refuses_to_replace_imported_data_unless_forced(session: Session):
    line = MultiLineString([LineString([(-83.38, 33.95), (-83.38, 33.951)])])
    write_layer(session=session, kind=LayerKind.pavement, records=[FeatureRecord(line, {"pci": 50}, source_id="1")],
                source="streets.geojson", actor=None)
    with pytest.raises(DemoRefused, match="Pavement condition.*streets.geojson.*--force"):
        load_demo_city(session=session, scale=SMALL)
    assert session.execute(select(func.count()).select_from(PavementSegment)).scalar_one() == 1
    assert session.get(Layer, "district") is None
    load_demo_city(session=session, scale=SMALL, force=True)
    assert session.get(Layer, "pavement").source == "demo:seed=42,scale=0.1"
    assert session.execute(select(func.count()).select_from(PavementSegment)).scalar_one() > 300


def test_the_demo_command_guards_imports_and_loads_when_forced(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    env = {"GROUNDWORK_DATABASE_URL": url, "PATH": ""}
    run = lambda *args: subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True,  # noqa: E731
                                       text=True, cwd=tmp_path, check=False)
    assert run("db", "upgrade").returncode == 0
    with Session(make_engine(url)) as session:
        line = MultiLineString([LineString([(-83.38, 33.95), (-83.38, 33.951)])])
        write_layer(session=session, kind=LayerKind.streetlight, source="lights.csv", actor=None,
                    records=[FeatureRecord(line.centroid, {"pole_id": "A1"}, source_id="A1")])
    refused = run("demo", "--scale", "0.05")
    assert refused.returncode == 1 and "lights.csv" in refused.stderr and "--force" in refused.stderr
    kept = run("demo", "--if-empty")  # what the run script does on every start
    assert kept.returncode == 0 and "not loaded" in kept.stderr
    loaded = run("demo", "--scale", "0.05", "--seed", "3", "--force")
    assert loaded.returncode == 0, loaded.stderr
    assert "Loaded the demo city (demo:seed=3,scale=0.05)" in loaded.stderr and "streetlights" in loaded.stderr


def test_deterioration_curve_falls_from_100_ever_lower_with_age():
    ages = np.linspace(0.0, 60.0, 601)
    for functional_class in CURVES:
        pci = pci_at_age(ages, functional_class)
        assert pci[0] == 100.0 and pci_at_age(1e-6, functional_class) > 99
        assert np.all(np.diff(pci) <= 0) and pci[-1] == 0.0
        assert 0 < equivalent_age(55.0, functional_class) < 40
        assert pci_at_age(equivalent_age(55.0, functional_class), functional_class) == pytest.approx(55.0)
        assert project_pci(80.0, 5, functional_class) < 80.0
    # busier streets wear out sooner
    assert pci_at_age(15.0, "arterial") < pci_at_age(15.0, "collector") < pci_at_age(15.0, "local")
    assert pci_at_age(10.0, "unknown") == pci_at_age(10.0, "local")
    with pytest.raises(ValueError):
        pci_at_age(-1.0)


def test_cut_line_gives_the_pieces_between_distances():
    line = LineString([(0, 0), (10, 0), (10, 10), (20, 10)])
    pieces = cut_line(line, [0, 5, 10, 15, 30])
    assert [list(p.coords) for p in pieces] == [[(0, 0), (5, 0)], [(5, 0), (10, 0)], [(10, 0), (10, 5)],
                                                [(10, 5), (10, 10), (20, 10)]]
    assert sum(p.length for p in pieces) == pytest.approx(line.length)
