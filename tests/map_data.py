"""A small hand-made city for the map tests: two districts, and assets inside and outside them."""

from __future__ import annotations

from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box
from sqlmodel import Session

from app.geometry import GEOD
from app.layers.store import FeatureRecord, write_layer
from models.layers import LayerKind

WEST_X, EAST_X, FAR_X = -83.40, -83.39, -80.0
MILE = 1609.344


def line(x: float, span: float, y: float = 33.945) -> MultiLineString:
    return MultiLineString([LineString([(x, y), (x, y + span)])])


def metres(x: float, span: float) -> float:
    return GEOD.geometry_length(LineString([(x, 33.945), (x, 33.945 + span)]))


# (street, x, span in degrees of latitude, PCI)
PAVEMENT = [
    ("Main St", WEST_X, 0.010, 90.0),
    ("Main St", WEST_X + 0.001, 0.005, 30.0),
    ("Oak Ave", EAST_X, 0.002, 60.0),
    ("Far Rd", FAR_X, 0.001, 5.0),
    ("Elm St", EAST_X + 0.001, 0.003, None),
]
LIGHTS = [("W1", WEST_X, "working"), ("W2", WEST_X, "out"), ("W3", WEST_X, "out"),
          ("E1", EAST_X, "reported"), ("E2", EAST_X, "working"), ("F1", FAR_X, "out")]
# (street, x, span, condition, is_gap)
SIDEWALKS = [("Main St", WEST_X, 0.002, None, True), ("Main St", WEST_X + 0.001, 0.003, "poor", False),
             ("Pine St", WEST_X + 0.002, 0.001, "good", False), ("Oak Ave", EAST_X, 0.004, "poor", False)]
RAMPS = [(WEST_X, "good"), (WEST_X, "poor"), (EAST_X, "poor"), (EAST_X, None)]


def load_city(session: Session, *, districts: bool = True) -> None:
    if districts:
        write_layer(session=session, kind=LayerKind.district, source="districts", actor=None, records=[
            FeatureRecord(MultiPolygon([box(-83.41, 33.94, -83.395, 33.96)]), {"name": "West", "code": "W"}),
            FeatureRecord(MultiPolygon([box(-83.395, 33.94, -83.38, 33.96)]), {"name": "East", "code": "E"})])
    write_layer(session=session, kind=LayerKind.pavement, source="streets", actor=None, records=[
        FeatureRecord(line(x, span), {"street_name": street, "pci": pci, "band": None, "functional_class": "local"},
                      source_id=str(i)) for i, (street, x, span, pci) in enumerate(PAVEMENT)])
    write_layer(session=session, kind=LayerKind.streetlight, source="lights", actor=None, records=[
        FeatureRecord(Point(x, 33.95), {"pole_id": pole, "status": status, "owner": "city"}, source_id=pole)
        for pole, x, status in LIGHTS])
    write_layer(session=session, kind=LayerKind.sidewalk, source="sidewalks", actor=None, records=[
        FeatureRecord(line(x, span), {"street_name": street, "condition": condition, "is_gap": gap})
        for street, x, span, condition, gap in SIDEWALKS])
    write_layer(session=session, kind=LayerKind.ramp, source="ramps", actor=None, records=[
        FeatureRecord(Point(x, 33.95), {"condition": condition}) for x, condition in RAMPS])


def load_grid_city(session: Session) -> None:
    """A compact street grid (about 2 × 1.5 km) for the browser: every band, gaps, lights out, ramps."""
    write_layer(session=session, kind=LayerKind.district, source="districts", actor=None, records=[
        FeatureRecord(MultiPolygon([box(-83.421, 33.939, -83.400, 33.956)]), {"name": "Northside", "code": "1"}),
        FeatureRecord(MultiPolygon([box(-83.400, 33.939, -83.379, 33.956)]), {"name": "Riverside", "code": "2"})])
    xs = [-83.42 + i * 0.004 for i in range(11)]
    ys = [33.94 + j * 0.003 for j in range(6)]
    streets, sidewalks, lights, ramps = [], [], [], []
    pcis = [95, 78, 62, 47, 33, 18, 6]
    for j, y in enumerate(ys):  # east-west avenues, one segment per block
        for i in range(len(xs) - 1):
            pci = pcis[(i + j) % len(pcis)]
            streets.append(FeatureRecord(MultiLineString([LineString([(xs[i], y), (xs[i + 1], y)])]),
                                         {"street_name": f"{j + 1} Avenue", "pci": pci, "band": None,
                                          "functional_class": "arterial" if j % 3 == 0 else "local"},
                                         {"SEG_ID": f"A{j}-{i}", "PAVED": 1998 + i}))
            kerb = MultiLineString([LineString([(xs[i], y + 0.0002), (xs[i + 1], y + 0.0002)])])
            sidewalks.append(FeatureRecord(kerb, {"street_name": f"{j + 1} Avenue", "is_gap": (i + j) % 5 == 0,
                                                  "condition": ["good", "fair", "poor"][i % 3]}))
    for i, x in enumerate(xs):  # north-south streets
        for j in range(len(ys) - 1):
            pci = pcis[(i * 2 + j) % len(pcis)]
            streets.append(FeatureRecord(MultiLineString([LineString([(x, ys[j]), (x, ys[j + 1])])]),
                                         {"street_name": f"Street {chr(65 + i)}", "pci": pci, "band": None,
                                          "functional_class": "collector"}))
            status = ["working", "working", "out", "reported"][(i + j) % 4]
            pole = {"pole_id": f"P{i}-{j}", "status": status, "owner": "city", "lamp_type": "LED"}
            lights.append(FeatureRecord(Point(x + 0.0003, ys[j] + 0.0015), pole))
            ramps.append(FeatureRecord(Point(x + 0.0002, ys[j] + 0.0002),
                                       {"condition": ["good", "poor"][(i + j) % 2]}))
    write_layer(session=session, kind=LayerKind.tract, source="tracts", actor=None, records=[
        FeatureRecord(MultiPolygon([box(-83.421 + k * 0.0105, 33.939, -83.421 + (k + 1) * 0.0105, 33.956)]),
                      {"geoid": f"1305900{k}", "name": f"Tract {k}", "poverty_rate": 0.08 + k * 0.11})
        for k in range(4)])
    write_layer(session=session, kind=LayerKind.pavement, source="grid streets", actor=None, records=streets)
    write_layer(session=session, kind=LayerKind.sidewalk, source="grid sidewalks", actor=None, records=sidewalks)
    write_layer(session=session, kind=LayerKind.streetlight, source="grid lights", actor=None, records=lights)
    write_layer(session=session, kind=LayerKind.ramp, source="grid ramps", actor=None, records=ramps)
