"""Sidewalks on both sides of most streets, set back from the curb, with missing stretches
(gaps: more common at the edge of town and in poorer neighbourhoods), condition and trip hazards."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString

from app.demo.city import CityPlan, to_wgs84
from app.demo.streets import Network
from app.geometry import cut_line
from app.layers.store import FeatureRecord

_CONDITIONS = ("excellent", "good", "fair", "poor")
_HAZARDS_PER_100M = {"excellent": 0.1, "good": 0.4, "fair": 1.2, "poor": 3.0}


def _compass(line: LineString, left: bool) -> str:
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    nx, ny = (-(y1 - y0), x1 - x0) if left else (y1 - y0, -(x1 - x0))
    if abs(nx) > abs(ny):
        return "east" if nx > 0 else "west"
    return "north" if ny > 0 else "south"


def sidewalk_records(plan: CityPlan, network: Network) -> list[FeatureRecord]:
    rng = np.random.default_rng([plan.seed, 4])
    segments = network.segments
    count = len(segments)
    mid = np.array([s.line.interpolate(0.5, normalized=True).coords[0] for s in segments])
    remote, poverty = plan.remoteness(mid[:, 0], mid[:, 1]), plan.poverty(mid[:, 0], mid[:, 1])
    local = np.array([s.functional_class == "local" for s in segments])
    has_sidewalks = rng.random(count) < np.where(local, 0.97 - 0.6 * remote ** 2, 0.97)
    widths = np.array([s.width_m for s in segments])
    chosen = np.flatnonzero(has_sidewalks)
    trimmed = []
    for i in chosen.tolist():
        line = segments[i].line
        trim = min(widths[i] / 2 + 3.0, 0.2 * line.length)
        trimmed += cut_line(line, [trim, line.length - trim])
    lines = np.empty(len(trimmed), dtype=object)
    lines[:] = trimmed
    setback = widths[chosen] / 2 + rng.uniform(1.2, 2.6, len(chosen))
    sides = {True: shapely.offset_curve(lines, setback), False: shapely.offset_curve(lines, -setback)}
    gap_chance = np.clip(0.03 + 0.3 * remote[chosen] ** 2 + 0.5 * (poverty[chosen] - 0.07), 0.02, 0.6)
    pieces: list[tuple[LineString, int, bool, bool]] = []  # (line, segment, left side, is gap)
    for left in (True, False):
        outcome = rng.random(len(chosen))
        cut = rng.uniform(0.25, 0.75, len(chosen))
        for k, i in enumerate(chosen.tolist()):
            line = sides[left][k]
            if line.geom_type != "LineString" or line.is_empty or line.length < 5:
                continue
            if outcome[k] >= gap_chance[k]:
                pieces.append((line, i, left, False))
            elif outcome[k] < gap_chance[k] / 2:
                pieces.append((line, i, left, True))
            else:
                first, second = cut_line(line, [0.0, cut[k] * line.length, line.length])
                gap_first = bool(outcome[k] < 0.75 * gap_chance[k])
                pieces += [(first, i, left, gap_first), (second, i, left, not gap_first)]
    score = rng.normal(0.0, 1.0, len(pieces))
    sidewalk_widths = rng.uniform(1.2, 1.8, len(pieces))
    hazard_draws = rng.random(len(pieces))
    geometries = to_wgs84(plan, [p[0] for p in pieces])
    records = []
    for n, ((line, i, left, is_gap), geometry) in enumerate(zip(pieces, geometries, strict=True)):
        fields: dict[str, object] = {"street_name": segments[i].name, "side": _compass(segments[i].line, left),
                                     "is_gap": is_gap, "width_m": None, "condition": None, "trip_hazards": 0}
        if not is_gap:
            level = score[n] + 4.0 * (poverty[i] - 0.15) + 0.8 * remote[i]
            condition = _CONDITIONS[int(np.searchsorted((-0.9, 0.4, 1.3), level))]
            mean = _HAZARDS_PER_100M[condition] * line.length / 100
            fields.update(width_m=round(float(sidewalk_widths[n]), 1), condition=condition,
                          trip_hazards=_poisson(mean, float(hazard_draws[n])))
        records.append(FeatureRecord(MultiLineString([geometry]), fields,
                                     {"SW_ID": f"SW-{n + 1:06d}", "MATERIAL": "Concrete" if not is_gap else None},
                                     source_id=f"SW-{n + 1:06d}"))
    return records


def _poisson(mean: float, draw: float) -> int:
    """The Poisson count at quantile ``draw``: one uniform draw per piece keeps the stream fixed."""
    k, probability = 0, math.exp(-mean)
    cumulative = probability
    while draw > cumulative and k < 50:
        k += 1
        probability *= mean / k
        cumulative += probability
    return k
