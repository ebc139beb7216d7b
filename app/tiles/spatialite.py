"""Tiles on SpatiaLite: candidates through the spatial index, encoded in Python.

Candidates come through SpatiaLite's ``SpatialIndex`` virtual table (``app.layers.search``),
checked exactly with ``Intersects``. Geometries are fitted to the tile's grid by
``app.geometry.fit_to_tile`` (projection, clipping to the buffer, simplification for the zoom)
and encoded with mapbox-vector-tile.
"""

from __future__ import annotations

from typing import Any

import mapbox_vector_tile
import shapely
from sqlalchemy import func, select
from sqlmodel import Session

from app.geometry import fit_to_tile, tile_bounds_lon_lat
from app.layers.search import intersects_box
from app.layers.specs import LayerSpec
from app.settings import TileSettings
from app.tiles.grid import TileAddress, simplify_grid_units


def encode(*, session: Session, spec: LayerSpec, address: TileAddress, tiles: TileSettings) -> bytes:
    features = _features(session, spec, address, tiles)
    if not features:
        return b""
    return bytes(mapbox_vector_tile.encode(
        [{"name": spec.id, "features": features}],
        default_options={"extents": tiles.extent, "y_coord_down": True,
                         "on_invalid_geometry": mapbox_vector_tile.encoder.on_invalid_geometry_make_valid}))


def _features(session: Session, spec: LayerSpec, address: TileAddress, tiles: TileSettings) -> list[dict[str, Any]]:
    layer_table = spec.table
    box = tile_bounds_lon_lat(address.z, address.x, address.y, tiles.buffer / tiles.extent)
    properties = [p.expression(layer_table) for p in spec.tile_properties]
    query = (select(*properties, func.ST_AsBinary(layer_table.c.geom).label("wkb"))
             .where(*intersects_box(dialect="sqlite", features=layer_table, box=box))
             .order_by(layer_table.c.id)
             .limit(tiles.max_features))
    rows = session.execute(query).all()
    if not rows:
        return []
    tolerance = 0.0 if spec.geometry_type == "Point" else simplify_grid_units(tiles.extent)
    shapes = fit_to_tile(list(shapely.from_wkb([bytes(row.wkb) for row in rows])), address.z, address.x,
                         address.y, extent=tiles.extent, buffer=tiles.buffer, tolerance=tolerance)
    names = [p.name for p in spec.tile_properties]
    features = []
    for row, shape in zip(rows, shapes, strict=True):
        if shape is None or shape.geom_type == "GeometryCollection":  # nothing drawable left after clipping
            continue
        values = {name: row[i] for i, name in enumerate(names) if row[i] is not None}
        features.append({"geometry": shape, "properties": values, "id": values["id"]})
    return features
