"""The versioned cost catalog in the database, and pricing assets loaded from the layers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiLineString, Point
from sqlmodel import Session, select

from app.costing import catalog
from app.costing.catalog import CatalogError
from app.costing.estimate import CostingError, Override
from app.costing.service import AssetRef, price_assets
from models.accounts import User
from models.audit import AuditEvent
from models.costs import CatalogVersion
from models.layers import PavementSegment, Streetlight

LINE = MultiLineString([[(-71.1, 42.39), (-71.099, 42.39)]])


def add_segment(session: Session, **fields: object) -> PavementSegment:
    segment = PavementSegment(geom=from_shape(LINE, srid=4326), **fields)  # type: ignore[arg-type]
    session.add(segment)
    session.commit()
    return segment


def test_defaults_are_written_once(session: Session) -> None:
    first = catalog.ensure_defaults(session=session)
    again = catalog.ensure_defaults(session=session)
    assert first.id == again.id and first.number == 1 and first.is_current
    rows = catalog.treatments_of(session=session, version=first)
    assert {r.layer_kind for r in rows} == {"pavement", "sidewalk", "ramp", "streetlight"}
    assert next(r for r in rows if r.key == "crack_seal").unit_cost_cents == 151


def test_editing_makes_a_new_version_and_leaves_the_old_one_alone(session: Session, staff: User) -> None:
    v1 = catalog.ensure_defaults(session=session)
    draft = catalog.draft_of(session=session, version=v1)
    draft.treatments = [replace(t, unit_cost_cents=200) if t.key == "crack_seal" else t for t in draft.treatments]
    draft.contingency_bps = 1000
    v2 = catalog.create_version(session=session, actor=staff, draft=draft, note="2024 bid prices")

    assert (v2.number, v2.is_current, v2.created_by_id, v2.contingency_bps) == (2, True, staff.id, 1000)
    session.refresh(v1)
    assert not v1.is_current and v1.contingency_bps == 2000
    assert next(r for r in catalog.treatments_of(session=session, version=v1) if r.key == "crack_seal") \
        .unit_cost_cents == 151
    assert [v.number for v in catalog.list_versions(session=session)] == [2, 1]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.version_created")
                         .where(AuditEvent.actor_id == staff.id)).one()
    assert event.after and event.after["version"] == 2


def test_an_estimate_names_its_version_and_old_versions_still_price_the_same(session: Session, staff: User) -> None:
    v1 = catalog.ensure_defaults(session=session)
    segment = add_segment(session, length_m=91.44, width_m=9.144, pci=75, functional_class="local")
    before = price_assets(session=session, refs=[AssetRef("pavement", segment.id)], scheduled_year=2015)
    assert before.catalog_version_id == v1.id
    # 1,000 sq yd crack seal at $1.51 = $1,510 + 15 % + 20 % = $2,038.50
    assert before.total_cents == 203_850

    draft = catalog.draft_of(session=session, version=v1)
    draft.treatments = [replace(t, unit_cost_cents=300) if t.key == "crack_seal" else t for t in draft.treatments]
    v2 = catalog.create_version(session=session, actor=staff, draft=draft)

    now = price_assets(session=session, refs=[AssetRef("pavement", segment.id)], scheduled_year=2015)
    assert (now.catalog_version_id, now.total_cents) == (v2.id, 405_000)
    again = price_assets(session=session, refs=[AssetRef("pavement", segment.id)], scheduled_year=2015,
                         version_id=v1.id)
    assert again.to_dict() == before.to_dict()


def test_pricing_refuses_unknown_assets_and_bad_overrides(session: Session) -> None:
    catalog.ensure_defaults(session=session)
    light = Streetlight(geom=from_shape(Point(-71.1, 42.39), srid=4326), status="out", lamp_type="HPS")
    session.add(light)
    session.commit()
    result = price_assets(session=session, refs=[AssetRef("streetlight", light.id), AssetRef("streetlight", light.id)],
                          scheduled_year=2016, override=Override(700_000, "Utility quote"))
    assert result.lines[0].asset_ids == [light.id]  # listed twice, priced once
    assert result.final_cents == 700_000
    with pytest.raises(CostingError, match="No such asset: streetlight 999999"):
        price_assets(session=session, refs=[AssetRef("streetlight", 999999)], scheduled_year=2016)
    with pytest.raises(CostingError, match="not a layer of assets"):
        price_assets(session=session, refs=[AssetRef("district", 1)], scheduled_year=2016)
    with pytest.raises(CostingError, match="at least one"):
        price_assets(session=session, refs=[], scheduled_year=2016)
    with pytest.raises(CostingError, match="reason"):
        price_assets(session=session, refs=[AssetRef("streetlight", light.id)], scheduled_year=2016,
                     override=Override(700_000, ""))


def test_csv_round_trip_gives_the_same_treatments(session: Session, staff: User) -> None:
    v1 = catalog.ensure_defaults(session=session)
    text = catalog.export_csv(session=session, version=v1)
    assert text.splitlines()[0] == ",".join(catalog.CSV_COLUMNS)
    assert "pavement,crack_seal,Crack seal,sq_yd,1.51,68,88,,,-15,25" in text
    v2 = catalog.import_csv(session=session, actor=staff, text=text)
    assert v2.number == 2
    assert catalog.snapshot(session=session, version=v2).treatments == \
        catalog.snapshot(session=session, version=v1).treatments


def test_export_defuses_formulas(session: Session, staff: User) -> None:
    v1 = catalog.ensure_defaults(session=session)
    draft = catalog.draft_of(session=session, version=v1)
    draft.treatments[0] = replace(draft.treatments[0], name="=HYPERLINK(\"http://evil\")")
    v2 = catalog.create_version(session=session, actor=staff, draft=draft)
    assert '"\'=HYPERLINK' in catalog.export_csv(session=session, version=v2)


def test_bad_csv_names_its_rows_and_writes_nothing(session: Session, staff: User) -> None:
    catalog.ensure_defaults(session=session)
    text = ("layer_kind,key,name,unit,unit_cost_dollars,min_pci,max_pci,functional_class,conditions,"
            "low_percent,high_percent\n"
            "pavement,ok,Fine,sq_yd,1.00,0,50,,,,\n"
            "pavement,bad_cost,Oops,sq_yd,abc,50,60,,,,\n"
            "pavement,formula,=SUM(A1:A9),sq_yd,1.00,60,70,,,,\n"
            "pavement,bad_unit,Hmm,acres,1.00,70,80,,,,\n"
            "pavement,overlaps,Overlap,sq_yd,1.00,40,55,,,,\n")
    with pytest.raises(CatalogError) as error:
        catalog.import_csv(session=session, actor=staff, text=text)
    problems = error.value.problems
    assert any(p.startswith("Row 3:") and "unit_cost_dollars" in p for p in problems)
    assert any(p.startswith("Row 4:") and "formula" in p for p in problems)
    assert any(p.startswith("Row 5:") and "unit" in p for p in problems)
    assert len(session.exec(select(CatalogVersion)).all()) == 1
    with pytest.raises(CatalogError, match="overlapping"):
        lines = text.splitlines()
        catalog.import_csv(session=session, actor=staff, text="\n".join([lines[0], lines[1], lines[-1]]))
    with pytest.raises(CatalogError, match="Row 1"):
        catalog.import_csv(session=session, actor=staff, text="name,cost\nx,1\n")
    assert len(session.exec(select(CatalogVersion)).all()) == 1


def test_a_pavement_table_replaces_only_pavement_rows(session: Session, staff: User) -> None:
    catalog.ensure_defaults(session=session)
    table = ("layer_kind,key,name,unit,unit_cost_dollars,min_pci,max_pci,functional_class\n"
             "pavement,keep,Do nothing,sq_yd,0,70,,\n"
             "pavement,fix,Fix it,sq_yd,50.00,,70,\n")
    version = catalog.import_csv(session=session, actor=staff, text=table)
    rows = catalog.treatments_of(session=session, version=version)
    assert [r.key for r in rows if r.layer_kind == "pavement"] == ["keep", "fix"]
    assert {r.key for r in rows if r.layer_kind != "pavement"} == {
        "new_sidewalk", "sidewalk_repair", "curb_ramp", "led_retrofit", "new_pole"}
