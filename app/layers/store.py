"""Writing a condition layer: all of it or none of it.

Importers and the demo city hand ``write_layer`` validated ``FeatureRecord``s in WGS84.
One call is one unit of work: it replaces the layer (or upserts by source id when appending),
computes geodesic quantities, condition bands and address search keys, finds the district and
census tract of each asset and address, bumps the layer's revision (tiles' ETags change at once),
records who did it, and commits — or raises and leaves the database as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from geoalchemy2.shape import to_shape
from shapely import STRtree
from shapely.geometry.base import BaseGeometry
from sqlalchemy import bindparam, func, or_, select, text, update
from sqlmodel import Session

from app import audit
from app.geometry import geodesic_area_m2, geodesic_lengths_m, representative_points
from app.layers.addresses import search_key
from app.layers.bands import scheme
from app.layers.changed_rows import STAGED, StagedRows, WriteMode, copy_into
from models.accounts import User
from models.base import utcnow
from models.layers import FEATURE_TABLES, CensusTract, District, Layer, LayerKind
from models.proposals import ProposalAsset

log = logging.getLogger(__name__)

LINEAR = (LayerKind.pavement, LayerKind.sidewalk)
_BATCH = 2000
_ROW_BATCH = 20_000  # rows made and staged at a time


class LayerWriteError(ValueError):
    pass


@dataclass(slots=True)  # a large import holds hundreds of thousands: no __dict__ each
class FeatureRecord:
    """One feature ready to store: geometry in WGS84 of the layer's storage type."""

    geometry: BaseGeometry
    fields: dict[str, Any] = field(default_factory=dict)  # normalized columns of the kind's table
    attributes: dict[str, Any] = field(default_factory=dict)  # the source's own columns, as read
    source_id: str | None = None


class RowMaker:
    """The rows of an import's records, a batch at a time: ``_rows`` with, for assets and addresses, their
    district and tract (the boundaries read once), and a district's Spanish name kept."""

    def __init__(self, session: Session, kind: LayerKind, band_scheme: str | None) -> None:
        self.session, self.kind, self.band_scheme = session, kind, band_scheme
        self.areas = _areas(session) if kind.in_areas else None
        self.boundaries = _boundary_revisions(session) if kind.in_areas else None

    def relocate(self, stage: StagedRows) -> bool:
        """Find the staged rows' district and tract again if the city's districts or tracts changed since they
        were made (a boundary import committed while the file was checked): call it in the unit of work that
        writes. Returns whether they had changed."""
        if self.areas is None or _boundary_revisions(self.session) == self.boundaries:
            return False
        self.areas, self.boundaries = _areas(self.session), _boundary_revisions(self.session)
        last = -1
        while True:
            found = stage.query("SELECT ord, ST_AsBinary(geom) FROM {stage} WHERE ord > :last ORDER BY ord "
                                "LIMIT :size", last=last, size=_ROW_BATCH).all()
            if not found:
                return True
            last = int(found[-1][0])
            located = _locate(self.session, list(shapely.from_wkb([bytes(row[1]) for row in found])), self.areas)
            update_areas = f"UPDATE {STAGED} SET district_id = :district, tract_id = :tract WHERE ord = :ord"
            self.session.execute(text(update_areas), [{"district": district, "tract": tract, "ord": row[0]}
                                  for row, (district, tract) in zip(found, located, strict=True)])

    def rows(self, records: Sequence[FeatureRecord]) -> tuple[list[dict[str, Any]], list[BaseGeometry]]:
        if not records:
            return [], []
        geometries = [record.geometry for record in records]
        rows = _rows(self.kind, records, self.band_scheme)
        if self.areas is not None:  # found before the rows are staged: no second pass to update them
            for row, (district_id, tract_id) in zip(rows, _locate(self.session, geometries, self.areas), strict=True):
                row["district_id"], row["tract_id"] = district_id, tract_id
        return rows, geometries


def _rows(kind: LayerKind, records: Sequence[FeatureRecord], band_scheme: str | None) -> list[dict[str, Any]]:
    """Each record's columns, with what is computed from them (lengths and areas, bands, search keys);
    the geometry is written apart (``changed_rows``)."""
    lengths = geodesic_lengths_m([r.geometry for r in records]) if kind in LINEAR else None
    bands = scheme(band_scheme) if kind is LayerKind.pavement else None
    rows = []
    for index, record in enumerate(records):
        row = dict(record.fields)
        if lengths is not None:
            length = row.get("length_m") or float(lengths[index])  # a surveyed length (--map length=) wins
            row["length_m"] = length
            width = row.get("width_m")
            row["area_m2"] = length * width if width else None
        if bands is not None and row.get("pci") is not None and not row.get("band"):
            band = bands.band_for(row["pci"])
            row["band"] = band.key if band else None
        if kind in (LayerKind.district, LayerKind.tract):
            row["area_m2"] = geodesic_area_m2(record.geometry)
        if kind is LayerKind.address:
            row["search_key"] = search_key(row["full_address"])
        row["attributes"] = record.attributes
        row["source_id"] = record.source_id
        rows.append(row)
    return rows


def write_layer(
    *,
    session: Session,
    kind: LayerKind,
    records: Iterable[FeatureRecord],
    source: str,
    actor: User | None,
    mode: WriteMode = "replace",
    source_crs: str | None = None,
    field_map: dict[str, str] | None = None,
    band_scheme: str | None = None,
    report: dict[str, Any] | None = None,
    title: str | None = None,
    before_commit: Callable[[Layer], None] | None = None,
) -> Layer:
    """Store a layer atomically and return its updated ``Layer`` row. ``before_commit`` runs in the same
    unit of work once the layer is written (what it writes lands with the layer, or neither does). The
    records are staged ``_ROW_BATCH`` at a time (an importer stages its own as it checks them: ``write_staged``)."""
    if kind is LayerKind.pavement:
        scheme(band_scheme)  # unknown scheme: fail before writing
    try:
        stage = StagedRows(session, kind).create()
        maker = RowMaker(session, kind, band_scheme)
        batch: list[FeatureRecord] = []
        for record in records:
            batch.append(record)
            if len(batch) == _ROW_BATCH:
                stage.add(*maker.rows(batch))
                batch = []
        stage.add(*maker.rows(batch))
    except Exception:
        session.rollback()
        raise
    if not stage.count:
        stage.drop()
        raise LayerWriteError(f"No features to import into {kind.title}; nothing was changed.")
    lock_layer(session, kind)
    finish_rows(session, kind, stage)
    stage.keep_row_ids()
    return write_staged(session=session, kind=kind, stage=stage, source=source, actor=actor, mode=mode,
                        source_crs=source_crs, field_map=field_map, band_scheme=band_scheme, report=report,
                        title=title, before_commit=before_commit)


def write_staged(*, session: Session, kind: LayerKind, stage: StagedRows, source: str, actor: User | None,
                 mode: WriteMode = "replace", source_crs: str | None = None, field_map: dict[str, str] | None = None,
                 band_scheme: str | None = None, report: dict[str, Any] | None = None, title: str | None = None,
                 before_commit: Callable[[Layer], None] | None = None) -> Layer:
    """Bring the layer to the rows in ``stage`` (``write_layer``), in the session's unit of work, and commit. The
    kept row ids must have been found in this unit of work (``StagedRows.keep_row_ids``)."""
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    if kind is LayerKind.pavement:
        scheme(band_scheme)
    if not stage.count:
        raise LayerWriteError(f"No features to import into {kind.title}; nothing was changed.")
    try:
        with session.begin_nested():
            written = stage.apply(mode)
            log.info("%s: %s", kind.value, written)
            report = {**(report or {}), "rows": written.as_dict()}
            if kind.is_asset:
                missing, restored = _refresh_links(session, kind)
                if missing or restored:
                    report = {**(report or {}), "proposal_links_missing": missing,
                              "proposal_links_restored": restored}
            if not kind.in_areas:  # boundaries: every asset's and address's district or tract is found again
                moved = _assign_areas(session, [k for k in LayerKind if k.in_areas])
                bump_revision(session=session, kinds=moved)  # only layers where some feature moved: tiles
                if kind is LayerKind.district and (written.changes or moved):
                    report = {**(report or {}), "proposal_districts_changed": _refresh_proposal_districts(session)}
            elif kind.is_asset and written.changes and (districts_changed := _refresh_proposal_districts(session)):
                report = {**(report or {}), "proposal_districts_changed": districts_changed}  # assets moved with it
            layer = _touch_layer(session, kind, source=source, actor=actor, source_crs=source_crs,
                                 field_map=field_map, band_scheme=band_scheme, report=report, title=title,
                                 changed=bool(written.changes))
            audit.record(session=session, actor=actor, action="layer.import", object_type="layer",
                         object_id=kind.value, after={"source": source, "mode": mode, "features": stage.count,
                                                      "revision": layer.revision})
            stage.drop()
        if before_commit is not None:
            before_commit(layer)
        session.commit()
    except Exception:
        session.rollback()
        raise
    if written.changes:
        _refresh_statistics(session, table)
    return layer


def _refresh_proposal_districts(session: Session) -> int:
    from app.proposals.selection import refresh_districts  # proposals build on layers, not the other way

    return refresh_districts(session=session)


def _refresh_statistics(session: Session, table: Any) -> None:
    """Let PostgreSQL's planner see the new rows at once (autovacuum may be slow or off): without
    statistics a freshly loaded layer's pages and tiles plan as if the table were empty."""
    if session.get_bind().dialect.name != "postgresql":
        return
    try:
        session.execute(text(f"ANALYZE {table.name}"))
        session.commit()
    except Exception:  # statistics are an optimisation: the import itself has landed
        session.rollback()
        log.warning("could not analyze %s after an import", table.name, exc_info=True)


def _touch_layer(session: Session, kind: LayerKind, *, source: str, actor: User | None, source_crs: str | None,
                 field_map: dict[str, str] | None, band_scheme: str | None, report: dict[str, Any] | None,
                 title: str | None, changed: bool = True) -> Layer:
    layer = session.get(Layer, kind.value) or Layer(kind=kind.value, title=kind.title)
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    layer.title = title or layer.title
    layer.source = source[:2000]
    layer.source_crs = source_crs
    layer.imported_at = utcnow()
    layer.imported_by_id = actor.id if actor else None
    if changed or not layer.revision:  # the data changed: tiles and ETags move on (the same data: they stay)
        layer.revision = (layer.revision or 0) + 1
    layer.feature_count = int(session.execute(select(func.count()).select_from(table)).scalar_one())
    layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat = _extent(session, table)
    layer.field_map = field_map
    layer.band_scheme = band_scheme if kind is LayerKind.pavement else None
    layer.report = report
    session.add(layer)
    session.flush()
    return layer


def finish_rows(session: Session, kind: LayerKind, stage: StagedRows) -> None:
    """What the staged rows take from the layer once their keys are final, in the unit of work that writes: a
    district the file gives no Spanish name keeps the one it had (entered by staff), matched by its key, else by
    its English name."""
    if kind is not LayerKind.district:
        return
    blank = "(name_es IS NULL OR name_es = '')"
    stage.sql(f"UPDATE {{stage}} SET name_es = (SELECT min(d.name_es) FROM {{layer}} AS d WHERE d.source_id = "
              f"{STAGED}.source_id AND d.name_es IS NOT NULL AND d.name_es <> '') WHERE {blank}")
    stage.sql(f"UPDATE {{stage}} SET name_es = (SELECT min(d.name_es) FROM {{layer}} AS d WHERE d.name = "
              f"{STAGED}.name AND d.name_es IS NOT NULL AND d.name_es <> '') WHERE {blank}")


def lock_layer(session: Session, kind: LayerKind) -> None:
    """Two imports of one layer write one after the other (on PostGIS; SQLite has one writer): from the kept row
    ids to the commit, nothing else changes the layer's rows. Held until the unit of work ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                        {"name": f"groundwork.layer.{kind.value}"})


def _boundary_revisions(session: Session) -> dict[str, int]:
    layers = Layer.__table__  # type: ignore[attr-defined]
    found = session.execute(select(layers.c.kind, layers.c.revision)
                            .where(layers.c.kind.in_([LayerKind.district.value, LayerKind.tract.value])))
    return {str(kind): int(revision) for kind, revision in found}


def _refresh_links(session: Session, kind: LayerKind) -> tuple[int, int]:
    """Mark links to assets the layer no longer has as missing, and bring back links whose asset
    (by its key) is in the layer again. Returns (newly missing, restored).

    A link is still good only while its row has the link's key: SQLite may give a retired asset's
    row number to a new asset, and the link must not follow the number to it. A missing link's
    ``asset_id`` becomes minus the link's own id: unique, and never another asset's."""
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    links = ProposalAsset.__table__  # type: ignore[attr-defined]
    present = select(table.c.id).where(table.c.id == links.c.asset_id,
                                       or_(links.c.source_key.is_(None),
                                           table.c.source_id == links.c.source_key)).exists()
    gone = session.exec(update(links).where(links.c.layer == kind.value, links.c.missing.is_(False), ~present)
                        .values(missing=True, asset_id=-links.c.id))
    back = (select(links.c.id, func.min(table.c.id))
            .join(table, table.c.source_id == links.c.source_key)
            .where(links.c.layer == kind.value, links.c.missing.is_(True))
            .group_by(links.c.id))
    taken = {(p, a) for p, a in session.execute(select(links.c.proposal_id, links.c.asset_id)
                                                 .where(links.c.layer == kind.value, links.c.missing.is_(False)))}
    owners = dict(session.execute(select(links.c.id, links.c.proposal_id)
                                  .where(links.c.layer == kind.value, links.c.missing.is_(True))).all())
    restores = []
    for link_id, asset_id in session.execute(back):
        if (owners[link_id], asset_id) not in taken:  # the proposal already covers it again: leave this one
            restores.append({"link_id": link_id, "new_id": int(asset_id)})
            taken.add((owners[link_id], asset_id))
    if restores:
        statement = update(links).where(links.c.id == bindparam("link_id"))
        session.connection().execute(statement.values(asset_id=bindparam("new_id"), missing=False), restores)
    return int(gone.rowcount or 0), len(restores)


def bump_revision(*, session: Session, kinds: Sequence[LayerKind]) -> None:
    """Mark layers changed (e.g. their district assignment) so cached tiles revalidate."""
    for kind in kinds:
        layer = session.get(Layer, kind.value)
        if layer is not None:
            layer.revision += 1
            session.add(layer)


def _extent(session: Session, table: Any) -> tuple[float | None, float | None, float | None, float | None]:
    if session.get_bind().dialect.name == "postgresql":
        box = func.ST_Extent(table.c.geom)
        query = select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box))
    else:
        query = select(func.min(func.MbrMinX(table.c.geom)), func.min(func.MbrMinY(table.c.geom)),
                       func.max(func.MbrMaxX(table.c.geom)), func.max(func.MbrMaxY(table.c.geom)))
    values = session.execute(query).one()
    return tuple(None if v is None else float(v) for v in values)  # type: ignore[return-value]


Areas = tuple[tuple[list[int], STRtree | None], tuple[list[int], STRtree | None]]
_LOCATE_ROWS = 50_000  # features located at a time when the boundaries change: memory stays bounded


def _areas(session: Session) -> Areas:
    """The districts' and the census tracts' ids and their polygons' search trees."""
    return _polygons(session, District), _polygons(session, CensusTract)


def _locate(session: Session, geometries: Sequence[BaseGeometry],
            areas: Areas | None = None) -> list[tuple[int | None, int | None]]:
    """The district and census tract ids containing a point on each geometry (None outside them all)."""
    points = representative_points(geometries)
    districts, tracts = areas or _areas(session)
    return list(zip(_containing(points, *districts), _containing(points, *tracts), strict=True))


def _assign_areas(session: Session, kinds: Sequence[LayerKind]) -> list[LayerKind]:
    """Find each stored feature's district_id and tract_id again (after a boundary import: even the same
    boundaries repair ids a concurrent import may have left stale) and write those that differ. Features
    are located ``_LOCATE_ROWS`` at a time; on PostGIS the ids found are copied into a scratch table and each
    layer is updated in one joined statement (not one statement per feature). Returns the layers in which
    some feature's district or tract changed."""
    areas = _areas(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    moved = []
    for kind in kinds:
        table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
        if postgres:
            session.execute(text("CREATE TEMPORARY TABLE located_areas (id bigint PRIMARY KEY, district_id bigint, "
                                 "tract_id bigint) ON COMMIT DROP"))
        statement = (update(table).where(table.c.id == bindparam("asset_id"))
                     .values(district_id=bindparam("in_district"), tract_id=bindparam("in_tract")))
        changed, last = 0, None
        while True:
            query = (select(table.c.id, func.ST_AsBinary(table.c.geom), table.c.district_id, table.c.tract_id)
                     .order_by(table.c.id).limit(_LOCATE_ROWS))
            assets = session.connection().execute(query if last is None else query.where(table.c.id > last)).all()
            if not assets:
                break
            last = assets[-1][0]
            located = _locate(session, list(shapely.from_wkb([bytes(wkb) for _, wkb, _, _ in assets])), areas)
            differ = [(asset_id, district_id, tract_id)
                      for (asset_id, _, was_district, was_tract), (district_id, tract_id) in zip(assets, located,
                                                                                                strict=True)
                      if (district_id, tract_id) != (was_district, was_tract)]
            if postgres:
                copy_into(session, "located_areas", ["id", "district_id", "tract_id"], (list(d) for d in differ))
                continue
            updates = [{"asset_id": asset_id, "in_district": district_id, "in_tract": tract_id}
                       for asset_id, district_id, tract_id in differ]
            for start in range(0, len(updates), _BATCH):
                changed += int(session.connection().execute(statement, updates[start:start + _BATCH]).rowcount or 0)
        if postgres:
            result = session.execute(text(f"UPDATE {table.name} AS feature SET district_id = located.district_id, "
                                          "tract_id = located.tract_id FROM located_areas AS located "
                                          "WHERE feature.id = located.id"))
            changed = int(result.rowcount or 0)  # type: ignore[attr-defined]
            session.execute(text("DROP TABLE located_areas"))
        if changed:
            moved.append(kind)
    return moved


def _polygons(session: Session, model: type[District] | type[CensusTract]) -> tuple[list[int], STRtree | None]:
    rows = session.execute(select(model.id, model.geom)).all()  # type: ignore[call-overload]
    if not rows:
        return [], None
    return [r[0] for r in rows], STRtree([to_shape(r[1]) for r in rows])


def _containing(points: list[BaseGeometry], ids: list[int], tree: STRtree | None) -> list[int | None]:
    result: list[int | None] = [None] * len(points)
    if tree is None:
        return result
    point_index, polygon_index = tree.query(points, predicate="intersects")
    for p, g in zip(point_index.tolist(), polygon_index.tolist(), strict=True):
        if result[p] is None:
            result[p] = ids[g]
    return result

