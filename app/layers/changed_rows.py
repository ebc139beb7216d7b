"""The scratch table an import stages its rows in, and bringing a layer's table to them.

An import's checked rows go into a scratch table as they are checked, a batch at a time (COPY on
PostGIS, one prepared INSERT on SpatiaLite), so a large file is never held in memory whole: what the
import does to the layer (``app.importers.impact``) and the write itself are worked out from there.
The table is temporary, on the session's own connection; on a pinned session (``app.db.pinned``)
it lives until ``drop``, across the unit-of-work commits a job makes to record its progress, and the
database drops it with the connection if the process dies.

Next year's survey mostly repeats this year's: of 36,569 segments a few thousand have a new PCI.
Rows whose key the layer has keep its row id (``keep_row_ids``: a narrow table of row and id), new
ones get one; then three set-based statements bring the layer to them: rows the import no longer has
are deleted, kept rows whose columns or geometry differ in any way are updated in place, new rows are inserted in the
file's order. Unchanged rows are not touched: no index churn or dead rows, and every row keeps its id
— proposals' links, and on a boundary re-import the districts' ids that proposals and assets point at.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import JSON, BigInteger, Column, LargeBinary, MetaData, Table, text
from sqlalchemy.schema import CreateTable
from sqlmodel import Session

from models.layers import FEATURE_TABLES, LayerKind

WriteMode = Literal["replace", "append"]
STAGED = "staged_features"
KEPT = "kept_rows"  # (ord, id): the staged rows that keep a stored row's id


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


class StagedRows:
    """An import's rows in the scratch table ``staged_features``: the layer's columns, the geometry and ``ord``,
    the row's place among the import's rows (0, 1, …); the layer's row ids they keep are in ``kept_rows``
    (``keep_row_ids``)."""

    def __init__(self, session: Session, kind: LayerKind) -> None:
        self.session, self.kind = session, kind
        self.table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
        self.columns = [c.name for c in self.table.columns if c.name not in ("id", "geom")]
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.quote = session.get_bind().dialect.identifier_preparer.quote  # the model's own names, quoted
        self.count = self.kept = 0
        self.indexed = False
        model = FEATURE_TABLES[kind]
        self._defaults = {name: info.get_default(call_default_factory=True)
                          for name, info in model.model_fields.items()}

    def sql(self, statement: str, parameters: Any = None) -> Any:
        """Run ``statement`` on the session's connection (``{stage}`` and ``{layer}`` name the two tables)."""
        text = statement.format(stage=STAGED, layer=self.quote(self.table.name))
        connection = self.session.connection()
        return connection.exec_driver_sql(text, parameters) if parameters is not None \
            else connection.exec_driver_sql(text)

    def query(self, statement: str, **parameters: Any) -> Any:
        """``sql`` with named parameters (``:name``)."""
        return self.session.execute(text(statement.format(stage=STAGED, layer=self.quote(self.table.name))),
                                    parameters)

    def key_counts(self) -> tuple[int, list[tuple[str, int]]]:
        """How many staged rows have no key, and the keys given most often (up to three, more than once each,
        the most repeated first; of equal counts, the first in the file)."""
        self.index()
        blank = int(self.sql("SELECT count(*) FROM {stage} WHERE source_id IS NULL").scalar_one())
        repeated = self.sql("SELECT source_id, count(*) FROM {stage} WHERE source_id IS NOT NULL GROUP BY source_id "
                            "HAVING count(*) > 1 ORDER BY count(*) DESC, min(ord) LIMIT 3").all()
        return blank, [(str(key), int(n)) for key, n in repeated]

    def create(self) -> StagedRows:
        """The scratch table, empty (one left behind on this connection by an import that failed is dropped)."""
        self.drop()
        if self.postgres:
            names = ", ".join(self.quote(c) for c in self.columns)
            self.sql(f"CREATE TEMPORARY TABLE {{stage}} AS SELECT {names}, geom, 0::bigint AS ord "
                     "FROM {layer} LIMIT 0")
        else:  # from the model, not ``AS SELECT … FROM`` the layer: staging reads nothing of the main database
            shaped = Table(STAGED, MetaData(),
                           *[Column(c, self.table.c[c].type) for c in self.columns],
                           Column("geom", LargeBinary), Column("ord", BigInteger), prefixes=["TEMPORARY"])
            ddl = str(CreateTable(shaped).compile(dialect=self.session.get_bind().dialect))
            self.session.connection().exec_driver_sql(ddl)
        self.count, self.indexed = 0, False
        return self

    def add(self, rows: list[dict[str, Any]], geometries: Sequence[BaseGeometry]) -> None:
        """Rows into the scratch table, numbered on from those already there. Their values go column by column
        (a column's default filled in, JSON columns as text), then row by row to the database."""
        if not rows:
            return
        values = [[row.get(c, self._defaults.get(c)) for row in rows] for c in self.columns]
        shaped = np.asarray(geometries, dtype=object)
        order = range(self.count, self.count + len(rows))
        self.count += len(rows)
        if self.postgres:
            values = [[_copy_value(v) for v in column] if isinstance(self.table.c[name].type, JSON) else column
                      for name, column in zip(self.columns, values, strict=True)]
            wkb = shapely.to_wkb(shapely.set_srid(shaped, 4326), hex=True, include_srid=True)
            copy_into(self.session, STAGED, [*self.columns, "geom", "ord"], zip(*values, wkb, order, strict=True))
            return
        dialect = self.session.get_bind().dialect
        for index, name in enumerate(self.columns):
            process = self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                values[index] = [process(v) for v in values[index]]
        names = ", ".join(self.quote(c) for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        self.session.connection().exec_driver_sql(
            f"INSERT INTO {STAGED} ({names}, geom, ord) VALUES ({marks}, GeomFromWKB(?, 4326), ?)",
            list(zip(*values, shapely.to_wkb(shaped), order, strict=True)))

    def index(self) -> None:
        """Indexes for the joins that follow (once, when every row is staged)."""
        if self.indexed:
            return
        prefix = "" if self.postgres else "temp."
        for column in ("source_id", "ord"):
            self.sql(f"CREATE INDEX {prefix}{STAGED}_{column} ON {STAGED} ({column})")
        if self.postgres:  # its size, for the joins' plans (no autovacuum here)
            self.sql(f"ANALYZE {STAGED} (source_id, ord)")
        self.indexed = True

    def keep_row_ids(self) -> int:
        """Give each staged row whose key the layer has that row's id (a key given twice: its first row; a key
        stored twice: the lower id), so the asset keeps its row across imports — proposals' links, shared
        links and cached references still point at it. Returns how many rows kept an id."""
        self.index()
        prefix = "" if self.postgres else "temp."
        self.sql(f"DROP TABLE IF EXISTS {self._temp}{KEPT}")
        self.sql(f"CREATE TEMPORARY TABLE {KEPT} AS SELECT f.ord AS ord, min(l.id) AS id FROM "
                 "(SELECT source_id, min(ord) AS ord FROM {stage} WHERE source_id IS NOT NULL GROUP BY source_id) AS f "
                 "JOIN {layer} AS l ON l.source_id = f.source_id GROUP BY f.ord")
        for column in ("ord", "id"):
            self.sql(f"CREATE UNIQUE INDEX {prefix}{KEPT}_{column} ON {KEPT} ({column})")
        if self.postgres:
            self.sql(f"ANALYZE {KEPT}")
        self.kept = int(self.sql(f"SELECT count(*) FROM {KEPT}").scalar_one())
        return self.kept

    def apply(self, mode: WriteMode) -> Written:
        """Make the layer hold the staged rows: in ``replace`` mode exactly them, in ``append`` mode them in
        place of the layer's rows with the same keys, and the rest as they were. Call ``keep_row_ids`` first."""
        kept_rows = self.kept
        listed = [self.quote(c) for c in self.columns]
        kept = f"EXISTS (SELECT 1 FROM {KEPT} AS k WHERE k.id = {{layer}}.id)"
        if mode == "replace":
            gone = self.sql(f"DELETE FROM {{layer}} WHERE NOT {kept}")
        else:  # the layer's other rows with an incoming key give way to the incoming ones
            gone = self.sql("DELETE FROM {layer} WHERE source_id IN (SELECT source_id FROM {stage} "
                            f"WHERE source_id IS NOT NULL) AND NOT {kept}")
        moved = "ST_AsEWKB(l.geom) IS DISTINCT FROM ST_AsEWKB(s.geom)" if self.postgres else "l.geom IS NOT s.geom"
        ours, theirs = ", ".join(f"l.{c}" for c in listed), ", ".join(f"s.{c}" for c in listed)
        distinct = "IS DISTINCT FROM" if self.postgres else "IS NOT"  # equal when both are NULL
        assign = ", ".join(f"{c} = s.{c}" for c in [*listed, "geom"])
        changed = self.sql(f"UPDATE {{layer}} AS l SET {assign} FROM {{stage}} AS s JOIN {KEPT} AS k ON k.ord = s.ord "
                           f"WHERE l.id = k.id AND (({ours}) {distinct} ({theirs}) OR {moved})")
        added = self.sql(f"INSERT INTO {{layer}} ({', '.join(listed)}, geom) "
                         f"SELECT {', '.join(listed)}, geom FROM {{stage}} AS s "
                         f"WHERE NOT EXISTS (SELECT 1 FROM {KEPT} AS k WHERE k.ord = s.ord) ORDER BY ord")
        return Written(added=int(added.rowcount or 0), changed=int(changed.rowcount or 0),
                       removed=int(gone.rowcount or 0), unchanged=kept_rows - int(changed.rowcount or 0))

    def analyze(self) -> None:
        """Fresh planner statistics on PostGIS, after the keys were rewritten (numbered or matched)."""
        if self.postgres and self.indexed:
            self.sql(f"ANALYZE {STAGED} (source_id, ord)")

    def sample(self, size: int) -> list[BaseGeometry]:
        """Up to ``size`` of the staged geometries: all of them, or the same random sample every time."""
        if self.count <= size:
            found = self.sql("SELECT ST_AsBinary(geom) FROM {stage} ORDER BY ord").all()
        else:
            picked = sorted(random.Random(0).sample(range(self.count), size))  # noqa: S311 - a drawing sample
            found = self.sql("SELECT ST_AsBinary(geom) FROM {stage} WHERE ord IN (" + ", ".join(map(str, picked))
                             + ") ORDER BY ord").all()
        return list(shapely.from_wkb([bytes(row[0]) for row in found])) if found else []

    @property
    def _temp(self) -> str:
        """The schema of this connection's temporary tables (never a real table of the same name)."""
        return "pg_temp." if self.postgres else "temp."

    def drop(self) -> None:
        for name in (KEPT, STAGED):
            self.sql(f"DROP TABLE IF EXISTS {self._temp}{name}")
        self.count, self.kept, self.indexed = 0, 0, False


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
