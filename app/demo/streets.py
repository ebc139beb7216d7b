"""The demo city's street network: a gently warped grid, radial arterials, a ring road and a few
curving collectors, clipped to the city's outline and split at intersections into block-long
segments that know their cross streets. Coordinates are local metres (see ``city.py``).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree
from shapely.geometry import LineString, Point

from app.demo.city import CityPlan
from app.demo.names import RING, NamePicker
from app.geometry import cut_line

_END_TOLERANCE = 15.0  # metres: a crossing this close to a street's end is its end
_MIN_PIECE = 25.0  # crossings closer than this are merged (a diagonal passing near a corner)
_MAX_PIECE = 300.0  # longer pieces (the ring, radials in open country) are split mid-block
_ARTERIAL_EVERY, _COLLECTOR_EVERY = 13, 5  # grid lines


@dataclass
class Street:
    """A named run of road before it is split at intersections."""

    line: LineString
    name: str
    functional_class: str
    lanes: int
    width_m: float
    line_id: int  # parts of one grid line share it: they only touch end to end


@dataclass
class Segment:
    line: LineString
    name: str
    functional_class: str
    lanes: int
    width_m: float
    from_street: str | None
    to_street: str | None
    start_node: int | None
    end_node: int | None


@dataclass
class Network:
    segments: list[Segment]
    nodes: npt.NDArray[np.float64]  # (n, 2) intersection coordinates
    arms: dict[int, list[tuple[float, int]]] = field(default_factory=dict)  # node -> [(bearing, segment)]


def build_network(plan: CityPlan) -> Network:
    rng = random.Random(f"{plan.seed}:streets")  # noqa: S311 — reproducible demo data
    names = NamePicker(rng)
    streets = _grid(plan, rng, names) + _radials(plan, rng, names) + [_ring(plan, rng)] + _curves(plan, rng, names)
    return _split_at_intersections(plan, _clip(plan, streets))


def _cross_section(rng: random.Random, functional_class: str) -> tuple[int, float]:
    """Lanes and curb-to-curb width in metres."""
    if functional_class == "arterial":
        lanes = rng.choices((4, 5, 6), (0.6, 0.3, 0.1))[0]
        return lanes, round(min(20.0, max(14.0, lanes * 3.3 + rng.uniform(0.5, 2.0))), 1)
    if functional_class == "collector":
        lanes = rng.choices((2, 3), (0.8, 0.2))[0]
        return lanes, round(rng.uniform(10.0, 11.0) + (lanes - 2) * 1.5, 1)
    return 2, round(rng.uniform(7.5, 9.5), 1)


def _positions(rng: random.Random, extent: float, radius: float, core: tuple[float, float],
               outer: tuple[float, float]) -> list[float]:
    """Grid line positions outward from 0: short blocks downtown, longer ones further out."""
    out = [0.0]
    for sign in (1.0, -1.0):
        position = 0.0
        while abs(position) < extent:
            share = min(1.0, abs(position) / (0.6 * radius))
            low = core[0] + (outer[0] - core[0]) * share
            high = core[1] + (outer[1] - core[1]) * share
            position += sign * rng.uniform(low, high)
            out.append(position)
    return sorted(out)


def _grid(plan: CityPlan, rng: random.Random, names: NamePicker) -> list[Street]:
    extent = plan.radius * 1.3
    xs = np.array(_positions(rng, extent, plan.radius, (110, 160), (170, 245)))
    ys = np.array(_positions(rng, extent, plan.radius, (100, 140), (150, 215)))
    gx, gy = np.meshgrid(xs, ys)  # [row j, column i]
    nprng = np.random.default_rng([plan.seed, 1])
    wave = plan.radius * 0.018
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(4)]
    wx = wave * (np.sin(gy / (plan.radius * 0.45) + phases[0])
                 + 0.6 * np.sin((gx + gy) / (plan.radius * 0.3) + phases[1]))
    wy = wave * (np.sin(gx / (plan.radius * 0.5) + phases[2])
                 + 0.6 * np.sin((gx - gy) / (plan.radius * 0.35) + phases[3]))
    gx = gx + wx + nprng.uniform(-5, 5, gx.shape)
    gy = gy + wy + nprng.uniform(-5, 5, gy.shape)
    turn = math.radians(rng.uniform(-18, 18))
    x = gx * math.cos(turn) - gy * math.sin(turn)
    y = gx * math.sin(turn) + gy * math.cos(turn)
    remote = plan.remoteness(x, y)
    streets: list[Street] = []
    centre_row, centre_col = int(np.argmin(np.abs(ys))), int(np.argmin(np.abs(xs)))
    lines = [(x[j, :], y[j, :], remote[j, :], j - centre_row) for j in range(len(ys))]
    lines += [(x[:, i], y[:, i], remote[:, i], i - centre_col) for i in range(len(xs))]
    for line_id, (lx, ly, lremote, offset) in enumerate(lines):
        if offset % _ARTERIAL_EVERY == 6:
            functional_class = "arterial"
        elif offset % _COLLECTOR_EVERY == 2:
            functional_class = "collector"
        else:
            functional_class = "local"
        streets += _grid_line(rng, names, lx, ly, lremote, functional_class, line_id)
    return streets


def _grid_line(rng: random.Random, names: NamePicker, xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64],
               remote: npt.NDArray[np.float64], functional_class: str, line_id: int) -> list[Street]:
    """One grid line as named runs; local streets change name every few blocks and miss a few blocks."""
    streets: list[Street] = []
    edges = len(xs) - 1
    start = 0
    while start < edges:
        run = edges if functional_class != "local" else rng.randint(5, 12)
        end = min(edges, start + run)
        name = names.arterial() if functional_class == "arterial" else names.street(functional_class)
        lanes, width = _cross_section(rng, functional_class)
        part: list[int] = [start]
        for edge in range(start, end):
            missing = functional_class == "local" and rng.random() < 0.03 + 0.3 * float(remote[edge]) ** 2
            if missing:
                if len(part) > 1:
                    streets.append(Street(LineString(np.column_stack([xs[part], ys[part]])), name, functional_class,
                                          lanes, width, line_id))
                part = [edge + 1]
            else:
                part.append(edge + 1)
        if len(part) > 1:
            streets.append(Street(LineString(np.column_stack([xs[part], ys[part]])), name, functional_class,
                                  lanes, width, line_id))
        start = end
    return streets


def _radials(plan: CityPlan, rng: random.Random, names: NamePicker) -> list[Street]:
    count = min(8, 4 + round(math.sqrt(plan.scale)))
    base = rng.uniform(0, 2 * math.pi)
    streets = []
    for k in range(count):
        angle = base + k * 2 * math.pi / count + rng.uniform(-0.2, 0.2)
        bend, phase = rng.uniform(0.04, 0.09), rng.uniform(0, 2 * math.pi)
        r = np.arange(0.0, plan.radius * 1.4, 60.0)
        theta = angle + bend * np.sin(r / (plan.radius * 0.5) + phase)
        lanes, width = _cross_section(rng, "arterial")
        streets.append(Street(LineString(np.column_stack([r * np.cos(theta), r * np.sin(theta)])), names.arterial(),
                              "arterial", lanes, width, -1 - k))
    return streets


def _ring(plan: CityPlan, rng: random.Random) -> Street:
    theta = np.linspace(0.0, 2 * math.pi, 241)
    phase = rng.uniform(0, 2 * math.pi)
    r = 0.58 * plan.radius_at(theta) * (1 + 0.04 * np.sin(4 * theta + phase))
    coords = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    coords[-1] = coords[0]
    lanes, width = _cross_section(rng, "arterial")
    return Street(LineString(coords), RING, "arterial", max(lanes, 4), width, -100)


def _curves(plan: CityPlan, rng: random.Random, names: NamePicker) -> list[Street]:
    """Collectors winding through the outer neighbourhoods."""
    streets = []
    for k in range(max(2, round(3 * math.sqrt(plan.scale)))):
        centre, span = rng.uniform(0, 2 * math.pi), rng.uniform(0.5, 1.0)
        theta = np.linspace(centre - span / 2, centre + span / 2, 80)
        fraction = rng.uniform(0.72, 0.9) + 0.05 * np.sin(np.linspace(0, rng.uniform(1, 2) * math.pi, 80))
        r = fraction * plan.radius_at(theta)
        lanes, width = _cross_section(rng, "collector")
        streets.append(Street(LineString(np.column_stack([r * np.cos(theta), r * np.sin(theta)])),
                              names.street("collector"), "collector", lanes, width, -200 - k))
    return streets


def _clip(plan: CityPlan, streets: list[Street]) -> list[Street]:
    """Streets inside the outline, on a 1 cm grid so shared corners are exactly shared."""
    outline = plan.outline()
    lines = shapely.set_precision(np.array([s.line for s in streets], dtype=object), 0.01)
    clipped = shapely.intersection(lines, outline)
    parts, index = shapely.get_parts(clipped, return_index=True)
    out = []
    for part, i in zip(parts.tolist(), index.tolist(), strict=True):
        if part.geom_type == "LineString" and part.length >= 30.0:
            street = streets[i]
            out.append(Street(part, street.name, street.functional_class, street.lanes, street.width_m,
                              street.line_id))
    return out


def _split_at_intersections(plan: CityPlan, streets: list[Street]) -> Network:
    lines = np.array([s.line for s in streets], dtype=object)
    line_ids = np.array([s.line_id for s in streets])
    a, b = STRtree(lines).query(lines, predicate="intersects")
    keep = (a < b) & (line_ids[a] != line_ids[b])
    a, b = a[keep], b[keep]
    crossings = shapely.intersection(lines[a], lines[b])
    coords, which = shapely.get_coordinates(crossings, return_index=True)
    nodes, node_of = np.unique(np.round(coords, 2), axis=0, return_inverse=True)
    node_of = node_of.reshape(-1)
    points = shapely.points(coords)
    cuts: dict[int, list[tuple[float, int, str]]] = defaultdict(list)
    for this, other in ((a, b), (b, a)):
        distances = shapely.line_locate_point(lines[this[which]], points)
        for street, distance, node, cross in zip(this[which].tolist(), distances.tolist(), node_of.tolist(),
                                                 other[which].tolist(), strict=True):
            cuts[street].append((distance, node, streets[cross].name))
    segments: list[Segment] = []
    for i, street in enumerate(streets):
        segments += _pieces(street, sorted(cuts.get(i, [])))
    network = Network(segments, nodes)
    pieces = np.array([s.line for s in segments], dtype=object)
    lengths = shapely.length(pieces)
    reach = np.minimum(5.0, lengths / 2)  # the direction each street leaves the intersection in
    starts, ends = shapely.get_point(pieces, 0), shapely.get_point(pieces, -1)
    near_start = shapely.line_interpolate_point(pieces, reach)
    near_end = shapely.line_interpolate_point(pieces, lengths - reach)
    for index, segment in enumerate(segments):
        if segment.start_node is not None:
            bearing = _bearing(starts[index], near_start[index])
            network.arms.setdefault(segment.start_node, []).append((bearing, index))
        if segment.end_node is not None:
            network.arms.setdefault(segment.end_node, []).append((_bearing(ends[index], near_end[index]), index))
    return network


def _pieces(street: Street, cuts: list[tuple[float, int, str]]) -> list[Segment]:
    length = street.line.length
    start_name: str | None = None
    end_name: str | None = None
    start_node: int | None = None
    end_node: int | None = None
    kept: list[tuple[float, int, str]] = []
    for distance, node, name in cuts:
        if name == street.name:
            continue
        if distance < _END_TOLERANCE:
            start_name, start_node = start_name or name, node if start_node is None else start_node
        elif distance > length - _END_TOLERANCE:
            end_name, end_node = name, node
        elif not kept or distance - kept[-1][0] >= _MIN_PIECE:
            kept.append((distance, node, name))
    stops = [(0.0, start_node, start_name), *kept, (length, end_node, end_name)]
    if length - stops[-2][0] < _MIN_PIECE and len(stops) > 2:  # a crossing just short of the end
        stops.pop(-2)
    ends: list[tuple[float, int | None, str | None]] = []  # each piece's start, then the street's end
    for (d0, n0, s0), (d1, _, _) in zip(stops, stops[1:], strict=False):
        splits = max(1, math.ceil((d1 - d0) / _MAX_PIECE))  # long pieces split mid-block: no cross street
        ends += [(d0, n0, s0)] + [(d0 + k * (d1 - d0) / splits, None, None) for k in range(1, splits)]
    ends.append(stops[-1])
    lines = cut_line(street.line, [d for d, _, _ in ends])
    return [Segment(line, street.name, street.functional_class, street.lanes, street.width_m, s0, s1, n0, n1)
            for line, (_, n0, s0), (_, n1, s1) in zip(lines, ends, ends[1:], strict=False)]


def _bearing(origin: Point, toward: Point) -> float:
    return math.atan2(toward.y - origin.y, toward.x - origin.x)
