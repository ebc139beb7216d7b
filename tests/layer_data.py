"""Small condition layers written straight into the tables, for serving tests (tiles, /ogc)."""

from __future__ import annotations

import math

from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from sqlmodel import Session

from models.layers import (
    CensusTract,
    CurbRamp,
    District,
    Layer,
    LayerKind,
    PavementSegment,
    SidewalkSegment,
    Streetlight,
)

# Somerville, MA: z14 tile 4956/6058 spans lon -71.1035 … -71.0815, lat 42.3748 … 42.3910.
CENTRE = (-71.0925, 42.3830)
FAR = (-71.0200, 42.3300)  # several z14 tiles away


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def _line(lon: float, lat: float, dx: float = 0.002) -> object:
    return from_shape(MultiLineString([LineString([(lon, lat), (lon + dx, lat)])]), srid=4326)


def _square(lon: float, lat: float, half: float) -> object:
    ring = [(lon - half, lat - half), (lon + half, lat - half), (lon + half, lat + half), (lon - half, lat + half)]
    return from_shape(MultiPolygon([Polygon(ring)]), srid=4326)


def set_layer(session: Session, kind: LayerKind, count: int, revision: int = 1,
              bbox: tuple[float, float, float, float] = (-71.10, 42.32, -71.01, 42.39)) -> Layer:
    layer = session.get(Layer, kind.value) or Layer(kind=kind.value, title=kind.title)
    layer.revision, layer.feature_count = revision, count
    layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat = bbox
    layer.source = "test"
    session.add(layer)
    session.flush()
    return layer


def load_city(session: Session) -> dict[str, list[int]]:
    """Pavement, sidewalks, ramps, lights, one district and one tract near CENTRE, a few FAR away."""
    lon, lat = CENTRE
    pavement = [
        PavementSegment(street_name="MAIN ST", functional_class="arterial", pci=72.6, band="satisfactory",
                        length_m=160, geom=_line(lon, lat), attributes={"OCI": 72.6, "SEG": "A-1"}),
        PavementSegment(street_name="ELM ST", functional_class="local", pci=31.0, band="very_poor", length_m=160,
                        geom=_line(lon, lat + 0.001), attributes={"OCI": 31, "SEG": "A-2"}),
        PavementSegment(street_name="OAK AVE", functional_class="collector", pci=None, band=None, length_m=160,
                        geom=_line(lon, lat - 0.001), attributes={"SEG": "A-3"}),
        PavementSegment(street_name="MAIN ST", functional_class="arterial", pci=45.0, band="poor", length_m=160,
                        geom=_line(*FAR), attributes={"OCI": 45, "SEG": "B-1"}),
    ]
    sidewalks = [
        SidewalkSegment(street_name="MAIN ST", condition="fair", is_gap=False, trip_hazards=2, length_m=100,
                        geom=_line(lon, lat + 0.0002)),
        SidewalkSegment(street_name="ELM ST", condition=None, is_gap=True, trip_hazards=0, length_m=100,
                        geom=_line(lon, lat + 0.0012)),
    ]
    ramps = [CurbRamp(condition="poor", geom=from_shape(Point(lon, lat), srid=4326))]
    lights = [
        Streetlight(pole_id="P-1", status="out", owner="city", lamp_type="LED",
                    geom=from_shape(Point(lon + 0.0005, lat), srid=4326)),
        Streetlight(pole_id="P-2", status="working", owner="utility", lamp_type="HPS",
                    geom=from_shape(Point(*FAR), srid=4326)),
    ]
    districts = [District(name="Ward 1", code="W1", area_m2=1e6, geom=_square(lon, lat, 0.02))]
    tracts = [CensusTract(name="Tract 3501", geoid="25017350100", poverty_rate=0.18, area_m2=1e6,
                          geom=_square(lon, lat, 0.01))]
    ids: dict[str, list[int]] = {}
    for kind, rows in ((LayerKind.pavement, pavement), (LayerKind.sidewalk, sidewalks), (LayerKind.ramp, ramps),
                       (LayerKind.streetlight, lights), (LayerKind.district, districts),
                       (LayerKind.tract, tracts)):
        session.add_all(rows)
        session.flush()
        ids[kind.value] = [row.id for row in rows]  # type: ignore[misc]
        set_layer(session, kind, len(rows))
    session.commit()
    return ids
