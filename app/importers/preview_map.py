"""The preview's small map: the incoming data drawn over the city's districts, as inline SVG.

No map service and no JavaScript: the page shows at a glance whether the data lies where the city
is (or 1,500 km away, or on the equator because its coordinates were read in the wrong system).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from sqlmodel import Session

from app.importers import place
from models.layers import LayerKind

WIDTH = 480
MAX_FEATURES = 2_000  # drawn; a larger file is sampled (the same sample on every preview)
_PAD = 12


@dataclass(frozen=True)
class PreviewMap:
    width: int
    height: int
    city: list[str]  # SVG path data, one per district (or the extent's box)
    lines: list[str]  # the data's lines and polygons as path data
    points: list[tuple[float, float]]  # the data's points
    city_label: str
    drawn: int
    total: int
    markers: list[tuple[float, float, str]]  # rings around what would be too small to see, with a label


def preview_map(*, session: Session, kind: LayerKind, geometries: Sequence[BaseGeometry],
                total: int | None = None) -> PreviewMap | None:
    """The map of ``geometries`` (a sample of ``total`` features: ``MAX_FEATURES`` at most)."""
    area = place.city_area(session=session, kind=kind)
    if not geometries:
        return None
    sample = list(geometries)
    if len(sample) > MAX_FEATURES:
        sample = random.Random(0).sample(sample, MAX_FEATURES)  # noqa: S311 - a drawing sample, not a secret
    city = area.outline if area else []
    shapes: list[BaseGeometry] = sample + city
    minx, miny, maxx, maxy = shapely.total_bounds(shapes)
    stretch = math.cos(math.radians((miny + maxy) / 2)) or 1.0
    span_x, span_y = max((maxx - minx) * stretch, 1e-6), max(maxy - miny, 1e-6)
    scale = (WIDTH - 2 * _PAD) / max(span_x, span_y * 1.0)
    height = min(int(span_y * scale) + 2 * _PAD, WIDTH)
    scale = min(scale, (height - 2 * _PAD) / span_y)

    def xy(x: float, y: float) -> tuple[float, float]:
        return round(_PAD + (x - minx) * stretch * scale, 1), round(height - _PAD - (y - miny) * scale, 1)

    tolerance = 1.0 / scale  # one pixel
    markers = []
    for shapes_of, label in ((city, "The city"), (sample, "This file")):
        if not shapes_of:
            continue
        left, bottom, right, top = shapely.total_bounds(shapes_of)
        if max((right - left) * stretch, top - bottom) * scale < 16:  # smaller than 16 px: ring it, name it
            x, y = xy((left + right) / 2, (bottom + top) / 2)
            markers.append((x, y, label))
    return PreviewMap(
        width=WIDTH, height=height,
        city=[_path(shapely.simplify(g, tolerance), xy) for g in city],
        lines=[_path(shapely.simplify(g, tolerance), xy) for g in sample if g.geom_type != "Point"],
        points=[xy(g.x, g.y) for g in sample if g.geom_type == "Point"],
        city_label=area.described_as if area else "",
        drawn=len(sample), total=total if total is not None else len(geometries), markers=markers,
    )


def _path(geometry: BaseGeometry, xy: Callable[[float, float], tuple[float, float]]) -> str:
    parts: list[str] = []
    for ring in _rings(geometry):
        coords = [xy(x, y) for x, y in ring]
        parts.append("M" + " L".join(f"{x} {y}" for x, y in coords))
    return " ".join(parts)


def _rings(geometry: BaseGeometry) -> list[list[tuple[float, float]]]:
    if geometry.is_empty:
        return []
    if geometry.geom_type in ("MultiLineString", "MultiPolygon", "GeometryCollection"):
        return [ring for part in geometry.geoms for ring in _rings(part)]
    if geometry.geom_type == "Polygon":
        return [list(geometry.exterior.coords)] + [list(r.coords) for r in geometry.interiors]
    if geometry.geom_type == "LineString":
        return [list(geometry.coords)]
    return []
