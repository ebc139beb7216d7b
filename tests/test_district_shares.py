"""A proposal's district comes from its assets, and one spanning districts counts to each by its
share: in its stored district, on its pages, and in the district-minimum rules of the optimizer,
the greedy list, the hand-edit check and the binding explanations."""

from __future__ import annotations

import pytest
from alembic import command
from geoalchemy2.shape import to_shape
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box
from sqlalchemy import text
from sqlmodel import Session, col, select

from app import groups, migrate
from app import program as programs
from app.db import make_engine
from app.importers.report import ImportReport
from app.importers.service import ImportResult
from app.layers.store import FeatureRecord, write_layer
from app.optimizer import Candidate, DistrictMinimum, Rules, greedy, optimize
from app.optimizer.check import check
from app.optimizer.rulebook import RuleKind
from app.proposals import editor
from app.proposals.editor import ProposalInput
from app.proposals.selection import AssetKey, district_shares, shares_of
from app.scenarios import scenarios
from app.triage import board
from models.layers import District, LayerKind, PavementSegment, Streetlight
from models.proposals import Proposal, ProposalAsset, ProposalState
from tests.conftest import fresh_database, make_settings, make_user
from tests.proposal_city import build_city
from tests.triage_data import small_program, submitted

MILLION = 100_000_000  # $1M in cents


# -- the optimizer: a district minimum counts shares ----------------------------------------------

def _spanning_list() -> tuple[list[Candidate], Rules]:
    """A spans districts 6 and 5 (70/30); B is all in 6, C all in 5. District 5 needs 30 %."""
    candidates = [Candidate("A", MILLION, 10.0, "pavement", "6", shares=(("6", 7_000), ("5", 3_000))),
                  Candidate("B", MILLION, 12.0, "pavement", "6"),
                  Candidate("C", 30_000_000, 1.0, "pavement", "5")]
    rules = Rules(revenue_cents=2 * MILLION, district_minimums=(DistrictMinimum("5", 3_000, "District 5"),))
    return candidates, rules


def test_a_district_minimum_is_met_by_shares_in_the_optimum():
    candidates, rules = _spanning_list()
    best = optimize(candidates, rules)
    # A brings $300,000 to District 5, so A + C gives it $600,000 of $1.3M (46 %); counted whole
    # (all of A in 6) A + C would break the minimum and only C alone would be allowed
    assert best.status == "optimal" and best.ids == {"A", "C"}
    assert best.by_district == {"5": 60_000_000, "6": 70_000_000}
    binding = next(b for b in best.bindings if b.rule.kind is RuleKind.DISTRICT_MINIMUM)
    assert binding.used_cents == 60_000_000 and "District 5 gets $600,000" in binding.sentence


def test_the_hand_edit_check_and_the_greedy_list_count_shares():
    candidates, rules = _spanning_list()
    problems = check({"A": 1, "B": 1}, candidates, rules)  # District 5: $300,000 of $2M = 15 %
    assert [p.rule.key for p in problems] == ["5"]
    assert "District 5 gets 15.0% of the spending ($300,000)" in problems[0].message
    assert check({"A": 1}, candidates, rules) == []  # 30 % exactly, from A's share alone
    listed = greedy(candidates, rules)  # B and A by score, the rest does not fit
    assert listed.ids == {"A", "B"} and listed.by_district == {"5": 30_000_000, "6": 170_000_000}
    assert [v.rule.key for v in listed.violations] == ["5"]


def test_shares_split_the_cost_in_whole_cents_that_add_up():
    odd = Candidate("A", 100_001, 1.0, "x", "6", shares=(("6", 7_000), ("5", 3_000)))
    assert odd.cost_by_district == {"6": 70_000, "5": 30_001}
    partly_outside = Candidate("B", 1_000, 1.0, "x", "6", shares=(("6", 6_000),))
    assert partly_outside.cost_by_district == {"6": 600}  # the rest is outside every district


def test_bad_shares_are_refused():
    from app.optimizer import OptimizerInputError
    with pytest.raises(OptimizerInputError, match="invalid district shares"):
        optimize([Candidate("A", 100, 1.0, "x", shares=(("6", 7_000), ("5", 7_000)))], Rules(revenue_cents=1_000))


# -- the service: shares from assets ---------------------------------------------------------------

@pytest.fixture
def city(session: Session):
    built = build_city(session)
    # Elm Street runs in the East Ward: one long segment, three blocks long (0.006°), and a light
    write_layer(session=session, kind=LayerKind.pavement, source="elm", actor=None, mode="append", records=[
        FeatureRecord(MultiLineString([LineString([(-83.392, 33.95), (-83.386, 33.95)])]),
                      {"street_name": "Elm Street", "pci": 35.0, "width_m": 8.0, "functional_class": "local"},
                      source_id="elm-1")])
    write_layer(session=session, kind=LayerKind.streetlight, source="elm lights", actor=None, mode="append",
                records=[FeatureRecord(Point(-83.39, 33.9502), {"pole_id": "E1", "status": "out"},
                                       source_id="e1")])
    built.elm = session.exec(select(PavementSegment.id).where(PavementSegment.street_name == "Elm Street")).one()
    built.east_light = session.exec(select(Streetlight.id).where(Streetlight.source_id == "e1")).one()
    built.wards = {d.name: d.id for d in session.exec(select(District))}
    return built


def _percent(shares) -> dict[str, int]:
    return {s.name or "outside": round(s.share_bps / 100) for s in shares}


def test_segments_weigh_by_length_and_lights_one_each(session, city):
    keys = [AssetKey("pavement", city.segments[0]), AssetKey("pavement", city.elm)]
    assert _percent(shares_of(session=session, geometry=None, keys=keys)) == {"East Ward": 75, "West Ward": 25}
    lights = [AssetKey("streetlight", city.light), AssetKey("streetlight", city.east_light)]
    assert _percent(shares_of(session=session, geometry=None, keys=lights)) == {"East Ward": 50, "West Ward": 50}
    # both families: each weighs by its number of assets (2 segments, 1 light in the West)
    mixed = [*keys, AssetKey("streetlight", city.light)]
    assert _percent(shares_of(session=session, geometry=None, keys=mixed)) == {"East Ward": 50, "West Ward": 50}


def test_a_drawn_line_counts_only_without_assets(session, city):
    stray = LineString([(-83.409, 33.9415), (-83.407, 33.9415)])  # in the West Ward, on no street
    keys = [AssetKey("pavement", city.elm)]
    assert _percent(shares_of(session=session, geometry=stray, keys=keys)) == {"East Ward": 100}
    across = LineString([(-83.399, 33.945), (-83.393, 33.945)])  # 4 parts west of the boundary, 2 east
    assert _percent(shares_of(session=session, geometry=across, keys=[])) == {"West Ward": 67, "East Ward": 33}


def test_saving_with_a_stray_line_keeps_the_assets_district(session, settings, city):
    owner = make_user(session, settings, "owner@example.org")
    group = groups.create_group(session=session, creator=owner, name="Friends of Elm Street")
    stray = {"type": "LineString", "coordinates": [[-83.409, 33.9415], [-83.407, 33.9415]]}
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
        title="Repave Elm Street", geometry=stray,
        assets=[AssetKey("pavement", city.segments[0]), AssetKey("pavement", city.elm)]))
    assert proposal.district_id == city.wards["East Ward"]  # not the West Ward of the stray line
    shares = district_shares(session=session, proposal_ids=[proposal.id])[proposal.id]
    assert _percent(shares) == {"East Ward": 75, "West Ward": 25}


def test_links_to_assets_a_reimport_removed_count_for_nothing(session, settings, city):
    owner = make_user(session, settings, "owner@example.org")
    group = groups.create_group(session=session, creator=owner, name="Friends of Elm Street")
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
        title="Two wards", assets=[AssetKey("pavement", city.segments[0]), AssetKey("pavement", city.elm)]))
    link = session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == proposal.id,
                                                    ProposalAsset.asset_id == city.elm)).one()
    link.missing = True
    session.add(link)
    session.flush()
    assert _percent(district_shares(session=session, proposal_ids=[proposal.id])[proposal.id]) == {"West Ward": 100}


def test_the_public_project_page_shows_each_districts_share(client, session, settings, city):
    owner = make_user(session, settings, "owner@example.org")
    group = groups.create_group(session=session, creator=owner, name="Friends of Elm Street")
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
        title="Two wards", category_key="pavement", scheduled_year=2027,
        assets=[AssetKey("pavement", city.segments[0]), AssetKey("pavement", city.elm)]))
    stored = session.get(Proposal, proposal.id)
    stored.state = ProposalState.submitted.value
    session.add(stored)
    session.flush()
    page = client.get(f"/proposals/{proposal.id}").text
    assert "East Ward: 75%, West Ward: 25%" in page
    assert session.exec(select(Proposal.district_id).where(col(Proposal.id) == proposal.id)).one() \
        == city.wards["East Ward"]


# -- scenarios: the candidates carry their shares -----------------------------------------------------

def test_a_scenario_counts_a_proposal_spanning_wards_by_its_shares(session, city, staff, resident):
    group = groups.create_group(session=session, creator=resident, name="Friends of Elm Street")
    spanning = submitted(session, group, resident, "Main and Elm",
                         [AssetKey("pavement", city.segments[0]), AssetKey("pavement", city.elm)])
    west = submitted(session, group, resident, "Mid Main", [AssetKey("pavement", city.segments[1])])
    board.bulk_move(session=session, actor=staff, proposal_ids=[spanning.id, west.id], to=ProposalState.feasible)
    small_program(session, staff, 10 * MILLION)
    draft = programs.draft_of(programs.program_view(session=session))
    draft.district_shares = [programs.DistrictShareDraft("East Ward", 7_000)]
    programs.save_program(session=session, actor=staff, draft=draft)
    scenario = scenarios.create_scenario(session=session, actor=staff, name="Both wards")
    pool = scenarios.pool(session=session, scenario_id=scenario.id)
    by_id = {c.id: c for c in pool.candidates}
    assert by_id[str(spanning.id)].shares == (("East Ward", 7_500), ("West Ward", 2_500))
    cost, other = by_id[str(spanning.id)].cost_cents, by_id[str(west.id)].cost_cents
    # East Ward's 70 %: "Main and Elm" alone gives it 75 %; with "Mid Main" as well it gets less than 70 %
    # by shares, though counted whole (all in the East, its largest share) the two together would pass
    assert 0.75 * cost / (cost + other) < 0.7 <= cost / (cost + other)
    result = scenarios.optimize_scenario(session=session, actor=staff, scenario_id=scenario.id)
    assert result.optimum.ids == {str(spanning.id)}
    assert result.optimum.by_district == {"East Ward": cost * 3 // 4, "West Ward": cost - cost * 3 // 4}
    assert [v.rule.key for v in result.greedy.violations] == ["East Ward"]


@pytest.mark.parametrize("kind", ["spatialite", "postgis"])
def test_the_migration_puts_proposals_back_in_their_assets_district(kind, tmp_path, settings):
    url, remove = fresh_database(kind, tmp_path)
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            build_city(session)
            write_layer(session=session, kind=LayerKind.pavement, source="elm", actor=None, mode="append", records=[
                FeatureRecord(MultiLineString([LineString([(-83.392, 33.95), (-83.386, 33.95)])]),
                              {"street_name": "Elm Street", "pci": 35.0}, source_id="elm-1")])
            elm = session.exec(select(PavementSegment.id).where(PavementSegment.street_name == "Elm Street")).one()
            wards = {d.name: d.id for d in session.exec(select(District))}
            owner = make_user(session, make_settings(url), "owner@example.org")
            group = groups.create_group(session=session, creator=owner, name="Friends of Elm Street")
            proposal = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
                title="Repave Elm Street", assets=[AssetKey("pavement", elm)]))
        with engine.begin() as connection:  # as the old code stored it: the district of a stray line
            connection.execute(text("UPDATE proposal SET district_id = :d"), {"d": wards["West Ward"]})
        command.downgrade(migrate.alembic_config(url), "0009_ballot_versions")
        migrate.upgrade(url)
        with engine.begin() as connection:
            stored = connection.execute(text("SELECT district_id FROM proposal WHERE id = :p"),
                                        {"p": proposal.id}).scalar_one()
        assert stored == wards["East Ward"]
    finally:
        engine.dispose()
        remove()  # type: ignore[operator]


def test_new_boundaries_move_proposals_to_the_district_their_assets_are_in_now(session, settings, city):
    owner = make_user(session, settings, "owner@example.org")
    group = groups.create_group(session=session, creator=owner, name="Friends of Main Street")
    on_main = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
        title="Main Street, first block", assets=[AssetKey("pavement", city.segments[0])]))
    drawn = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
        title="A path in the park", geometry={"type": "LineString",
                                              "coordinates": [[-83.409, 33.9415], [-83.407, 33.9415]]}))
    assert on_main.district_id == drawn.district_id == city.wards["West Ward"]
    versions = (on_main.version, drawn.version)

    def wards(west: tuple[float, float, float, float], east: tuple[float, float, float, float], source: str):
        return write_layer(session=session, kind=LayerKind.district, source=source, actor=None, records=[
            FeatureRecord(MultiPolygon([box(*west)]), {"name": "West Ward", "code": "1"}, source_id="1"),
            FeatureRecord(MultiPolygon([box(*east)]), {"name": "East Ward", "code": "2"}, source_id="2")])

    # the same boundaries again: every ward keeps its id, every proposal its district
    layer = wards((-83.41, 33.94, -83.395, 33.96), (-83.395, 33.94, -83.38, 33.96), "districts")
    assert layer.report["rows"]["unchanged"] == 2 and "proposal_districts_changed" not in layer.report
    session.expire_all()
    assert {d.name: d.id for d in session.exec(select(District))} == city.wards
    assert session.get(Proposal, on_main.id).district_id == city.wards["West Ward"]

    # redistricting: the East Ward takes everything east of -83.4095: the park and Main Street's first block
    layer = wards((-83.41, 33.94, -83.4095, 33.96), (-83.4095, 33.94, -83.38, 33.96), "districts 2027")
    assert layer.report["proposal_districts_changed"] == 2
    session.expire_all()
    assert {d.name: d.id for d in session.exec(select(District))} == city.wards  # changed in place
    moved = session.get(Proposal, on_main.id), session.get(Proposal, drawn.id)
    assert [p.district_id for p in moved] == [city.wards["East Ward"]] * 2
    assert (moved[0].version, moved[1].version) == versions  # not an edit: an open editor can still save
    assert ImportResult(layer, ImportReport(source="districts 2027", kind="district")).links_note == \
        "2 proposals are now in another district (found from their assets, as a save would); nothing else about " \
        "them changed."


def test_a_reimport_that_moves_a_proposals_asset_moves_the_proposal_to_its_district(session, settings, city):
    owner = make_user(session, settings, "owner@example.org")
    group = groups.create_group(session=session, creator=owner, name="Friends of Main Street")
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
        title="Main Street, first block", assets=[AssetKey("pavement", city.segments[0])]))
    assert proposal.district_id == city.wards["West Ward"]
    segments = session.exec(select(PavementSegment).order_by(col(PavementSegment.source_id))).all()
    records = [FeatureRecord(MultiLineString([LineString(to_shape(s.geom).geoms[0].coords)]),
                             {"street_name": s.street_name, "pci": s.pci, "width_m": s.width_m}, source_id=s.source_id)
               for s in segments]
    records[0].geometry = MultiLineString([LineString([(-83.392, 33.951), (-83.390, 33.951)])])  # resurveyed east
    layer = write_layer(session=session, kind=LayerKind.pavement, source="pavement 2027", actor=None,
                        records=records)
    assert layer.report["proposal_districts_changed"] == 1
    assert session.get(Proposal, proposal.id).district_id == city.wards["East Ward"]
