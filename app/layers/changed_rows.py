"""Bringing a layer's table to the rows of an import, writing only the rows that changed.

Next year's survey mostly repeats this year's: of 36,569 segments a few thousand have a new PCI. The
incoming rows — those whose key the layer has carry its row id (``store._keep_row_ids``), new ones
none — go first into a scratch table without indexes (COPY on PostGIS, one prepared INSERT on
SpatiaLite); then three set-based statements bring the layer to them: rows the import no longer has
are deleted, kept rows whose columns or geometry differ in any way are updated in place, new rows are
inserted in the file's order. Unchanged rows are not touched: no index churn or dead rows, and every
row keeps its id — proposals' links, and on a boundary re-import the districts' ids that proposals and
assets point at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlmodel import Session

from models.layers import FEATURE_TABLES, LayerKind

WriteMode = Literal["replace", "append"]
_STAGED = "staged_features"


@dataclass(frozen=True)
class Written:
    """What a write did to the layer's rows."""

    added: int
    changed: int
    removed: int
    unchanged: int

    @property
    def changes(self) -> int:
        return self.added + self.changed + self.removed

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "changed": self.changed, "removed": self.removed, "unchanged": self.unchanged}

    def __str__(self) -> str:
        return (f"{self.added:,} rows added, {self.changed:,} changed, {self.removed:,} removed, "
                f"{self.unchanged:,} unchanged")


def write_changes(session: Session, kind: LayerKind, rows: list[dict[str, Any]],
                  geometries: Sequence[BaseGeometry], mode: WriteMode) -> Written:
    """Make the layer hold ``rows`` (with ``geometries``, WGS84): in ``replace`` mode exactly them, in
    ``append`` mode them in place of the layer's rows with the same keys, and the rest as they were."""
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    columns = [c.name for c in table.columns if c.name not in ("id", "geom")]
    postgres = session.get_bind().dialect.name == "postgresql"
    _stage(session, kind, rows, geometries, columns, postgres)
    connection = session.connection()
    quote = session.get_bind().dialect.identifier_preparer.quote  # the model's own names, quoted all the same
    name, listed = quote(table.name), [quote(c) for c in columns]
    kept = f"EXISTS (SELECT 1 FROM {_STAGED} AS s WHERE s.id = {name}.id)"
    if mode == "replace":
        gone = connection.exec_driver_sql(f"DELETE FROM {name} WHERE NOT {kept}")
    else:  # the layer's other rows with an incoming key give way to the incoming ones
        gone = connection.exec_driver_sql(
            f"DELETE FROM {name} WHERE source_id IN (SELECT source_id FROM {_STAGED} WHERE source_id IS NOT NULL) "
            f"AND NOT {kept}")
    moved = "ST_AsEWKB(l.geom) IS DISTINCT FROM ST_AsEWKB(s.geom)" if postgres else "l.geom IS NOT s.geom"
    ours, theirs = ", ".join(f"l.{c}" for c in listed), ", ".join(f"s.{c}" for c in listed)
    distinct = "IS DISTINCT FROM" if postgres else "IS NOT"  # equal when both are NULL
    assign = ", ".join(f"{c} = s.{c}" for c in [*listed, "geom"])
    changed = connection.exec_driver_sql(
        f"UPDATE {name} AS l SET {assign} FROM {_STAGED} AS s "
        f"WHERE l.id = s.id AND (({ours}) {distinct} ({theirs}) OR {moved})")
    added = connection.exec_driver_sql(
        f"INSERT INTO {name} ({', '.join(listed)}, geom) "
        f"SELECT {', '.join(listed)}, geom FROM {_STAGED} WHERE id IS NULL ORDER BY ord")
    connection.exec_driver_sql(f"DROP TABLE {_STAGED}")
    kept_rows = sum(1 for row in rows if row.get("id") is not None)
    return Written(added=int(added.rowcount or 0), changed=int(changed.rowcount or 0),
                   removed=int(gone.rowcount or 0), unchanged=kept_rows - int(changed.rowcount or 0))


def _stage(session: Session, kind: LayerKind, rows: list[dict[str, Any]], geometries: Sequence[BaseGeometry],
           columns: list[str], postgres: bool) -> None:
    """The incoming rows in a scratch table shaped as the layer's, plus their order (``ord``)."""
    model = FEATURE_TABLES[kind]
    table = model.__table__  # type: ignore[attr-defined]
    defaults = {name: info.get_default(call_default_factory=True) for name, info in model.model_fields.items()}
    connection = session.connection()
    quote = session.get_bind().dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    shaped = np.asarray(geometries, dtype=object)
    if postgres:
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {_STAGED} ON COMMIT DROP AS "
                                   f"SELECT id, {names}, geom, 0::bigint AS ord FROM {quote(table.name)} LIMIT 0")
        wkb = shapely.to_wkb(shapely.set_srid(shaped, 4326), hex=True, include_srid=True)
        copy_into(session, _STAGED, ["id", *columns, "geom", "ord"],
                  ([row.get("id"), *(_copy_value(row.get(c, defaults.get(c))) for c in columns), wkb[i], i]
                   for i, row in enumerate(rows)))
        connection.exec_driver_sql(f"ANALYZE {_STAGED} (id)")  # its size, for the joins' plans (no autovacuum here)
        return
    dialect = session.get_bind().dialect
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {_STAGED} AS "
                               f"SELECT id, {names}, geom, 0 AS ord FROM main.{quote(table.name)} LIMIT 0")
    process = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    wkb = shapely.to_wkb(shaped)
    values = [(row.get("id"), *(p(v) if p else v
                                for p, v in zip(process, (row.get(c, defaults.get(c)) for c in columns), strict=True)),
               wkb[i], i) for i, row in enumerate(rows)]
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {_STAGED} (id, {names}, geom, ord) "
                               f"VALUES (?, {marks}, GeomFromWKB(?, 4326), ?)", values)
    connection.exec_driver_sql(f"CREATE INDEX temp.{_STAGED}_id ON {_STAGED} (id)")


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def copy_into(session: Session, name: str, columns: list[str], rows: Iterable[list[Any]]) -> None:
    """COPY ``rows`` into the table ``name`` on the session's own connection (inside its transaction)."""
    connection = session.connection().connection.driver_connection
    if connection is None:  # only after the pool invalidated it, never inside a live transaction
        raise RuntimeError("the session's database connection is closed")
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor, cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
