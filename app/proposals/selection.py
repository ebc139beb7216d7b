"""What a proposal covers: its drawn location and its selected assets.

Assets are chosen by clicking them on the map, by drawing an area and taking the segments
inside it, by drawing a line and taking the segments along it (within ``ALONG_BUFFER_M``, at
least half of each segment's length, so cross streets stay out), or by the filter "segments on
STREET with PCI below N". A drawn location must be a
point, line or polygon inside the city (the districts, or the layers' extent when no districts
are loaded, with ``CITY_TOLERANCE_M`` of slack).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import bindparam, func, update
from sqlmodel import Session, col, select

from app.geometry import GeometryError, buffer_m, covered_by, share_inside, to_storable
from app.i18n import gettext as _
from app.i18n import number
from app.layers.bands import BandScheme, scheme
from app.proposals import ProposalError
from models.base import saved_id
from models.layers import CurbRamp, District, Layer, LayerKind, PavementSegment, SidewalkSegment, Streetlight
from models.proposals import Proposal, ProposalAsset

ASSET_TABLES: dict[str, Any] = {
    LayerKind.pavement.value: PavementSegment,
    LayerKind.sidewalk.value: SidewalkSegment,
    LayerKind.ramp.value: CurbRamp,
    LayerKind.streetlight.value: Streetlight,
}
MAX_SELECTION = 2_000
CITY_TOLERANCE_M = 200.0
ALONG_BUFFER_M = 15.0
MOSTLY = 0.5  # share of a segment's length that must lie in the area or along the line
DRAWN_TYPES = {"Point": "POINT", "LineString": "MULTILINESTRING", "MultiLineString": "MULTILINESTRING",
               "Polygon": "MULTIPOLYGON", "MultiPolygon": "MULTIPOLYGON"}
MAX_VERTICES = 5_000
POOR_BANDS_FROM = "poor"
BPS = 10_000  # district shares are basis points: 10,000 is the whole proposal


@dataclass(frozen=True, order=True)
class AssetKey:
    layer: str
    id: int

    def __str__(self) -> str:
        return f"{self.layer}:{self.id}"


def parse_asset_keys(value: str | list[str] | None) -> list[AssetKey]:
    """``"pavement:12,sidewalk:4"`` (or a list of such) as keys, each once, in order."""
    items = value if isinstance(value, list) else (value or "").replace("\n", ",").split(",")
    keys: dict[AssetKey, None] = {}
    for item in items:
        item = item.strip()
        if not item:
            continue
        layer, _colon, asset_id = item.partition(":")
        if layer not in ASSET_TABLES or not asset_id.isdigit():
            raise ProposalError(_("“{item}” is not an asset (expected layer:id, e.g. pavement:12).").format(
                item=item[:40]), field="assets")
        keys[AssetKey(layer, int(asset_id))] = None
    if len(keys) > MAX_SELECTION:
        raise ProposalError(_("Select at most {most} assets in one proposal; split it up.").format(
            most=number(MAX_SELECTION)), field="assets")
    return list(keys)


def existing_assets(*, session: Session, keys: list[AssetKey]) -> list[AssetKey]:
    """The keys whose assets are still in their layers, in order."""
    by_layer: dict[str, set[int]] = {}
    for key in keys:
        by_layer.setdefault(key.layer, set()).add(key.id)
    found: set[AssetKey] = set()
    for layer, ids in by_layer.items():
        table = ASSET_TABLES[layer]
        found |= {AssetKey(layer, i) for i in session.exec(select(table.id).where(col(table.id).in_(ids)))}
    return [k for k in keys if k in found]


def gone_message(missing: list[AssetKey]) -> str:
    return _("These assets do not exist (any more): {assets}.").format(
        assets=", ".join(f"{k.layer} {k.id}" for k in sorted(missing)[:10]))


def check_assets_exist(*, session: Session, keys: list[AssetKey]) -> None:
    found = set(existing_assets(session=session, keys=keys))
    if missing := [k for k in keys if k not in found]:
        raise ProposalError(gone_message(missing), field="assets")


def parse_geometry(value: str | dict[str, Any] | None) -> BaseGeometry | None:
    """A drawn location from GeoJSON (a geometry or a feature), as stored; None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        data = json.loads(value) if isinstance(value, str) else value
        if isinstance(data, dict) and data.get("type") == "Feature":
            data = data.get("geometry")
        if data is None:
            return None
        if not isinstance(data, dict) or data.get("type") not in DRAWN_TYPES:
            kind = data.get("type") if isinstance(data, dict) else type(data).__name__
            raise ProposalError(_("Draw a point, a line or a polygon (not a {kind}).").format(kind=kind),
                                field="geometry")
        geometry = shape(data)
    except ProposalError:
        raise
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError) as error:
        raise ProposalError(_("The drawn location is not valid GeoJSON ({error}).").format(error=error),
                            field="geometry") from error
    if shapely.get_num_coordinates(geometry) > MAX_VERTICES:
        raise ProposalError(_("The drawn location has more than {most} points; simplify it.").format(
            most=number(MAX_VERTICES)), field="geometry")
    try:
        stored, _kind = to_storable(geometry, DRAWN_TYPES[geometry.geom_type])
    except GeometryError as error:
        raise ProposalError(_("The drawn location cannot be used: {error}.").format(error=error),
                            field="geometry") from error
    return stored


def city_areas(*, session: Session) -> list[BaseGeometry]:
    """The city: its districts, else the extent of the loaded layers."""
    districts = [to_shape(g) for g in session.exec(select(District.geom))]
    if districts:
        return districts
    return [box(layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat)
            for layer in session.exec(select(Layer).where(col(Layer.min_lon).is_not(None)))
            if None not in (layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat)]


def check_in_city(*, session: Session, geometry: BaseGeometry) -> None:
    areas = city_areas(session=session)
    if not areas:
        raise ProposalError(_("No city boundary or condition layer is loaded yet, so a location cannot be checked."),
                            field="geometry")
    if not covered_by(geometry, areas, CITY_TOLERANCE_M):
        raise ProposalError(_("The drawn location is outside the city. Draw it within the city's districts."),
                            field="geometry")


def _mostly_within(*, session: Session, area: BaseGeometry, layers: tuple[str, ...]) -> list[AssetKey]:
    """The assets of these layers that lie mostly (by length for segments) inside an area."""
    found: list[AssetKey] = []
    for layer in layers:
        table = ASSET_TABLES[layer]
        query = select(table.id, table.geom).where(
            func.ST_Intersects(table.geom, func.ST_GeomFromText(area.wkt, 4326))).order_by(table.id)
        found += [AssetKey(layer, i) for i, g in session.exec(query) if share_inside(to_shape(g), area) >= MOSTLY]
    return found


def assets_inside(*, session: Session, area: BaseGeometry,
                  layers: tuple[str, ...] = (LayerKind.pavement.value,)) -> list[AssetKey]:
    """The assets mostly inside a drawn polygon (by length for segments)."""
    if area.geom_type not in ("Polygon", "MultiPolygon"):
        raise ProposalError(_("Draw an area (a polygon) first, then take the segments inside it."), field="geometry")
    found = _mostly_within(session=session, area=area, layers=layers)
    if not found:
        raise ProposalError(_("No segments lie inside this area; your selection is unchanged."), field="geometry")
    if len(found) > MAX_SELECTION:
        raise ProposalError(_("That area holds {count} assets; draw a smaller one (at most {most}).").format(
            count=number(len(found)), most=number(MAX_SELECTION)), field="geometry")
    return found


def assets_along(*, session: Session, line: BaseGeometry,
                 layers: tuple[str, ...] = (LayerKind.pavement.value,)) -> list[AssetKey]:
    """The segments running along a drawn line: mostly within ``ALONG_BUFFER_M`` of it (by
    length), so a cross street that only touches the line is left out."""
    if line.geom_type not in ("LineString", "MultiLineString"):
        raise ProposalError(_("Draw a line first, then take the segments along it."), field="geometry")
    corridor = buffer_m(line, ALONG_BUFFER_M)
    found = _mostly_within(session=session, area=corridor, layers=layers)
    if not found:
        raise ProposalError(_("No segments lie along this line; your selection is unchanged."), field="geometry")
    if len(found) > MAX_SELECTION:
        raise ProposalError(_("That line runs along {count} assets; draw a shorter one (at most {most}).").format(
            count=number(len(found)), most=number(MAX_SELECTION)), field="geometry")
    return found


def segments_on_street(*, session: Session, street: str, pci_below: float | None) -> list[AssetKey]:
    """Pavement segments on a street (name, any case), optionally with PCI below a number."""
    name = " ".join(street.split())
    if not name:
        raise ProposalError(_("Give a street name."), field="street")
    if pci_below is not None and not 0 < pci_below <= 100:
        raise ProposalError(_("PCI is between 0 and 100."), field="pci_below")
    query = select(PavementSegment.id).where(func.lower(PavementSegment.street_name) == name.lower())
    if pci_below is not None:
        query = query.where(col(PavementSegment.pci) < pci_below)
    found = [AssetKey(LayerKind.pavement.value, saved_id(i))
             for i in session.exec(query.order_by(col(PavementSegment.id)))]
    if not found:
        if pci_below is None:
            raise ProposalError(_("No pavement segments on “{street}”; your selection is unchanged.").format(
                street=name), field="street")
        raise ProposalError(_("No pavement segments on “{street}” with PCI below {pci}; your selection is "
                              "unchanged.").format(street=name, pci=f"{pci_below:g}"), field="street")
    return found


def features(*, session: Session, keys: list[AssetKey]) -> dict[str, Any]:
    """The selected assets as a GeoJSON FeatureCollection (for the editor's map)."""
    collection: list[dict[str, Any]] = []
    for layer, table in ASSET_TABLES.items():
        ids = [k.id for k in keys if k.layer == layer]
        if not ids:
            continue
        for row in session.exec(select(table).where(col(table.id).in_(ids))):
            collection.append({"type": "Feature", "id": f"{layer}:{row.id}", "geometry": mapping(to_shape(row.geom)),
                               "properties": {"layer": layer, "id": row.id,
                                              "street": getattr(row, "street_name", None),
                                              "label": getattr(row, "street_name", None) or f"{layer} {row.id}"}})
    return {"type": "FeatureCollection", "features": collection}


def geometry_geojson(geometry: Any) -> dict[str, Any] | None:
    """A stored location (database value or shapely) as a GeoJSON geometry."""
    if geometry is None:
        return None
    value = geometry if isinstance(geometry, BaseGeometry) else to_shape(geometry)
    return dict(mapping(value))


def storable(geometry: BaseGeometry | None) -> Any:
    return None if geometry is None else from_shape(geometry, srid=4326)


@dataclass(frozen=True)
class DistrictShare:
    """The part of a proposal in one district, in basis points; ``district_id`` None is the part
    outside every district."""

    district_id: int | None
    name: str
    share_bps: int

    @property
    def percent(self) -> float:
        return self.share_bps / BPS


Weights = dict[str, dict[int | None, float]]  # asset family ("segments" | "points") → district → weight


def _family(table: Any) -> str:
    return "segments" if hasattr(table, "length_m") else "points"


def _in_bps(weights: dict[int | None, float]) -> dict[int | None, int]:
    """Weights as basis points adding up to exactly 100 % (largest remainders get the odd points)."""
    total = sum(w for w in weights.values() if w > 0)
    if total <= 0:
        return {}
    exact = {d: BPS * w / total for d, w in weights.items() if w > 0}
    whole = {d: int(v) for d, v in exact.items()}
    left = BPS - sum(whole.values())
    for d in sorted(exact, key=lambda d: (whole[d] - exact[d], d is None, d or 0))[:left]:
        whole[d] += 1
    return {d: v for d, v in whole.items() if v > 0}


def combine(weights: Weights, counts: dict[str, int]) -> dict[int | None, int]:
    """Segments weigh by length, points (lights, ramps) one each; a proposal with both weighs each
    family by its number of assets."""
    assets = sum(counts.values())
    mixed: dict[int | None, float] = {}
    for family, by_district in weights.items():
        total = sum(by_district.values())
        for district, weight in by_district.items():
            share = weight / total if total > 0 else 1 / len(by_district)
            mixed[district] = mixed.get(district, 0.0) + share * counts.get(family, 0) / assets
    return _in_bps(mixed)


def _drawn_shares(session: Session, geometry: BaseGeometry) -> dict[int | None, int]:
    """A drawn location's share in each district it crosses (by length, area, or the point's district)."""
    inside: dict[int | None, float] = {}
    query = select(District.id, District.geom).where(
        func.ST_Intersects(District.geom, func.ST_GeomFromText(geometry.wkt, 4326)))
    for district_id, geom in session.exec(query):
        if share := share_inside(geometry, to_shape(geom)):
            inside[district_id] = share
    if not inside:
        return {}
    inside[None] = max(0.0, 1.0 - sum(inside.values()))
    return _in_bps(inside)


def _district_names(session: Session, ids: set[int | None]) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {i: n for i, n in session.exec(select(District.id, District.name).where(col(District.id).in_(wanted)))}


def _named(shares: dict[int | None, int], names: dict[int | None, str]) -> tuple[DistrictShare, ...]:
    found = [DistrictShare(d, names.get(d, ""), bps) for d, bps in shares.items()]
    return tuple(sorted(found, key=lambda s: (s.district_id is None, -s.share_bps, s.name)))


def shares_of(*, session: Session, geometry: BaseGeometry | None, keys: list[AssetKey]) -> tuple[DistrictShare, ...]:
    """Each district's share of a selection: from its assets (segments by length, points one
    each); the drawn location counts only when no asset is selected, so a line drawn to take
    segments never moves the proposal. Largest share first; the part outside every district last."""
    weights: Weights = {}
    counts: dict[str, int] = {}
    for layer, table in ASSET_TABLES.items():
        ids = [k.id for k in keys if k.layer == layer]
        if not ids:
            continue
        family = _family(table)
        weight = func.sum(table.length_m) if family == "segments" else func.count()
        query = select(table.district_id, weight, func.count()).where(col(table.id).in_(ids)).group_by(
            table.district_id)
        for district_id, w, n in session.exec(query):
            by_district = weights.setdefault(family, {})
            by_district[district_id] = by_district.get(district_id, 0.0) + float(w or 0)
            counts[family] = counts.get(family, 0) + n
    shares = combine(weights, counts) if counts else _drawn_shares(session, geometry) if geometry is not None else {}
    if not any(d is not None for d in shares):  # in no district (or none are loaded): nothing to show
        return ()
    return _named(shares, _district_names(session, set(shares)))


def district_shares(*, session: Session, proposal_ids: list[int]) -> dict[int, tuple[DistrictShare, ...]]:
    """Each stored proposal's district shares (as ``shares_of``), computed from its linked assets as
    they are now, so a re-imported layer or redrawn districts are reflected; links to assets a
    re-import removed are left out. Proposals in no district are absent."""
    weights: dict[int, Weights] = {}
    counts: dict[int, dict[str, int]] = {}
    for start in range(0, len(proposal_ids), 500):
        chunk = proposal_ids[start:start + 500]
        for layer, table in ASSET_TABLES.items():
            family = _family(table)
            weight = func.sum(table.length_m) if family == "segments" else func.count()
            query = (select(ProposalAsset.proposal_id, table.district_id, weight, func.count())
                     .join(table, col(table.id) == col(ProposalAsset.asset_id))
                     .where(ProposalAsset.layer == layer, col(ProposalAsset.proposal_id).in_(chunk),
                            col(ProposalAsset.missing).is_(False))
                     .group_by(col(ProposalAsset.proposal_id), table.district_id))
            for proposal_id, district_id, w, n in session.exec(query):
                by_district = weights.setdefault(proposal_id, {}).setdefault(family, {})
                by_district[district_id] = by_district.get(district_id, 0.0) + float(w or 0)
                counted = counts.setdefault(proposal_id, {})
                counted[family] = counted.get(family, 0) + n
    found = {pid: combine(weights[pid], counts[pid]) for pid in counts}
    drawn = [pid for pid in proposal_ids if pid not in counts]
    for start in range(0, len(drawn), 500):
        located = select(Proposal.id, Proposal.geom).where(col(Proposal.id).in_(drawn[start:start + 500]),
                                                           col(Proposal.geom).is_not(None))
        for drawn_id, geom in session.exec(located):
            found[saved_id(drawn_id)] = _drawn_shares(session, to_shape(geom))
    names = _district_names(session, {d for shares in found.values() for d in shares})
    return {pid: _named(shares, names) for pid, shares in found.items() if any(d is not None for d in shares)}


def main_district(shares: tuple[DistrictShare, ...]) -> int | None:
    """The district holding the largest share (the lower id on a tie)."""
    inside = [s for s in shares if s.district_id is not None]
    return min(inside, key=lambda s: (-s.share_bps, s.district_id)).district_id if inside else None


def refresh_districts(*, session: Session) -> int:
    """After new boundaries: every proposal's district found again as a save would find it (``district_for``
    over its assets as they are now, or its drawn location when it has none). Not an edit: the version, the
    revisions and the snapshots of submitted proposals and ballot items stay. Returns how many changed."""
    proposals = session.exec(select(Proposal.id, Proposal.geom, Proposal.district_id)).all()
    live = district_shares(session=session, proposal_ids=[saved_id(p) for p, _, _ in proposals])
    linked = set(session.exec(select(ProposalAsset.proposal_id).where(col(ProposalAsset.missing).is_(False))
                              .distinct()))
    moved = []
    for proposal_id, geom, was in proposals:
        if proposal_id in live:
            found = main_district(live[proposal_id])
        elif proposal_id in linked or geom is None:  # its assets lie outside every district, or it has nothing
            found = None
        else:
            found = main_district(shares_of(session=session, geometry=to_shape(geom), keys=[]))
        if found != was:
            moved.append({"proposal": proposal_id, "district": found})
    if moved:
        table = Proposal.__table__  # type: ignore[attr-defined]
        session.connection().execute(update(table).where(table.c.id == bindparam("proposal"))
                                     .values(district_id=bindparam("district")), moved)
        for loaded in [o for o in session.identity_map.values() if isinstance(o, Proposal)]:
            session.expire(loaded, ["district_id"])  # read again when next used, not the old district
    return len(moved)


def district_for(*, session: Session, geometry: BaseGeometry | None, keys: list[AssetKey]) -> int | None:
    """The district holding most of the project: of its assets, or of its drawn location when it has none."""
    return main_district(shares_of(session=session, geometry=geometry, keys=keys))


@dataclass(frozen=True)
class ConditionSummary:
    """The condition along the project."""

    pavement_segments: int = 0
    pavement_length_m: float = 0.0
    weighted_pci: float | None = None
    share_poor_or_worse: float | None = None
    unrated_segments: int = 0
    sidewalk_length_m: float = 0.0
    sidewalk_gap_length_m: float = 0.0
    sidewalk_poor_length_m: float = 0.0
    ramps: int = 0
    ramps_poor_or_missing: int = 0
    lights: int = 0
    lights_out: int = 0
    lights_non_led: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.pavement_segments or self.sidewalk_length_m or self.ramps or self.lights)


def condition_summary(*, session: Session, keys: list[AssetKey], band_scheme: str | None = None) -> ConditionSummary:
    def ids(layer: str) -> list[int]:
        return [k.id for k in keys if k.layer == layer]

    pavement = ids("pavement")
    sidewalks = ids("sidewalk")
    ramps = ids("ramp")
    lights = ids("streetlight")
    return summarize(
        pavement=list(session.exec(select(PavementSegment.length_m, PavementSegment.pci)
                                   .where(col(PavementSegment.id).in_(pavement)))) if pavement else [],
        sidewalks=list(session.exec(select(SidewalkSegment.length_m, SidewalkSegment.is_gap, SidewalkSegment.condition)
                                    .where(col(SidewalkSegment.id).in_(sidewalks)))) if sidewalks else [],
        ramps=list(session.exec(select(CurbRamp.condition).where(col(CurbRamp.id).in_(ramps)))) if ramps else [],
        lights=list(session.exec(select(Streetlight.status, Streetlight.lamp_type)
                                 .where(col(Streetlight.id).in_(lights)))) if lights else [],
        band_scheme=band_scheme)


def summarize(*, pavement: Sequence[tuple[float, float | None]], sidewalks: Sequence[tuple[float, bool, str | None]],
              ramps: Sequence[str | None], lights: Sequence[tuple[str, str | None]],
              band_scheme: str | None = None) -> ConditionSummary:
    """The condition figures of a set of assets, from their rows: pavement (length, PCI), sidewalks
    (length, is a gap, condition), ramps (condition), lights (status, lamp type) — read from the layers
    or from a snapshot."""
    poor_below = _poor_below(scheme(band_scheme))
    values: dict[str, Any] = {}
    if pavement:
        rated = [(length, pci) for length, pci in pavement if pci is not None]
        rated_length = sum(length for length, _ in rated)
        values.update(pavement_segments=len(pavement), pavement_length_m=sum(r[0] for r in pavement),
                      unrated_segments=len(pavement) - len(rated))
        if rated_length > 0:
            values["weighted_pci"] = sum(length * pci for length, pci in rated) / rated_length
            values["share_poor_or_worse"] = sum(length for length, pci in rated if pci < poor_below) / rated_length
    if sidewalks:
        values.update(sidewalk_length_m=sum(r[0] for r in sidewalks),
                      sidewalk_gap_length_m=sum(r[0] for r in sidewalks if r[1]),
                      sidewalk_poor_length_m=sum(r[0] for r in sidewalks
                                                 if not r[1] and (r[2] or "").lower() == "poor"))
    if ramps:
        values.update(ramps=len(ramps),
                      ramps_poor_or_missing=sum(1 for c in ramps if (c or "").lower() in ("poor", "missing")))
    if lights:
        values.update(lights=len(lights), lights_out=sum(1 for s, _ in lights if s in ("out", "reported")),
                      lights_non_led=sum(1 for _, lamp in lights if (lamp or "").upper() != "LED"))
    return ConditionSummary(**values)


def _poor_below(bands: BandScheme) -> float:
    """PCI below this is "poor or worse": the floor of the band just better than "poor"."""
    keys = bands.keys()
    index = keys.index(POOR_BANDS_FROM) if POOR_BANDS_FROM in keys else len(keys) - 1
    return float(bands.bands[index - 1].min_pci) if index > 0 else 101.0
