"""Tiles on PostGIS: ``ST_AsMVTGeom``/``ST_AsMVT`` over the GIST index, in one statement.

Candidates are the features whose geometry meets the tile (grown by the buffer) in WGS84, so
the ``geom`` GIST index answers the search; they are projected to Web Mercator, simplified
for the zoom and clipped by ``ST_AsMVTGeom``. The search box is computed here (a Web Mercator
square is a longitude/latitude box) and bound as four numbers: asking PostGIS to transform the
tile's envelope instead made every tile 2–3× slower. Everything variable is a bound parameter;
the table and the columns come from the layer's spec.

The same statement reads the layer's revision and tile key, so the tile and the version it is
cached under come from one snapshot: no second query, and never a tile filed under another
version than the data it was drawn from.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, cast, func, select
from sqlalchemy.engine import Connection

from app.geometry import tile_bounds_lon_lat
from app.layers.specs import LayerSpec, spec_for
from app.settings import TileSettings
from app.tiles.grid import TileAddress, simplify_metres
from app.tiles.versions import LayerVersion
from models.layers import Layer

FEATURE_ID = "fid"  # ST_AsMVT's feature id column: not repeated as a property, so `id` is selected too


def encode(*, connection: Connection, spec: LayerSpec, address: TileAddress,
           tiles: TileSettings) -> tuple[LayerVersion, bytes]:
    """The tile's bytes and the layer's version they were drawn from."""
    statement = _statement(spec.id, tiles.extent, tiles.buffer, tiles.max_features)
    row = connection.execute(statement, _parameters(address, tiles)).one()
    return LayerVersion(int(row.revision or 0), row.tile_key), bytes(row.tile or b"")


def _parameters(address: TileAddress, tiles: TileSettings) -> dict[str, Any]:
    west, south, east, north = tile_bounds_lon_lat(address.z, address.x, address.y, tiles.buffer / tiles.extent)
    return {"z": address.z, "x": address.x, "y": address.y, "west": west, "south": south, "east": east,
            "north": north, "tolerance": simplify_metres(address.z)}


@cache
def _statement(layer_id: str, extent: int, buffer: int, max_features: int) -> Select[Any]:
    spec = spec_for(layer_id)
    table = spec.table
    search = func.ST_MakeEnvelope(bindparam("west"), bindparam("south"), bindparam("east"), bindparam("north"),
                                  4326)
    projected = func.ST_Transform(table.c.geom, 3857)
    if spec.geometry_type != "Point":
        projected = func.ST_Simplify(projected, bindparam("tolerance"), True)
    envelope = func.ST_TileEnvelope(bindparam("z"), bindparam("x"), bindparam("y"))
    rows = (
        select(cast(table.c.id, Integer).label(FEATURE_ID),
               *(p.expression(table) for p in spec.tile_properties),
               func.ST_AsMVTGeom(projected, envelope, extent, buffer, True).label("geom"))
        .where(table.c.geom.op("&&")(search), func.ST_Intersects(table.c.geom, search))
        .order_by(table.c.id)
        .limit(max_features)
        .subquery("tile_rows")
    )
    drawn = select(rows).where(rows.c.geom.is_not(None)).subquery("drawn")
    tile = select(func.ST_AsMVT(drawn.table_valued(), spec.id, extent, "geom", FEATURE_ID)).scalar_subquery()
    layer = Layer.__table__  # type: ignore[attr-defined]
    # Scalar subqueries: one row even for a layer never imported (NULL: revision 0, as NO_LAYER).
    return select(select(layer.c.revision).where(layer.c.kind == spec.id).scalar_subquery().label("revision"),
                  select(layer.c.tile_key).where(layer.c.kind == spec.id).scalar_subquery().label("tile_key"),
                  tile.label("tile"))
