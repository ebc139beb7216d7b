"""Census tracts (Voronoi cells, smaller where the city is denser, with populations and a
spatially smooth poverty rate) and council districts (contiguous groups of tracts)."""

from __future__ import annotations

import math
import random

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from app.demo.city import CityPlan, to_wgs84
from app.layers.store import FeatureRecord

COUNTY_FIPS = "13059"  # tracts are numbered as in a Georgia county


def _multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(geometry) if isinstance(p, Polygon)]
    return MultiPolygon(parts)


def tract_cells(plan: CityPlan) -> tuple[list[MultiPolygon], list[int], list[float]]:
    """Tract polygons (local metres, north-west first), their populations and poverty rates."""
    rng = random.Random(f"{plan.seed}:tracts")  # noqa: S311 — reproducible demo data
    count = max(12, round(27 * plan.scale))
    boundary = plan.boundary()
    minx, miny, maxx, maxy = boundary.bounds
    spacing = math.sqrt(boundary.area / count)
    seeds: list[tuple[float, float]] = []
    attempts = 0
    while len(seeds) < count and attempts < 200_000:
        attempts += 1
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        density = float(plan.density(x, y))
        if rng.random() > density / 1.25 or not boundary.contains(shapely.points(x, y)):
            continue
        reach = 0.55 * spacing / math.sqrt(density / 0.6) * (0.98 ** (attempts // 2000))
        if all((x - sx) ** 2 + (y - sy) ** 2 > reach ** 2 for sx, sy in seeds):
            seeds.append((x, y))
    seeds.sort(key=lambda p: (-round(p[1] / spacing), p[0]))
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=boundary, ordered=True)
    polygons = [_multipolygon(shapely.intersection(cell, boundary)) for cell in shapely.get_parts(cells)]
    centres = np.array([p.representative_point().coords[0] for p in polygons])
    weight = np.array([p.area for p in polygons]) * plan.density(centres[:, 0], centres[:, 1])
    weight = weight * np.array([rng.uniform(0.85, 1.15) for _ in polygons])
    populations = _shares(weight, plan.residents)
    poverty = np.clip(plan.poverty(centres[:, 0], centres[:, 1]) + [rng.gauss(0, 0.025) for _ in polygons], 0.05, 0.45)
    return polygons, populations, [round(float(p), 3) for p in poverty]


def _shares(weight: np.ndarray, total: int) -> list[int]:
    """Integers proportional to ``weight`` that add up to ``total`` exactly (largest remainder)."""
    exact = weight / weight.sum() * total
    whole = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - whole), kind="stable")[: total - int(whole.sum())]:
        whole[i] += 1
    return whole.tolist()


def district_groups(plan: CityPlan, polygons: list[MultiPolygon], populations: list[int]) -> list[list[int]]:
    """Tracts grouped into 6–10 districts by a population-weighted k-means on their centres."""
    count = 8 if plan.scale < 3 else 10
    centres = np.array([p.representative_point().coords[0] for p in polygons])
    weights = np.array(populations, dtype=float)
    radius = np.hypot(centres[:, 0], centres[:, 1])
    # start from one central district and a ring of the others around it
    means = [np.array([0.0, 0.0])] + [np.array([math.cos(a), math.sin(a)]) * np.median(radius) * 1.1
                                     for a in np.linspace(-math.pi, math.pi, count - 1, endpoint=False)]
    centre_array = np.array(means)
    stretch = np.ones(count)  # > 1 pulls tracts in: grows a district short of its share of residents
    target = weights.sum() / count
    assignment = np.zeros(len(polygons), dtype=int)
    for _ in range(60):
        distances = np.hypot(centres[:, None, 0] - centre_array[None, :, 0],
                             centres[:, None, 1] - centre_array[None, :, 1])
        assignment = np.argmin(distances / stretch[None, :], axis=1)
        for k in range(count):
            members = assignment == k
            if members.any():
                centre_array[k] = np.average(centres[members], axis=0, weights=weights[members])
            stretch[k] *= (target / max(weights[members].sum(), 1.0)) ** 0.15
    groups = [np.flatnonzero(assignment == k).tolist() for k in range(count)]
    groups = [g for g in groups if g]
    middles = [np.mean(centres[g], axis=0) for g in groups]
    central = int(np.argmin([np.hypot(*m) for m in middles]))  # District 1 is downtown; the rest clockwise
    order = [central] + sorted((k for k in range(len(groups)) if k != central),
                               key=lambda k: math.atan2(middles[k][0], middles[k][1]) % (2 * math.pi))
    return [groups[k] for k in order]


def boundary_records(plan: CityPlan) -> tuple[list[FeatureRecord], list[FeatureRecord]]:
    """(districts, tracts) ready to store."""
    polygons, populations, poverty = tract_cells(plan)
    groups = district_groups(plan, polygons, populations)
    district_shapes = [_multipolygon(shapely.union_all([polygons[i] for i in group])) for group in groups]
    tract_geometries = to_wgs84(plan, polygons)
    district_geometries = to_wgs84(plan, district_shapes)
    tracts = []
    for i, geometry in enumerate(tract_geometries):
        code = f"{(i + 1) * 100:06d}"
        tracts.append(FeatureRecord(
            geometry, {"geoid": COUNTY_FIPS + code, "name": f"Census Tract {i + 1}", "population": populations[i],
                       "poverty_rate": poverty[i]},
            {"GEOID": COUNTY_FIPS + code, "TRACTCE": code, "NAMELSAD": f"Census Tract {i + 1}"},
            source_id=COUNTY_FIPS + code))
    districts = []
    for k, (group, geometry) in enumerate(zip(groups, district_geometries, strict=True)):
        population = sum(populations[i] for i in group)
        districts.append(FeatureRecord(
            geometry, {"name": f"District {k + 1}", "name_es": f"Distrito {k + 1}", "code": f"D{k + 1}",
                       "population": population},
            {"DISTRICT": k + 1, "TRACTS": [COUNTY_FIPS + f"{(i + 1) * 100:06d}" for i in group]},
            source_id=f"D{k + 1}"))
    return districts, tracts
