"""Curb ramps at the corners of intersections: most corners downtown have one, fewer at the edge
of town; condition worsens where people are poorer."""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Point

from app.demo.city import CityPlan, to_wgs84
from app.demo.streets import Network
from app.layers.store import FeatureRecord

_CONDITIONS = ("excellent", "good", "fair", "poor")


def ramp_records(plan: CityPlan, network: Network) -> list[FeatureRecord]:
    rng = np.random.default_rng([plan.seed, 5])
    segments = network.segments
    corners: list[tuple[Point, str, float, float]] = []  # (point, street name, remoteness, poverty)
    for node in sorted(network.arms):
        arms = sorted(network.arms[node])
        if len(arms) < 3:
            continue
        x, y = network.nodes[node]
        remote, poverty = float(plan.remoteness(x, y)), float(plan.poverty(x, y))
        for (bearing, a), (next_bearing, b) in zip(arms, arms[1:] + arms[:1], strict=True):
            gap = (next_bearing - bearing) % (2 * math.pi)
            if gap > math.radians(200) or gap < math.radians(20):
                continue  # the straight side of a T, or a sliver between two nearly parallel streets
            middle = bearing + gap / 2
            reach = (max(segments[a].width_m, segments[b].width_m) / 2 + 2.0) / max(math.sin(gap / 2), 0.5)
            names = dict.fromkeys((segments[a].name, segments[b].name))
            corners.append((Point(x + reach * math.cos(middle), y + reach * math.sin(middle)), " & ".join(names),
                            remote, poverty))
    present = rng.random(len(corners))
    score = rng.normal(0.0, 1.0, len(corners))
    kept = [(corner, float(score[n])) for n, corner in enumerate(corners) if present[n] < 0.78 - 0.55 * corner[2]]
    geometries = to_wgs84(plan, [corner[0] for corner, _ in kept])
    records = []
    for n, (((_, name, remote, poverty), level), point) in enumerate(zip(kept, geometries, strict=True)):
        level += 4.0 * (poverty - 0.15) + 0.6 * remote
        condition = _CONDITIONS[int(np.searchsorted((-1.0, 0.3, 1.2), level))]
        records.append(FeatureRecord(point, {"street_name": name, "condition": condition},
                                     {"RAMP_ID": f"CR-{n + 1:06d}", "DETECTABLE_WARNING": bool(level < 0.5)},
                                     source_id=f"CR-{n + 1:06d}"))
    return records
