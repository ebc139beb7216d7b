"""Geometry in, geometry out: validation, repair, reprojection, geodesic quantities.

The only module that does geometry math (shapely 2 + pyproj). Everything stored is WGS84
(EPSG:4326, lon/lat order); lengths and areas are geodesic on the WGS84 ellipsoid.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

WGS84 = CRS.from_epsg(4326)
WEB_MERCATOR = CRS.from_epsg(3857)
GEOD = Geod(ellps="WGS84")
METRES_PER_FOOT = 0.3048
METRES_PER_US_SURVEY_FOOT = 1200 / 3937
SQUARE_METRES_PER_SQUARE_YARD = 0.83612736
METRES_PER_MILE = 1609.344


class GeometryError(ValueError):
    """A geometry that cannot be stored; the message says why."""


def parse_crs(value: str | int | CRS) -> CRS:
    try:
        return CRS.from_user_input(value)
    except CRSError as error:
        raise GeometryError(f"Unknown coordinate reference system {value!r}: {error}") from error


@lru_cache(maxsize=64)
def _transformer(source_wkt: str, target_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(source_wkt), CRS.from_wkt(target_wkt), always_xy=True)


def transformer(source: CRS, target: CRS = WGS84) -> Transformer:
    return _transformer(source.to_wkt(), target.to_wkt())


def reproject(geometry: BaseGeometry, source: CRS, target: CRS = WGS84) -> BaseGeometry:
    if source == target:
        return geometry
    return shapely.transform(geometry, transformer(source, target).transform, interleaved=False)


def linear_unit_metres(crs: CRS) -> float | None:
    """Metres per unit of a projected CRS's axes (US survey feet, feet, metres), None if geographic."""
    if crs.is_geographic:
        return None
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else None
    return float(factor) if factor else None


def to_storable(geometry: BaseGeometry | None, expected: str) -> tuple[BaseGeometry, str | None]:
    """The geometry as its layer stores it (``MULTILINESTRING``, ``MULTIPOLYGON`` or ``POINT``),
    2-D, valid; plus a note when it was repaired. Raises GeometryError when it cannot be stored."""
    if geometry is None or geometry.is_empty:
        raise GeometryError("empty geometry")
    geometry = shapely.force_2d(geometry)  # drops Z and M (measured) coordinates
    note = None
    kind = geometry.geom_type
    if expected == "POINT":
        if kind == "MultiPoint" and len(geometry.geoms) == 1:
            geometry = geometry.geoms[0]
        elif kind != "Point":
            raise GeometryError(f"expected a point, got a {kind}")
    elif expected == "MULTILINESTRING":
        if kind == "LineString":
            geometry = MultiLineString([geometry])
        elif kind != "MultiLineString":
            raise GeometryError(f"expected a line, got a {kind}")
        parts = [part for part in geometry.geoms if part.length > 0]
        if not parts:
            raise GeometryError("a line of zero length")
        if len(parts) != len(geometry.geoms):
            geometry, note = MultiLineString(parts), "dropped zero-length parts"
    elif expected == "MULTIPOLYGON":
        if kind == "Polygon":
            geometry = MultiPolygon([geometry])
        elif kind != "MultiPolygon":
            raise GeometryError(f"expected a polygon, got a {kind}")
        if not geometry.is_valid:
            reason = explain_validity(geometry)
            repaired = _polygonal_part(shapely.make_valid(geometry))
            if repaired is None or repaired.is_empty:
                raise GeometryError(f"invalid polygon that cannot be repaired ({reason})")
            change = abs(repaired.area - geometry.area) / geometry.area if geometry.area else 1.0
            if change > 0.01:
                raise GeometryError(f"invalid polygon ({reason}); repairing it would change its area by "
                                    f"{change:.0%}, so it was not repaired")
            geometry, note = repaired, f"repaired an invalid polygon ({reason})"
    else:
        raise GeometryError(f"unsupported storage type {expected}")
    _check_lon_lat(geometry)
    return geometry, note


def _polygonal_part(geometry: BaseGeometry) -> MultiPolygon | None:
    if geometry.geom_type == "Polygon":
        return MultiPolygon([geometry])
    if geometry.geom_type == "MultiPolygon":
        return geometry
    polygons = [g for g in getattr(geometry, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        return None
    merged = shapely.union_all(polygons)
    return _polygonal_part(merged) if merged.geom_type != "GeometryCollection" else None


def _check_lon_lat(geometry: BaseGeometry) -> None:
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise GeometryError(
            f"coordinates ({minx:.1f}, {miny:.1f}) … ({maxx:.1f}, {maxy:.1f}) are not longitude/latitude: "
            "the source's coordinate system is probably wrong or missing (give it with --crs)")


def geodesic_length_m(geometry: BaseGeometry) -> float:
    return float(GEOD.geometry_length(geometry))


def geodesic_area_m2(geometry: BaseGeometry) -> float:
    area, _ = GEOD.geometry_area_perimeter(geometry)
    return abs(float(area))


def representative_point(geometry: BaseGeometry) -> Point:
    """A point on the feature (a line's middle, a polygon's interior) for district/tract lookup."""
    if geometry.geom_type in ("LineString", "MultiLineString"):
        merged = shapely.line_merge(geometry) if geometry.geom_type == "MultiLineString" else geometry
        line = max(getattr(merged, "geoms", [merged]), key=lambda g: g.length)
        return line.interpolate(0.5, normalized=True)
    return geometry.representative_point()


def bounds(geometries: list[BaseGeometry]) -> tuple[float, float, float, float] | None:
    if not geometries:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(geometries)
    return float(minx), float(miny), float(maxx), float(maxy)


# Web Mercator tiles (XYZ scheme, y down from the north), for vector tiles encoded in Python.
MERCATOR_HALF_WORLD = 20037508.342789244  # metres from the origin to the edge of the square world


def tile_bounds_mercator(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    size = 2 * MERCATOR_HALF_WORLD / 2**z
    minx = -MERCATOR_HALF_WORLD + x * size
    maxy = MERCATOR_HALF_WORLD - y * size
    return minx, maxy - size, minx + size, maxy


def tile_pixel_metres(z: int, pixels: int = 256) -> float:
    """The ground size in Web Mercator metres of one screen pixel of a tile drawn ``pixels`` wide."""
    return 2 * MERCATOR_HALF_WORLD / 2**z / pixels


def tile_bounds_lon_lat(z: int, x: int, y: int, margin: float = 0.0) -> tuple[float, float, float, float]:
    """The tile's box in longitude/latitude, grown by ``margin`` (a fraction of the tile) on each side."""
    minx, miny, maxx, maxy = tile_bounds_mercator(z, x, y)
    grow = (maxx - minx) * margin
    lons, lats = transformer(WEB_MERCATOR, WGS84).transform(
        [max(minx - grow, -MERCATOR_HALF_WORLD), min(maxx + grow, MERCATOR_HALF_WORLD)],
        [max(miny - grow, -MERCATOR_HALF_WORLD), min(maxy + grow, MERCATOR_HALF_WORLD)])
    return float(lons[0]), float(lats[0]), float(lons[1]), float(lats[1])


def fit_to_tile(geometries: list[BaseGeometry], z: int, x: int, y: int, *, extent: int, buffer: int,
                tolerance: float) -> list[BaseGeometry | None]:
    """WGS84 geometries in the tile's integer-grid coordinates (0..extent, y down), clipped to the
    tile plus ``buffer`` and simplified by ``tolerance`` grid units; None where nothing is left."""
    if not geometries:
        return []
    minx, miny, maxx, maxy = tile_bounds_mercator(z, x, y)
    scale = extent / (maxx - minx)
    to_mercator = transformer(WGS84, WEB_MERCATOR)

    def to_grid(lon: object, lat: object) -> tuple[object, object]:
        mx, my = to_mercator.transform(lon, lat)
        return (mx - minx) * scale, (maxy - my) * scale

    grid = shapely.transform(geometries, to_grid, interleaved=False)
    clipped = shapely.clip_by_rect(grid, -buffer, -buffer, extent + buffer, extent + buffer)
    simple = shapely.simplify(clipped, tolerance, preserve_topology=True) if tolerance > 0 else clipped
    return [None if g is None or g.is_empty else g for g in simple]


def _local_metric_crs(geometry: BaseGeometry) -> CRS:
    centre = geometry.centroid
    return CRS.from_proj4(f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m")


def covered_by(geometry: BaseGeometry, areas: list[BaseGeometry], tolerance_m: float = 0.0) -> bool:
    """Whether the geometry lies within the union of the areas grown by ``tolerance_m`` metres
    (e.g. "inside the city": the districts, with a little slack at the boundary)."""
    if not areas:
        return False
    local = _local_metric_crs(geometry)
    area = reproject(shapely.union_all(areas), WGS84, local)
    return bool(area.buffer(tolerance_m).covers(reproject(geometry, WGS84, local)))


def buffer_m(geometry: BaseGeometry, distance_m: float) -> BaseGeometry:
    """The area within ``distance_m`` metres of a lon/lat geometry, as lon/lat (grown in a local
    metric projection, so a "15 m" corridor is 15 m wide at any latitude)."""
    local = _local_metric_crs(geometry)
    return reproject(reproject(geometry, WGS84, local).buffer(distance_m), local, WGS84)


def share_inside(geometry: BaseGeometry, area: BaseGeometry) -> float:
    """How much of the geometry lies inside the area, 0–1: by length for lines, by area for
    polygons, 1 or 0 for points."""
    if geometry.is_empty:
        return 0.0
    if geometry.geom_type in ("Point", "MultiPoint"):
        return 1.0 if area.covers(geometry) else 0.0
    inside = geometry.intersection(area)
    if geometry.geom_type in ("LineString", "MultiLineString"):
        total = geodesic_length_m(geometry)
        return geodesic_length_m(inside) / total if total else 0.0
    total = geodesic_area_m2(geometry)
    return geodesic_area_m2(inside) / total if total else 0.0


def cut_line(line: LineString, distances: Sequence[float]) -> list[LineString]:
    """The pieces of ``line`` between consecutive ``distances`` along it (in its own planar units):
    ``cut_line(line, [0, 40, line.length])`` gives two pieces. Like shapely's ``substring``, but many
    cuts of one line at once, fast enough for generating whole street networks."""
    coords = np.asarray(line.coords)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    stops = np.clip(np.asarray(distances, dtype=float), 0.0, along[-1])
    xs, ys = np.interp(stops, along, coords[:, 0]), np.interp(stops, along, coords[:, 1])
    tiny = 1e-9 * max(along[-1], 1.0)  # a vertex this close to a cut is the cut
    first = np.searchsorted(along, stops + tiny, side="right")  # vertices after each stop
    last = np.searchsorted(along, stops - tiny, side="left")  # vertices before each stop
    pieces = []
    for k in range(len(stops) - 1):
        inner = coords[first[k]:last[k + 1]]
        pieces.append(LineString(np.vstack([[xs[k], ys[k]], inner, [xs[k + 1], ys[k + 1]]])))
    return pieces


def to_local_metres(geometries: Sequence[BaseGeometry | None],
                    centre: tuple[float, float]) -> list[BaseGeometry | None]:
    """Lon/lat geometries in a metric projection centred on ``centre`` (lon, lat): distances and
    lengths in metres, good to a fraction of a percent across a city."""
    lon, lat = centre
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    move = transformer(WGS84, local).transform
    array = np.asarray(list(geometries), dtype=object)
    present = np.array([g is not None for g in geometries], dtype=bool)
    if present.any():
        array[present] = shapely.transform(array[present], lambda xy: np.column_stack(move(xy[:, 0], xy[:, 1])))
    return list(array)


def geodesic_distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two lon/lat points on the WGS84 ellipsoid."""
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """The shortest distance between two lon/lat geometries, in metres (0 where they touch)."""
    if a.intersects(b):
        return 0.0
    minx, miny, maxx, maxy = shapely.total_bounds([a, b])
    local = _local_metric_crs(Point((minx + maxx) / 2, (miny + maxy) / 2))
    return float(reproject(a, WGS84, local).distance(reproject(b, WGS84, local)))


def geodesic_lengths_m(geometries: Sequence[BaseGeometry]) -> np.ndarray:
    """``geodesic_length_m`` of many lines at once: every segment in one vectorized call."""
    parts, owner = shapely.get_parts(np.asarray(geometries, dtype=object), return_index=True)
    coords, part = shapely.get_coordinates(parts, return_index=True)
    same = part[1:] == part[:-1]  # consecutive vertices of one part make a segment
    _, _, distance = GEOD.inv(coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same])
    per_part = np.bincount(part[:-1][same], weights=distance, minlength=len(parts))
    return np.bincount(owner, weights=per_part, minlength=len(geometries))


def representative_points(geometries: Sequence[BaseGeometry]) -> list[Point]:
    """``representative_point`` of many geometries, vectorized where the geometry allows."""
    array = np.asarray(geometries, dtype=object)
    types = shapely.get_type_id(array)
    result = np.empty(len(array), dtype=object)
    points = types == 0
    result[points] = array[points]
    multi = types == 5  # MultiLineString: its parts joined, then the middle of the longest
    merged = shapely.line_merge(array[multi]) if multi.any() else np.empty(0, dtype=object)
    simple = shapely.get_type_id(merged) == 1
    lines = np.flatnonzero(multi)[simple]
    result[lines] = shapely.line_interpolate_point(merged[simple], 0.5, normalized=True)
    single = types == 1
    result[single] = shapely.line_interpolate_point(array[single], 0.5, normalized=True)
    for index in np.flatnonzero(~(points | single) & ~np.isin(np.arange(len(array)), lines)):
        result[index] = representative_point(array[index])
    return list(result)


def bounds_centre(geometries: Sequence[BaseGeometry]) -> tuple[float, float]:
    """The centre (lon, lat) of the box around the geometries (a centroid of merged envelopes can be
    empty for lines that line up)."""
    minx, miny, maxx, maxy = shapely.total_bounds(list(geometries))
    return (minx + maxx) / 2, (miny + maxy) / 2
