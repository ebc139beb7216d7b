"""Bringing a layer's table to the rows of an import, writing only the rows that changed.

Next year's survey mostly repeats this year's: of 36,569 segments a few thousand have a new PCI. The
incoming rows — those whose key the layer has carry its row id (``store._kept_row_ids``), new ones
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
from sqlalchemy import JSON
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


def write_changes(session: Session, kind: LayerKind, batches: Iterable[tuple[list[dict[str, Any]],
                                                                              Sequence[BaseGeometry]]],
                  mode: WriteMode) -> Written:
    """Make the layer hold the rows of ``batches`` (each a list of rows with their geometries, WGS84): in
    ``replace`` mode exactly them, in ``append`` mode them in place of the layer's rows with the same keys,
    and the rest as they were. The batches are staged one after the other, so only one is in memory."""
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    columns = [c.name for c in table.columns if c.name not in ("id", "geom")]
    postgres = session.get_bind().dialect.name == "postgresql"
    _create_stage(session, kind, columns, postgres)
    kept_rows = staged = 0
    for rows, geometries in batches:
        _stage(session, kind, rows, geometries, columns, postgres, first=staged)
        staged += len(rows)
        kept_rows += sum(1 for row in rows if row.get("id") is not None)
    _index_stage(session, postgres)
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
    return Written(added=int(added.rowcount or 0), changed=int(changed.rowcount or 0),
                   removed=int(gone.rowcount or 0), unchanged=kept_rows - int(changed.rowcount or 0))


def _create_stage(session: Session, kind: LayerKind, columns: list[str], postgres: bool) -> None:
    """The scratch table, shaped as the layer's, plus the incoming rows' order (``ord``)."""
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    quote = session.get_bind().dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if postgres:
        session.connection().exec_driver_sql(
            f"CREATE TEMPORARY TABLE {_STAGED} ON COMMIT DROP AS "
            f"SELECT id, {names}, geom, 0::bigint AS ord FROM {quote(table.name)} LIMIT 0")
    else:
        session.connection().exec_driver_sql(
            f"CREATE TEMPORARY TABLE {_STAGED} AS SELECT id, {names}, geom, 0 AS ord FROM main.{quote(table.name)} "
            "LIMIT 0")


def _index_stage(session: Session, postgres: bool) -> None:
    if postgres:  # its size, for the joins' plans (no autovacuum here)
        session.connection().exec_driver_sql(f"ANALYZE {_STAGED} (id)")
    else:
        session.connection().exec_driver_sql(f"CREATE INDEX temp.{_STAGED}_id ON {_STAGED} (id)")


def _stage(session: Session, kind: LayerKind, rows: list[dict[str, Any]], geometries: Sequence[BaseGeometry],
           columns: list[str], postgres: bool, *, first: int) -> None:
    """Rows into the scratch table, numbered in order from ``first``. Their values go column by column
    (a column's default filled in, the attributes as JSON text), then row by row to the database."""
    model = FEATURE_TABLES[kind]
    table = model.__table__  # type: ignore[attr-defined]
    defaults = {name: info.get_default(call_default_factory=True) for name, info in model.model_fields.items()}
    values = [[row.get(c, defaults.get(c)) for row in rows] for c in columns]
    shaped = np.asarray(geometries, dtype=object)
    order = range(first, first + len(rows))
    ids = [row.get("id") for row in rows]
    connection = session.connection()
    quote = session.get_bind().dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if postgres:
        values = [[_copy_value(v) for v in column] if _holds_json(table.c[name]) else column
                  for name, column in zip(columns, values, strict=True)]
        wkb = shapely.to_wkb(shapely.set_srid(shaped, 4326), hex=True, include_srid=True)
        copy_into(session, _STAGED, ["id", *columns, "geom", "ord"], zip(ids, *values, wkb, order, strict=True))
        return
    dialect = session.get_bind().dialect
    for index, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            values[index] = [process(v) for v in values[index]]
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {_STAGED} (id, {names}, geom, ord) "
                               f"VALUES (?, {marks}, GeomFromWKB(?, 4326), ?)",
                               list(zip(ids, *values, shapely.to_wkb(shaped), order, strict=True)))


def _holds_json(column: Any) -> bool:
    return isinstance(column.type, JSON)


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def copy_into(session: Session, name: str, columns: list[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` into the table ``name`` on the session's own connection (inside its transaction)."""
    connection = session.connection().connection.driver_connection
    if connection is None:  # only after the pool invalidated it, never inside a live transaction
        raise RuntimeError("the session's database connection is closed")
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor, cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
