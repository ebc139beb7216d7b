"""Address points along the streets: a building lot every so many metres on both sides of each
block, narrower lots and bigger buildings downtown, as many buildings as the city's households
need (vacant lots and shops in between). House numbers rise along each street at 1,000 a mile,
even on one side and odd on the other; ZIP codes are Athens's, by part of town.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import shapely

from app.demo.city import CityPlan, to_wgs84
from app.demo.streets import Network
from app.layers.store import FeatureRecord

PERSONS_PER_HOUSEHOLD = 2.5
NUMBERS_PER_METRE = 1000 / 1609.344  # 1,000 house numbers a mile, about 100 a block
_SETBACK = {"arterial": 16.0, "collector": 13.0, "local": 11.0}  # metres from the curb to the door
_CORNER = 14.0  # metres at each end of a block without a lot facing this street


def _zip_code(x: float, y: float, remote: float) -> str:
    if remote < 0.3:
        return "30601"
    bearing = math.degrees(math.atan2(x, y)) % 360  # clockwise from north
    return "30607" if bearing < 60 or bearing >= 300 else ("30605" if bearing < 200 else "30606")


def _street_axes(network: Network) -> dict[str, tuple[np.ndarray, float]]:
    """Each street name's main direction (unit vector) and where its numbering starts along it."""
    coords: dict[str, list[np.ndarray]] = defaultdict(list)
    for segment in network.segments:
        coords[segment.name].append(np.asarray(segment.line.coords))
    axes = {}
    for name, parts in coords.items():
        points = np.vstack(parts)
        centred = points - points.mean(axis=0)
        axis = np.linalg.svd(centred, full_matrices=False)[2][0]
        if axis[0] < 0 or (axis[0] == 0 and axis[1] < 0):  # the same way for every street: west to east
            axis = -axis
        axes[name] = (axis, float((points @ axis).min()))
    return axes


def address_records(plan: CityPlan, network: Network) -> list[FeatureRecord]:
    rng = np.random.default_rng([plan.seed, 8])
    segments = network.segments
    mid = np.array([s.line.interpolate(0.5, normalized=True).coords[0] for s in segments])
    density = plan.density(mid[:, 0], mid[:, 1])
    frontage = np.clip(40.0 - 20.0 * density, 16.0, 36.0) * rng.uniform(0.85, 1.15, len(segments))
    lines = np.empty(len(segments), dtype=object)
    lines[:] = [s.line for s in segments]
    offsets = np.array([s.width_m / 2 + _SETBACK[s.functional_class] for s in segments])
    sides = (shapely.offset_curve(lines, offsets), shapely.offset_curve(lines, -offsets))
    which: list[int] = []
    side: list[int] = []
    fraction: list[float] = []
    for i, segment in enumerate(segments):
        length = segment.line.length
        lots = int((length - 2 * _CORNER) // frontage[i])
        for k in range(lots):
            along = (_CORNER + (k + 0.5) * (length - 2 * _CORNER) / lots) / length
            which += [i, i]
            side += [0, 1]
            fraction += [along, along]
    index, chosen_side, along = np.array(which), np.array(side), np.array(fraction)
    curves = np.where(chosen_side == 0, sides[0][index], sides[1][index])
    doors = shapely.line_interpolate_point(curves, along, normalized=True)
    kerb = shapely.line_interpolate_point(lines[index], along, normalized=True)
    xy, kerb_xy = shapely.get_coordinates(doors), shapely.get_coordinates(kerb)
    # households per building: mostly houses, apartment buildings where the city is dense
    lot_density = plan.density(xy[:, 0], xy[:, 1])
    units = 1 + rng.poisson(np.clip(15.0 * (lot_density - 0.55), 0.0, None))
    households = plan.residents / PERSONS_PER_HOUSEHOLD  # the buildings kept hold about this many
    kept = np.flatnonzero(rng.random(len(units)) < min(1.0, households / units.sum()))
    axes = _street_axes(network)
    remote = plan.remoteness(xy[:, 0], xy[:, 1])
    used: set[tuple[str, int]] = set()
    chosen: list[tuple[int, str, int]] = []  # (lot, street, number)
    for lot in kept.tolist():
        name = segments[int(index[lot])].name
        axis, start = axes[name]
        across = xy[lot] - kerb_xy[lot]
        parity = 0 if axis[0] * across[1] - axis[1] * across[0] > 0 else 1  # even on the left side
        number = 100 + 2 * int(max(0.0, float(xy[lot] @ axis) - start) * NUMBERS_PER_METRE / 2) + parity
        while (name, number) in used:  # two lots on one street too close to tell apart: the next number
            number += 2
        used.add((name, number))
        chosen.append((lot, name, number))
    geometries = to_wgs84(plan, [shapely.points(xy[lot]) for lot, _, _ in chosen])
    records = []
    for n, ((lot, name, number), point) in enumerate(zip(chosen, geometries, strict=True)):
        address_id = f"ADDR-{n + 1:06d}"
        full = f"{number} {name}"
        zip_code = _zip_code(float(xy[lot, 0]), float(xy[lot, 1]), float(remote[lot]))
        records.append(FeatureRecord(
            point, {"full_address": full, "house_number": str(number), "street_name": name, "zip_code": zip_code},
            {"ADDRESS_ID": address_id, "ADD_NUMBER": number, "ST_NAME": name, "FULLADDR": full, "ZIP": zip_code,
             "UNITS": int(units[lot])},
            source_id=address_id))
    return records
