"""The demo city's plan: where it is, how big, its outline, and where people are poorer.

Everything is generated in metres on a local azimuthal-equidistant projection centred on the
city and reprojected to WGS84 at the end (through ``app.geometry``). The city sits near
Athens, Georgia, so basemaps look right; it is fictional.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from pyproj import CRS
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from app.geometry import parse_crs, reproject

CENTRE_LON, CENTRE_LAT = -83.38, 33.95
RESIDENTS_PER_SCALE = 100_000
AS_OF = date(2026, 10, 1)  # the demo's "today": surveys and ages count back from here, so reruns are identical
_RADIUS_AT_SCALE_1 = 4_100.0  # metres: about 4,000 street segments
_BOUNDARY_MARGIN = 80.0  # districts and tracts reach past the streets, so sidewalks and lights fall inside


@dataclass(frozen=True)
class Hotspot:
    x: float
    y: float
    radius: float
    strength: float


@dataclass(frozen=True)
class CityPlan:
    seed: int
    scale: float
    radius: float  # metres, the outline's mean radius
    harmonics: tuple[tuple[int, float, float], ...]  # (order, amplitude, phase) of the outline
    hotspots: tuple[Hotspot, ...]  # poorer neighbourhoods
    crs: CRS

    @property
    def residents(self) -> int:
        return round(RESIDENTS_PER_SCALE * self.scale)

    def outline(self, margin: float = 0.0) -> Polygon:
        """The streets' extent (``margin`` 0) or the boundaries' (a little wider)."""
        angles = np.linspace(0.0, 2 * math.pi, 360, endpoint=False)
        radii = self.radius_at(angles) + margin
        return Polygon(np.column_stack([radii * np.cos(angles), radii * np.sin(angles)]))

    def boundary(self) -> Polygon:
        return self.outline(_BOUNDARY_MARGIN)

    def radius_at(self, angles: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        wobble = np.zeros_like(angles, dtype=float)
        for order, amplitude, phase in self.harmonics:
            wobble += amplitude * np.sin(order * angles + phase)
        return self.radius * (1.0 + wobble)

    def remoteness(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """0 downtown, about 1 at the city limit."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        return np.clip(np.hypot(x, y) / self.radius_at(np.arctan2(y, x)), 0.0, 1.2)

    def poverty(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """A smooth poverty-rate surface (0.05–0.45): a few poorer neighbourhoods on a low base."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        rate = np.full(np.broadcast(x, y).shape, 0.085)
        for spot in self.hotspots:
            rate = rate + spot.strength * np.exp(-((x - spot.x) ** 2 + (y - spot.y) ** 2) / (2 * spot.radius ** 2))
        return np.clip(rate, 0.05, 0.45)

    def density(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Relative residential density: highest near downtown."""
        return 0.25 + np.exp(-self.remoteness(x, y) / 0.35)


def make_plan(seed: int, scale: float) -> CityPlan:
    if not 0 < scale <= 50:
        raise ValueError("scale must be greater than 0 and at most 50")
    if seed < 0:
        raise ValueError("seed must be 0 or more")
    rng = random.Random(f"{seed}:plan")  # noqa: S311 — reproducible demo data
    radius = _RADIUS_AT_SCALE_1 * math.sqrt(scale)
    harmonics = ((2, rng.uniform(0.06, 0.10), rng.uniform(0, 2 * math.pi)),
                 (3, rng.uniform(0.03, 0.06), rng.uniform(0, 2 * math.pi)),
                 (5, rng.uniform(0.01, 0.03), rng.uniform(0, 2 * math.pi)))
    hotspots = []
    count = max(3, round(4 * math.sqrt(scale)))  # a bigger city has more, smaller poor neighbourhoods
    for _ in range(count):
        angle, distance = rng.uniform(0, 2 * math.pi), radius * rng.uniform(0.15, 0.75)
        hotspots.append(Hotspot(distance * math.cos(angle), distance * math.sin(angle),
                                radius * rng.uniform(0.12, 0.25) * math.sqrt(4 / count), rng.uniform(0.18, 0.34)))
    crs = parse_crs(f"+proj=aeqd +lat_0={CENTRE_LAT} +lon_0={CENTRE_LON} +datum=WGS84 +units=m +no_defs")
    return CityPlan(seed=seed, scale=scale, radius=radius, harmonics=harmonics, hotspots=tuple(hotspots), crs=crs)


def to_wgs84(plan: CityPlan, geometries: Sequence[BaseGeometry]) -> list[BaseGeometry]:
    """Local metres to longitude/latitude, all at once (shapely.transform takes arrays)."""
    array = np.empty(len(geometries), dtype=object)
    array[:] = list(geometries)
    return list(reproject(array, plan.crs))
