"""Tiles on PostGIS: ``ST_AsMVTGeom``/``ST_AsMVT`` over the GIST index, in one statement.

Candidates are the features whose geometry meets the tile (grown by the buffer) in WGS84, so
the ``geom`` GIST index answers the search; they are projected to Web Mercator, simplified
for the zoom and clipped by ``ST_AsMVTGeom``. Everything variable is a bound parameter; the
table and the columns come from the layer's spec.
"""

from __future__ import annotations

from sqlalchemy import Integer, cast, func, select
from sqlmodel import Session

from app.layers.specs import LayerSpec
from app.settings import TileSettings
from app.tiles.grid import TileAddress, simplify_metres

_WORLD = 20037508.342789244
FEATURE_ID = "fid"  # ST_AsMVT's feature id column: not repeated as a property, so `id` is selected too


def encode(*, session: Session, spec: LayerSpec, address: TileAddress, tiles: TileSettings) -> bytes:
    table = spec.table
    z, x, y = address.z, address.x, address.y
    world = func.ST_MakeEnvelope(-_WORLD, -_WORLD, _WORLD, _WORLD, 3857)
    envelope = func.ST_TileEnvelope(z, x, y)
    search = func.ST_Transform(func.ST_TileEnvelope(z, x, y, world, tiles.buffer / tiles.extent), 4326)
    projected = func.ST_Transform(table.c.geom, 3857)
    if spec.geometry_type != "Point":
        projected = func.ST_Simplify(projected, simplify_metres(z), True)
    rows = (
        select(cast(table.c.id, Integer).label(FEATURE_ID),
               *(p.expression(table) for p in spec.tile_properties),
               func.ST_AsMVTGeom(projected, envelope, tiles.extent, tiles.buffer, True).label("geom"))
        .where(table.c.geom.op("&&")(search), func.ST_Intersects(table.c.geom, search))
        .order_by(table.c.id)
        .limit(tiles.max_features)
        .subquery("tile_rows")
    )
    drawn = select(rows).where(rows.c.geom.is_not(None)).subquery("drawn")
    query = select(func.ST_AsMVT(drawn.table_valued(), spec.id, tiles.extent, "geom", FEATURE_ID))
    return bytes(session.execute(query).scalar_one() or b"")
