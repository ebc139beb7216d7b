"""Streetlights along the streets, alternating sides: closer together on arterials, sparse on
outer local streets. Most belong to the utility (as in Georgia) and are LED; a few are out."""

from __future__ import annotations

import numpy as np
import shapely

from app.demo.city import CityPlan, to_wgs84
from app.demo.streets import Network
from app.layers.store import FeatureRecord

_SPACING = {"arterial": (38.0, 46.0), "collector": (48.0, 60.0), "local": (55.0, 75.0)}
_WATTS = {"LED": {"arterial": (110, 150), "collector": (70, 90), "local": (40, 50)},
          "HPS": {"arterial": (250, 400), "collector": (150, 250), "local": (100, 150)},
          "MH": {"arterial": (250, 400), "collector": (175, 250), "local": (175, 175)}}


def light_records(plan: CityPlan, network: Network) -> list[FeatureRecord]:
    rng = np.random.default_rng([plan.seed, 6])
    segments = network.segments
    mid = np.array([s.line.interpolate(0.5, normalized=True).coords[0] for s in segments])
    remote = plan.remoteness(mid[:, 0], mid[:, 1])
    busy = np.array([s.functional_class != "local" for s in segments])
    lit = busy | (rng.random(len(segments)) > 0.1 + 0.35 * remote)
    lines = np.empty(len(segments), dtype=object)
    lines[:] = [s.line for s in segments]
    offsets = np.array([s.width_m / 2 + 0.8 for s in segments])
    sides = (shapely.offset_curve(lines, offsets), shapely.offset_curve(lines, -offsets))
    first_side = rng.integers(0, 2, len(segments))
    spacing = np.array([rng.uniform(*_SPACING[s.functional_class]) for s in segments])
    which: list[int] = []
    side: list[int] = []
    fraction: list[float] = []
    for i, segment in enumerate(segments):
        if not lit[i]:
            continue
        count = max(1, int(segment.line.length // spacing[i]))
        for k in range(count):
            which.append(i)
            side.append(int((first_side[i] + k) % 2))
            fraction.append((k + 0.5) / count)
    index, chosen_side = np.array(which), np.array(side)
    curves = np.where(chosen_side == 0, sides[0][index], sides[1][index])
    points = shapely.line_interpolate_point(curves, np.array(fraction), normalized=True)
    total = len(index)
    poverty = plan.poverty(*shapely.get_coordinates(points).T)
    downtown = remote[index] < 0.25
    city_owned = rng.random(total) < np.where(downtown, 0.55, 0.06)
    lamp_draw, watt_draw, status_draw = rng.random(total), rng.integers(0, 2, total), rng.random(total)
    out_chance = 0.025 + 0.12 * (poverty - 0.05)
    geometries = to_wgs84(plan, list(points))
    records = []
    for n in range(total):
        segment = segments[int(index[n])]
        led_share = 0.83 if city_owned[n] else 0.68
        lamp = "LED" if lamp_draw[n] < led_share else ("HPS" if lamp_draw[n] < 0.93 else "MH")
        if city_owned[n]:
            fixture = "Decorative acorn" if downtown[n] else "Post top"
        else:
            fixture = "Shoebox" if segment.functional_class == "arterial" and lamp == "LED" else "Cobra head"
        status = "out" if status_draw[n] < out_chance[n] else ("reported" if status_draw[n] > 0.99 else "working")
        owner = "city" if city_owned[n] else "utility"
        pole_id = f"{'CITY' if city_owned[n] else 'UTIL'}-{n + 1:06d}"
        records.append(FeatureRecord(
            geometries[n],
            {"pole_id": pole_id, "street_name": segment.name, "fixture": fixture, "lamp_type": lamp,
             "wattage": _WATTS[lamp][segment.functional_class][int(watt_draw[n])], "owner": owner, "status": status},
            {"POLE_ID": pole_id, "MOUNT": "Wood pole" if owner == "utility" else "Steel pole"},
            source_id=pole_id))
    return records
