"""The map's summary panel: what the loaded layers say, for the whole city and by district.

Miles of pavement by condition band (in the pavement layer's band scheme), the network's
length-weighted average PCI, streetlights out and reported, sidewalk gap and poor-condition
miles, curb ramps by condition. Assets carry their district (found at import); those outside
every district are grouped as "Outside districts". Everything is a few grouped queries, so the
panel stays cheap on a city-sized network; its ETag derives from the layer revisions.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from app.i18n import gettext, localized
from app.layers.bands import BandScheme, scheme
from app.layers.legend import (
    SIDEWALK_CONDITIONS,
    UNRATED,
    condition_label,
    worst_bands,
)
from models.layers import CurbRamp, District, Layer, LayerKind, PavementSegment, SidewalkSegment, Streetlight

METRES_PER_MILE = 1609.344
CITY = "city"
OUTSIDE = "outside"
OUTSIDE_NAME = "Outside districts"
POOR_SIDEWALK = ("poor",)


@dataclass(frozen=True)
class LoadedLayer:
    kind: LayerKind
    title: str
    feature_count: int
    revision: int
    bounds: tuple[float, float, float, float] | None


def loaded_layers(*, session: Session) -> list[LoadedLayer]:
    """Layers with features, in the order the map lists them."""
    rows = {layer.kind: layer for layer in session.execute(select(Layer)).scalars()}
    loaded = []
    for kind in LayerKind:
        layer = rows.get(kind.value)
        if layer is None or layer.feature_count <= 0:
            continue
        box = (layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat)
        # a layer's title is code (the catalogue has it in Spanish); a title staff gave stays as given
        loaded.append(LoadedLayer(kind, gettext(layer.title or kind.title), layer.feature_count, layer.revision,
                                  None if None in box else box))
    return loaded


def revision_tag(*, session: Session) -> str:
    """Changes whenever any layer is written: the summary's (and table's) cache validator."""
    rows = session.execute(select(col(Layer.kind), col(Layer.revision), col(Layer.band_scheme))
                           .order_by(col(Layer.kind))).all()
    text = ";".join(f"{kind}:{revision}:{band_scheme or ''}" for kind, revision, band_scheme in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def pavement_scheme(*, session: Session) -> BandScheme:
    layer = session.get(Layer, LayerKind.pavement.value)
    return scheme(layer.band_scheme if layer else None)


@dataclass(frozen=True)
class BandMiles:
    key: str
    label: str
    colour: str
    miles: float
    dashed: bool


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int


@dataclass
class AreaSummary:
    """One area's numbers: the whole city, a district, or the assets outside every district."""

    key: str
    name: str
    bands: list[BandMiles] = field(default_factory=list)
    pavement_miles: float = 0.0
    average_pci: float | None = None
    lights_total: int = 0
    lights_out: int = 0
    lights_reported: int = 0
    sidewalk_miles: float = 0.0
    sidewalk_gap_miles: float = 0.0
    sidewalk_poor_miles: float = 0.0
    ramps_total: int = 0
    ramps: list[Count] = field(default_factory=list)

    @property
    def ramp_counts(self) -> dict[str, int]:
        return {r.key: r.count for r in self.ramps}

    @property
    def max_band_miles(self) -> float:
        return max((b.miles for b in self.bands), default=0.0)


@dataclass
class MapSummary:
    scheme: BandScheme
    city: AreaSummary
    districts: list[AreaSummary]  # every district by name, then "Outside districts" when anything is
    has_pavement: bool
    has_sidewalks: bool
    has_ramps: bool
    has_lights: bool

    def area(self, key: str | None) -> AreaSummary | None:
        if not key or key == CITY:
            return self.city
        return next((a for a in self.districts if a.key == key), None)

    @property
    def areas(self) -> list[tuple[str, str]]:
        return [(CITY, "Whole city")] + [(a.key, a.name) for a in self.districts]


class _Tally:
    """Running sums for one area while the grouped rows are read."""

    def __init__(self) -> None:
        self.band_m: dict[str | None, float] = defaultdict(float)
        self.rated_m = 0.0
        self.pci_m = 0.0
        self.lights: dict[str, int] = defaultdict(int)
        self.sidewalk_m = 0.0
        self.gap_m = 0.0
        self.poor_m = 0.0
        self.ramps: dict[str | None, int] = defaultdict(int)


def _area_key(district_id: int | None) -> str:
    return OUTSIDE if district_id is None else str(district_id)


def map_summary(*, session: Session) -> MapSummary:
    band_scheme = pavement_scheme(session=session)
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    kinds = {layer.kind for layer in loaded_layers(session=session)}

    rated = col(PavementSegment.pci).isnot(None)
    pavement = session.execute(
        select(col(PavementSegment.district_id), col(PavementSegment.band), func.sum(col(PavementSegment.length_m)),
               func.sum(case((rated, col(PavementSegment.length_m)), else_=0.0)),
               func.sum(case((rated, col(PavementSegment.pci) * col(PavementSegment.length_m)), else_=0.0)))
        .group_by(col(PavementSegment.district_id), col(PavementSegment.band)))
    for district_id, band, metres, rated_m, pci_m in pavement:
        for key in (CITY, _area_key(district_id)):
            tally = tallies[key]
            tally.band_m[band] += float(metres or 0)
            tally.rated_m += float(rated_m or 0)
            tally.pci_m += float(pci_m or 0)

    lights = session.execute(select(col(Streetlight.district_id), col(Streetlight.status), func.count())
                             .group_by(col(Streetlight.district_id), col(Streetlight.status)))
    for district_id, status, count in lights:
        for key in (CITY, _area_key(district_id)):
            tallies[key].lights[status] += int(count)

    gap = col(SidewalkSegment.is_gap).is_(True)
    poor = col(SidewalkSegment.condition).in_(POOR_SIDEWALK) & ~gap
    sidewalks = session.execute(
        select(col(SidewalkSegment.district_id), func.sum(col(SidewalkSegment.length_m)),
               func.sum(case((gap, col(SidewalkSegment.length_m)), else_=0.0)),
               func.sum(case((poor, col(SidewalkSegment.length_m)), else_=0.0)))
        .group_by(col(SidewalkSegment.district_id)))
    for district_id, metres, gap_m, poor_m in sidewalks:
        for key in (CITY, _area_key(district_id)):
            tally = tallies[key]
            tally.sidewalk_m += float(metres or 0)
            tally.gap_m += float(gap_m or 0)
            tally.poor_m += float(poor_m or 0)

    ramps = session.execute(select(col(CurbRamp.district_id), col(CurbRamp.condition), func.count())
                            .group_by(col(CurbRamp.district_id), col(CurbRamp.condition)))
    for district_id, condition, count in ramps:
        for key in (CITY, _area_key(district_id)):
            tallies[key].ramps[condition] += int(count)

    worst = worst_bands(band_scheme)
    known = set(band_scheme.keys())
    unrated = any(band not in known for band in tallies[CITY].band_m)  # then every area lists "Not rated"
    city = _area(CITY, "Whole city", tallies[CITY], band_scheme, worst, unrated)
    districts = [_area(str(d_id), localized(name, name_es), tallies[str(d_id)], band_scheme, worst, unrated)
                 for d_id, name, name_es in session.execute(select(col(District.id), col(District.name),
                                                                   col(District.name_es))
                                                            .order_by(col(District.name)))]
    if OUTSIDE in tallies and districts:
        districts.append(_area(OUTSIDE, OUTSIDE_NAME, tallies[OUTSIDE], band_scheme, worst, unrated))
    return MapSummary(band_scheme, city, districts, has_pavement=LayerKind.pavement in kinds,
                      has_sidewalks=LayerKind.sidewalk in kinds, has_ramps=LayerKind.ramp in kinds,
                      has_lights=LayerKind.streetlight in kinds)


def _miles(metres: float) -> float:
    return metres / METRES_PER_MILE


def _area(key: str, name: str, tally: _Tally, band_scheme: BandScheme, worst: set[str],
          unrated: bool) -> AreaSummary:
    known = set(band_scheme.keys())
    bands = [BandMiles(b.key, b.label, b.colour, _miles(tally.band_m.get(b.key, 0.0)), b.key in worst)
             for b in band_scheme.bands]
    unrated_m = sum(m for band, m in tally.band_m.items() if band not in known)
    if unrated:
        bands.append(BandMiles(UNRATED.key, UNRATED.label, UNRATED.colour, _miles(unrated_m), False))
    ramp_keys = [e.key for e in SIDEWALK_CONDITIONS]
    ramps = [Count(k, condition_label(k), tally.ramps[k]) for k in ramp_keys if tally.ramps.get(k)]
    other = sum(n for k, n in tally.ramps.items() if k not in ramp_keys)
    if other:
        ramps.append(Count(UNRATED.key, UNRATED.label, other))
    return AreaSummary(
        key=key, name=name, bands=bands,
        pavement_miles=_miles(sum(tally.band_m.values())),
        average_pci=tally.pci_m / tally.rated_m if tally.rated_m else None,
        lights_total=sum(tally.lights.values()),
        lights_out=tally.lights.get("out", 0),
        lights_reported=tally.lights.get("reported", 0),
        sidewalk_miles=_miles(tally.sidewalk_m), sidewalk_gap_miles=_miles(tally.gap_m),
        sidewalk_poor_miles=_miles(tally.poor_m),
        ramps_total=sum(tally.ramps.values()), ramps=ramps,
    )
