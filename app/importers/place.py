"""Is the data where the city is? An import whose features lie mostly outside the city is refused.

The city is its districts (with ``TOLERANCE_M`` of slack at the edge); with no districts loaded,
the extent of the layers already loaded (grown by ``EXTENT_MARGIN`` of its size). With neither,
there is nothing to compare with and any place is accepted. A city that really is moving to a new
area (its first real data over the demo city) says so with ``new_area``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlmodel import Session, col, select

from app.geometry import bounds_centre, buffer_m, geodesic_distance_m, representative_points
from app.importers.report import ImportFailed, ImportReport
from app.layers.store import FeatureRecord
from models.layers import District, Layer, LayerKind

TOLERANCE_M = 1_000.0
EXTENT_MARGIN = 0.25
MOSTLY = 0.5  # refuse when less than half of the features lie inside


@dataclass(frozen=True)
class CityArea:
    shape: BaseGeometry  # lon/lat, already grown by the slack
    outline: list[BaseGeometry]  # what to draw (the districts, or the extent's box)
    described_as: str  # "its districts" / "the layers already loaded"


def city_area(*, session: Session, kind: LayerKind) -> CityArea | None:
    """The area new data for ``kind`` must mostly fall in, or None when nothing is loaded to compare with."""
    if kind is not LayerKind.district:
        districts = [to_shape(g) for g in session.exec(select(District.geom))]
        if districts:
            union = shapely.union_all(districts)
            return CityArea(buffer_m(union, TOLERANCE_M), districts, "its districts")
    layers = [layer for layer in session.exec(select(Layer).where(col(Layer.feature_count) > 0))
              if None not in (layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat)]
    if kind is LayerKind.district:  # new boundaries are compared with what they will group
        layers = [layer for layer in layers if layer.kind != LayerKind.district.value] or layers
    if not layers:
        return None
    extent = box(min(x.min_lon for x in layers), min(x.min_lat for x in layers),  # type: ignore[type-var]
                 max(x.max_lon for x in layers), max(x.max_lat for x in layers))  # type: ignore[type-var]
    grown = buffer_m(extent, max(TOLERANCE_M, EXTENT_MARGIN * _size_m(extent)))
    return CityArea(grown, [extent], "the layers already loaded")


def _size_m(area: BaseGeometry) -> float:
    minx, miny, maxx, maxy = area.bounds
    return geodesic_distance_m((minx, miny), (maxx, maxy))


class PlaceTally:
    """Where an import's features lie, tallied a batch at a time (``add``) and judged at the end (``check``):
    how many have their representative point inside the city, and the box around them all."""

    def __init__(self, session: Session, kind: LayerKind) -> None:
        self.area = city_area(session=session, kind=kind)
        self.total = self.inside = 0
        self.bounds: tuple[float, float, float, float] | None = None

    def add(self, records: Sequence[FeatureRecord]) -> None:
        if self.area is None or not records:
            return
        geometries = [r.geometry for r in records]
        self.total += len(geometries)
        self.inside += _count_inside(geometries, self.area)
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geometries))
        if self.bounds is not None:
            minx, miny = min(minx, self.bounds[0]), min(miny, self.bounds[1])
            maxx, maxy = max(maxx, self.bounds[2]), max(maxy, self.bounds[3])
        self.bounds = (minx, miny, maxx, maxy)

    def check(self, *, report: ImportReport, new_area: bool = False) -> None:
        """Raise ImportFailed when the features lie mostly outside the city (unless ``new_area``)."""
        area, total = self.area, self.total
        if area is None or not total or self.bounds is None:
            return
        share = self.inside / total
        outside = round((1 - share) * total)
        if share >= MOSTLY:
            if share < 1:
                report.note(f"{outside:,} of {total:,} features lie outside the city ({area.described_as}).")
            return
        minx, miny, maxx, maxy = self.bounds
        data = ((minx + maxx) / 2, (miny + maxy) / 2)
        city = bounds_centre(area.outline)
        apart_km = geodesic_distance_m(data, city) / 1000
        message = (f"{outside:,} of {total:,} features lie outside the city: the data is around "
                   f"{_where(*data)}, about {apart_km:,.0f} km from the city ({area.described_as}, around "
                   f"{_where(*city)}). Check the coordinate system (read as {report.crs or 'unknown'}; give "
                   "the right one with --crs or on the form), the units, and that this is the right file. Nothing "
                   "was changed.")
        if new_area:
            report.note(f"{outside:,} of {total:,} features lie outside the current city area; imported "
                        "anyway, as a new area, at the importer's request.")
            return
        raise ImportFailed(message, report)


def _count_inside(geometries: Sequence[BaseGeometry], area: CityArea) -> int:
    """How many of ``geometries`` have their representative point inside ``area``."""
    points = representative_points(geometries)
    inside = shapely.contains_xy(area.shape, np.array([p.x for p in points]), np.array([p.y for p in points]))
    return int(np.count_nonzero(inside))


def _where(lon: float, lat: float) -> str:
    return f"{abs(lat):.3f}°{'N' if lat >= 0 else 'S'}, {abs(lon):.3f}°{'E' if lon >= 0 else 'W'}"
