"""Storing a layer: atomic, idempotent, geodesic, banded, with districts and revisions."""

from __future__ import annotations

import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box
from sqlalchemy import text
from sqlmodel import Session, select

from app.geometry import GEOD
from app.layers import store
from app.layers.store import FeatureRecord, LayerWriteError, write_layer
from models.audit import AuditEvent
from models.layers import District, Layer, LayerKind, PavementSegment, Streetlight


def _segment(i: int, pci: float) -> FeatureRecord:
    line = MultiLineString([LineString([(-83.40 + i * 0.001, 33.95), (-83.40 + i * 0.001, 33.951)])])
    return FeatureRecord(line, {"street_name": f"Street {i}", "pci": pci, "width_m": 10.0},
                         {"ID": i, "Name": f"Street {i}"}, source_id=str(i))


def _districts() -> list[FeatureRecord]:
    west = MultiPolygon([box(-83.41, 33.94, -83.395, 33.96)])
    east = MultiPolygon([box(-83.395, 33.94, -83.38, 33.96)])
    return [FeatureRecord(west, {"name": "District 1", "code": "1"}, source_id="1"),
            FeatureRecord(east, {"name": "District 2", "code": "2"}, source_id="2")]


def test_write_layer_stores_geodesic_length_area_band_and_revision(session: Session, staff):
    layer = write_layer(session=session, kind=LayerKind.pavement, records=[_segment(0, 86), _segment(1, 30)],
                        source="streets.geojson", actor=staff)
    assert layer.revision == 1 and layer.feature_count == 2
    assert layer.min_lon == pytest.approx(-83.40) and layer.max_lat == pytest.approx(33.951)
    rows = session.exec(select(PavementSegment).order_by(PavementSegment.source_id)).all()
    expected = GEOD.geometry_length(LineString([(-83.40, 33.95), (-83.40, 33.951)]))
    assert rows[0].length_m == pytest.approx(expected, rel=1e-9)
    assert rows[0].area_m2 == pytest.approx(expected * 10.0)
    assert [r.band for r in rows] == ["good", "very_poor"]
    assert rows[0].attributes == {"ID": 0, "Name": "Street 0"}
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "layer.import")).first() is not None


def test_reimporting_the_same_source_leaves_the_same_data_and_the_same_revision(session: Session):
    for _ in range(2):
        layer = write_layer(session=session, kind=LayerKind.pavement, records=[_segment(0, 50)], source="a",
                            actor=None)
    assert layer.revision == 1  # nothing changed: its cached tiles and ETags stay good
    assert len(session.exec(select(PavementSegment)).all()) == 1


def test_append_upserts_by_source_id(session: Session):
    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(0, 50), _segment(1, 60)], source="a",
                actor=None)
    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(1, 90), _segment(2, 10)], source="b",
                actor=None, mode="append")
    rows = {r.source_id: r.pci for r in session.exec(select(PavementSegment)).all()}
    assert rows == {"0": 50, "1": 90, "2": 10}


def test_a_failing_write_changes_nothing(session: Session):
    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(0, 50)], source="a", actor=None)
    with pytest.raises(ValueError):
        write_layer(session=session, kind=LayerKind.pavement, records=[_segment(5, 50)], source="b", actor=None,
                    band_scheme="no-such-scheme")
    with pytest.raises(LayerWriteError):
        write_layer(session=session, kind=LayerKind.pavement, records=[], source="c", actor=None)
    assert [r.source_id for r in session.exec(select(PavementSegment)).all()] == ["0"]
    assert session.get(Layer, "pavement").revision == 1


def test_assets_get_their_district_whichever_layer_comes_first(session: Session):
    lights = [FeatureRecord(Point(-83.40, 33.95), {"pole_id": "P1"}, source_id="P1"),
              FeatureRecord(Point(-83.39, 33.95), {"pole_id": "P2"}, source_id="P2"),
              FeatureRecord(Point(-80.0, 30.0), {"pole_id": "far"}, source_id="far")]
    write_layer(session=session, kind=LayerKind.streetlight, records=lights, source="lights", actor=None)
    assert {s.district_id for s in session.exec(select(Streetlight)).all()} == {None}
    write_layer(session=session, kind=LayerKind.district, records=_districts(), source="districts", actor=None)
    names = {d.id: d.name for d in session.exec(select(District)).all()}
    assigned = {s.pole_id: names.get(s.district_id) for s in session.exec(select(Streetlight)).all()}
    assert assigned == {"P1": "District 1", "P2": "District 2", "far": None}
    assert session.get(Layer, "streetlight").revision == 2  # its tiles must revalidate
    district = session.exec(select(District).where(District.code == "1")).one()
    assert district.area_m2 == pytest.approx(abs(GEOD.geometry_area_perimeter(to_shape(district.geom))[0]))


def test_new_boundaries_locate_every_asset_a_batch_at_a_time(session: Session, monkeypatch):
    monkeypatch.setattr(store, "_LOCATE_ROWS", 2)  # five lights: three batches
    lights = [FeatureRecord(Point(-83.405 + i * 0.004, 33.95), {"pole_id": f"P{i}"}, source_id=f"P{i}")
              for i in range(4)] + [FeatureRecord(Point(-80.0, 30.0), {"pole_id": "far"}, source_id="far")]
    write_layer(session=session, kind=LayerKind.streetlight, records=lights, source="lights", actor=None)
    for _ in range(2):  # and the same again when the boundaries are imported a second time
        write_layer(session=session, kind=LayerKind.district, records=_districts(), source="districts", actor=None)
        names = {d.id: d.name for d in session.exec(select(District)).all()}
        session.expire_all()
        assigned = {s.pole_id: names.get(s.district_id) for s in session.exec(select(Streetlight)).all()}
        assert assigned == {"P0": "District 1", "P1": "District 1", "P2": "District 1", "P3": "District 2",
                            "far": None}


def test_a_large_reimport_keeps_every_row_id(session: Session, monkeypatch):
    monkeypatch.setattr(store, "_BATCH", 2)  # more keys than a batch: the layer's keys are read in one pass
    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(i, 50) for i in range(5)], source="a",
                actor=None)
    ids = {r.source_id: r.id for r in session.exec(select(PavementSegment)).all()}
    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(i, 60) for i in (4, 2, 0, 9)],
                source="b", actor=None)
    session.expire_all()
    kept = {r.source_id: r.id for r in session.exec(select(PavementSegment)).all()}
    assert {key: kept[key] for key in ("0", "2", "4")} == {key: ids[key] for key in ("0", "2", "4")}
    assert set(kept) == {"0", "2", "4", "9"}


def test_records_with_and_without_optional_fields_import_together(session: Session):
    with_pci = _segment(0, 70)
    without = _segment(1, 0)
    without.fields = {"street_name": "Blank Survey St"}  # no PCI, no width: a real file's blank cells
    write_layer(session=session, kind=LayerKind.pavement, records=[with_pci, without], source="a", actor=None)
    rows = {r.street_name: r for r in session.exec(select(PavementSegment)).all()}
    assert rows["Blank Survey St"].pci is None and rows["Blank Survey St"].band is None
    assert rows["Blank Survey St"].functional_class == "local"
    assert rows["Street 0"].band == "satisfactory"


def test_reimporting_a_layer_keeps_proposals_on_the_same_streets(session: Session):
    from models.accounts import Group
    from models.proposals import Proposal, ProposalAsset

    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(i, 50) for i in range(3)], source="a",
                actor=None)
    ids = {r.source_id: r.id for r in session.exec(select(PavementSegment)).all()}
    group = Group(name="Friends of Street 1")
    session.add(group)
    session.flush()
    proposal = Proposal(group_id=group.id, title="Fix Street 1 and 2")
    session.add(proposal)
    session.flush()
    session.add_all([ProposalAsset(proposal_id=proposal.id, layer="pavement", asset_id=ids["1"], source_key="1"),
                     ProposalAsset(proposal_id=proposal.id, layer="pavement", asset_id=ids["2"], source_key="2")])
    session.commit()
    # the resurvey comes in a different order; street 2 was retired
    layer = write_layer(session=session, kind=LayerKind.pavement, records=[_segment(1, 80), _segment(0, 40)],
                        source="b", actor=None)
    assert {r.source_id: r.id for r in session.exec(select(PavementSegment)).all()} == {"0": ids["0"], "1": ids["1"]}
    links = {link.source_key: link for link in
             session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == proposal.id)).all()}
    street_1 = session.get(PavementSegment, links["1"].asset_id)
    assert street_1 is not None and (street_1.street_name, street_1.pci) == ("Street 1", 80)
    assert links["2"].missing and links["2"].asset_id < 0  # kept, pointing at nothing
    assert layer.report == {"rows": {"added": 0, "changed": 2, "removed": 1, "unchanged": 0},
                            "proposal_links_missing": 1, "proposal_links_restored": 0}

    # the next survey has street 2 again: the proposal covers it again
    layer = write_layer(session=session, kind=LayerKind.pavement, records=[_segment(i, 60) for i in range(3)],
                        source="c", actor=None)
    session.refresh(links["2"])
    back = session.get(PavementSegment, links["2"].asset_id)
    assert not links["2"].missing and back is not None and back.street_name == "Street 2"
    assert layer.report.items() >= {"proposal_links_missing": 0, "proposal_links_restored": 1}.items()


def test_a_link_never_follows_a_retired_assets_row_number_to_a_new_asset(session: Session):
    from models.accounts import Group
    from models.proposals import Proposal, ProposalAsset

    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(i, 50) for i in range(3)], source="a",
                actor=None)
    ids = {r.source_id: r.id for r in session.exec(select(PavementSegment)).all()}
    group = Group(name="Friends of Street 2")
    session.add(group)
    session.flush()
    proposal = Proposal(group_id=group.id, title="Fix Street 2")
    session.add(proposal)
    session.flush()
    link = ProposalAsset(proposal_id=proposal.id, layer="pavement", asset_id=ids["2"], source_key="2")
    session.add(link)
    session.commit()
    # the resurvey retires street 2 (the highest row number) and adds street 9, which SQLite may number like it
    layer = write_layer(session=session, kind=LayerKind.pavement, records=[_segment(0, 50), _segment(1, 50),
                                                                            _segment(9, 50)], source="b", actor=None)
    session.refresh(link)
    assert link.missing and link.asset_id < 0
    assert layer.report.items() >= {"proposal_links_missing": 1, "proposal_links_restored": 0}.items()


def test_postgis_plans_a_new_layer_with_its_real_size_at_once(session: Session):
    """Statistics refreshed by the import itself: with autovacuum slow or off, a freshly loaded layer
    would otherwise be planned as an empty table (whole-table sorts on the first pages and tiles)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    from sqlalchemy import text
    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(i, 50) for i in range(5)],
                source="a", actor=None)
    reltuples = session.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'pavement_segment'")).scalar()
    assert reltuples == 5


def _row_versions(session: Session) -> dict[str, object]:
    """Each segment's row version: PostgreSQL's xmin changes whenever a row is written (SQLite has no such
    column: its rows are compared by content and id)."""
    if session.get_bind().dialect.name != "postgresql":
        return {}
    return dict(session.execute(text("SELECT source_id, xmin::text FROM pavement_segment")).all())


def test_a_reimport_writes_only_the_rows_that_changed(session: Session):
    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(i, 50) for i in range(4)], source="a",
                actor=None)
    ids = {r.source_id: r.id for r in session.exec(select(PavementSegment)).all()}
    versions = _row_versions(session)
    layer = write_layer(session=session, kind=LayerKind.pavement, records=[_segment(i, 50) for i in range(4)],
                        source="a", actor=None)
    assert layer.report["rows"] == {"added": 0, "changed": 0, "removed": 0, "unchanged": 4}
    assert _row_versions(session) == versions and layer.revision == 1  # tiles stay cached

    moved = _segment(3, 50)
    moved.geometry = MultiLineString([LineString([(-83.40, 33.96), (-83.40, 33.961)])])
    again = [_segment(0, 50), _segment(1, 35), _segment(2, 50), moved, _segment(7, 80)]
    again[2].attributes = {"ID": 2, "Name": "Street 2", "Surveyed": "2027"}  # only the source's own columns differ
    layer = write_layer(session=session, kind=LayerKind.pavement, records=again, source="b", actor=None)
    assert layer.report["rows"] == {"added": 1, "changed": 3, "removed": 0, "unchanged": 1}
    session.expire_all()
    rows = {r.source_id: r for r in session.exec(select(PavementSegment)).all()}
    assert {key: rows[key].id for key in ids} == ids  # every kept segment keeps its id
    assert rows["1"].pci == 35 and rows["1"].band == "very_poor"
    assert rows["2"].attributes["Surveyed"] == "2027"
    assert to_shape(rows["3"].geom).bounds[1] == pytest.approx(33.96)
    assert rows["7"].id not in ids.values()
    if versions:
        now = _row_versions(session)
        assert {key for key in versions if now[key] != versions[key]} == {"1", "2", "3"}

    layer = write_layer(session=session, kind=LayerKind.pavement, records=again[:2], source="c", actor=None)
    assert layer.report["rows"] == {"added": 0, "changed": 0, "removed": 3, "unchanged": 2}
    assert sorted(r.source_id for r in session.exec(select(PavementSegment)).all()) == ["0", "1"]


def test_appending_writes_only_the_incoming_rows_that_changed(session: Session):
    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(i, 50) for i in range(3)], source="a",
                actor=None)
    layer = write_layer(session=session, kind=LayerKind.pavement, records=[_segment(1, 50), _segment(2, 20)],
                        source="b", actor=None, mode="append")
    assert layer.report["rows"] == {"added": 0, "changed": 1, "removed": 0, "unchanged": 1}
    assert {r.source_id: r.pci for r in session.exec(select(PavementSegment)).all()} == {"0": 50, "1": 50, "2": 20}


def test_reimporting_the_same_boundaries_keeps_every_district_and_relocates_nothing(session: Session):
    lights = [FeatureRecord(Point(-83.405 + i * 0.004, 33.95), {"pole_id": f"P{i}"}, source_id=f"P{i}")
              for i in range(4)]
    write_layer(session=session, kind=LayerKind.streetlight, records=lights, source="lights", actor=None)
    write_layer(session=session, kind=LayerKind.district, records=_districts(), source="districts", actor=None)
    districts = {d.code: d.id for d in session.exec(select(District)).all()}
    located = {s.pole_id: s.district_id for s in session.exec(select(Streetlight)).all()}
    revision = session.get(Layer, "streetlight").revision

    layer = write_layer(session=session, kind=LayerKind.district, records=_districts(), source="districts",
                        actor=None)
    assert layer.report["rows"]["unchanged"] == 2
    session.expire_all()
    assert {d.code: d.id for d in session.exec(select(District)).all()} == districts
    assert {s.pole_id: s.district_id for s in session.exec(select(Streetlight)).all()} == located
    assert session.get(Layer, "streetlight").revision == revision  # nothing moved: its tiles stay cached

    wider = _districts()
    wider[0].geometry = MultiPolygon([box(-83.41, 33.94, -83.39, 33.96)])  # the boundary moves east
    wider[1].geometry = MultiPolygon([box(-83.39, 33.94, -83.38, 33.96)])
    write_layer(session=session, kind=LayerKind.district, records=wider, source="districts 2027", actor=None)
    session.expire_all()
    assert {d.code: d.id for d in session.exec(select(District)).all()} == districts  # changed in place
    names = {d.id: d.code for d in session.exec(select(District)).all()}
    assert {s.pole_id: names[s.district_id] for s in session.exec(select(Streetlight)).all()} == \
        {"P0": "1", "P1": "1", "P2": "1", "P3": "1"}
    assert session.get(Layer, "streetlight").revision == revision + 1


def test_reimporting_the_same_boundaries_repairs_a_stale_district_and_bumps_only_that_layer(session: Session):
    """An asset import racing a boundary import can commit a district the boundaries no longer give;
    importing the boundaries again finds every feature's district again and writes only what differs."""
    lights = [FeatureRecord(Point(-83.405 + i * 0.004, 33.95), {"pole_id": f"P{i}"}, source_id=f"P{i}")
              for i in range(4)]
    write_layer(session=session, kind=LayerKind.streetlight, records=lights, source="lights", actor=None)
    write_layer(session=session, kind=LayerKind.pavement, records=[_segment(0, 50)], source="a", actor=None)
    write_layer(session=session, kind=LayerKind.district, records=_districts(), source="districts", actor=None)
    east = session.exec(select(District).where(District.code == "2")).one().id
    session.execute(text("UPDATE streetlight SET district_id = :east WHERE source_id = 'P0'"), {"east": east})
    session.commit()
    revisions = {kind: session.get(Layer, kind).revision for kind in ("streetlight", "pavement")}

    write_layer(session=session, kind=LayerKind.district, records=_districts(), source="districts", actor=None)
    session.expire_all()
    west = session.exec(select(District).where(District.code == "1")).one().id
    assert session.exec(select(Streetlight).where(Streetlight.source_id == "P0")).one().district_id == west
    assert session.get(Layer, "streetlight").revision == revisions["streetlight"] + 1
    assert session.get(Layer, "pavement").revision == revisions["pavement"]  # nothing of it moved
