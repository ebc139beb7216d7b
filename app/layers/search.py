"""Finding features in a lon/lat box through each database's spatial index.

PostGIS answers ``geom && box`` from the GIST index. SpatiaLite only uses its R*Tree through
the ``SpatialIndex`` virtual table, so its candidates are
``rowid IN (SELECT rowid FROM SpatialIndex WHERE f_table_name = … AND search_frame = …)``.
Both then keep only the features that really intersect the box.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, func, select, table
from sqlalchemy.sql.elements import ColumnElement

Box = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

_SPATIAL_INDEX = table("SpatialIndex", column("rowid"), column("f_table_name"), column("f_geometry_column"),
                       column("search_frame"))


def intersects_box(*, dialect: str, features: Any, box: Box) -> list[ColumnElement[bool]]:
    """WHERE clauses for the rows of ``features`` (a feature table) whose geometry meets ``box``."""
    if dialect == "sqlite":
        frame = func.BuildMbr(*box, 4326)
        candidates = select(_SPATIAL_INDEX.c.rowid).where(
            _SPATIAL_INDEX.c.f_table_name == features.name,
            _SPATIAL_INDEX.c.f_geometry_column == "geom",
            _SPATIAL_INDEX.c.search_frame == frame)
        return [features.c.id.in_(candidates), func.Intersects(features.c.geom, frame) == 1]
    envelope = func.ST_MakeEnvelope(*box, 4326)
    return [features.c.geom.op("&&")(envelope), func.ST_Intersects(features.c.geom, envelope)]
