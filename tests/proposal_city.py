"""A tiny city for proposal tests: two districts, a street of pavement segments, a sidewalk gap,
a streetlight that is out, the demo program (accepting proposals today) and the default catalog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box
from sqlmodel import Session, col, select

from app import program
from app.costing import catalog
from app.layers.store import FeatureRecord, write_layer
from models.layers import LayerKind, PavementSegment, SidewalkSegment, Streetlight

WEST = box(-83.41, 33.94, -83.395, 33.96)
EAST = box(-83.395, 33.94, -83.38, 33.96)
PCIS = (30.0, 45.0, 72.0, 90.0)


@dataclass
class City:
    segments: list[int]
    sidewalk: int
    light: int


def segment_line(i: int) -> LineString:
    """Main Street runs east from -83.405, in blocks of 0.002° (about 185 m)."""
    return LineString([(-83.405 + i * 0.002, 33.95), (-83.405 + (i + 1) * 0.002, 33.95)])


def build_city(session: Session, *, accepting: bool = True) -> City:
    write_layer(session=session, kind=LayerKind.district, source="districts", actor=None, records=[
        FeatureRecord(MultiPolygon([WEST]), {"name": "West Ward", "code": "1"}, source_id="1"),
        FeatureRecord(MultiPolygon([EAST]), {"name": "East Ward", "code": "2"}, source_id="2")])
    write_layer(session=session, kind=LayerKind.pavement, source="pavement", actor=None, records=[
        FeatureRecord(MultiLineString([segment_line(i)]),
                      {"street_name": "Main Street", "pci": pci, "width_m": 10.0, "functional_class": "local"},
                      source_id=str(i)) for i, pci in enumerate(PCIS)])
    write_layer(session=session, kind=LayerKind.sidewalk, source="sidewalks", actor=None, records=[
        FeatureRecord(MultiLineString([LineString([(-83.405, 33.9501), (-83.403, 33.9501)])]),
                      {"street_name": "Main Street", "is_gap": True}, source_id="s1")])
    write_layer(session=session, kind=LayerKind.streetlight, source="lights", actor=None, records=[
        FeatureRecord(Point(-83.404, 33.9502), {"pole_id": "P1", "status": "out", "lamp_type": "HPS"},
                      source_id="l1")])
    start = date.today() - timedelta(days=35 if accepting else 0)
    program.save_program(session=session, actor=None, draft=program.demo_draft(start=start))
    catalog.ensure_defaults(session=session)
    segments = list(session.exec(select(PavementSegment.id).order_by(col(PavementSegment.source_id))))
    sidewalk = session.exec(select(SidewalkSegment.id)).one()
    light = session.exec(select(Streetlight.id)).one()
    return City([int(s) for s in segments], int(sidewalk), int(light))


def add_cross_street(session: Session) -> list[int]:
    """Oak Street crosses Main Street where its second and third blocks meet (-83.401), one
    segment on each side (about 110 m): the ids, north first."""
    write_layer(session=session, kind=LayerKind.pavement, source="cross street", actor=None, mode="append", records=[
        FeatureRecord(MultiLineString([LineString([(-83.401, 33.95), (-83.401, 33.95 + dy)])]),
                      {"street_name": "Oak Street", "pci": 40.0, "width_m": 8.0, "functional_class": "local"},
                      source_id=f"oak-{i}") for i, dy in enumerate((0.001, -0.001))])
    return [int(i) for i in session.exec(select(PavementSegment.id).where(PavementSegment.street_name == "Oak Street")
                                         .order_by(col(PavementSegment.source_id)))]
