"""Which incoming features are the layer's current assets, for a source with no ids of its own.

A feature matches a current asset of the same kind when it lies in the same place and has a similar
shape: points within ``POINT_TOLERANCE_M``; lines whose Hausdorff distance is within
``LINE_TOLERANCE_M`` and whose lengths differ by less than ``LENGTH_TOLERANCE``; and, where both
have a street name, the same street. Each current asset matches at most one feature (the closest
first). A matched feature takes the asset's key, so the asset keeps its row and every proposal
that covers it; an unmatched one gets a key made from its geometry, the same on every import of
the same file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text

from app.geometry import bounds_centre, to_local_metres
from app.layers.changed_rows import STAGED, StagedRows
from app.layers.store import FeatureRecord

POINT_TOLERANCE_M = 5.0
LINE_TOLERANCE_M = 12.0
LENGTH_TOLERANCE = 0.25  # a re-surveyed segment may be split or extended by a quarter of its length


@dataclass(frozen=True)
class CurrentAsset:
    key: str | None
    geometry: BaseGeometry
    street: str | None


def geometry_key(geometry: BaseGeometry) -> str:
    """A key for a feature without an id: its coordinates to about 1 cm, hashed."""
    rounded = shapely.set_precision(geometry, 1e-7)
    return "geom:" + hashlib.sha256(shapely.to_wkb(rounded, hex=True).encode()).hexdigest()[:20]


def _street(name: object) -> str | None:
    text = " ".join(str(name).lower().split()) if name else ""
    return text or None


def match_by_geometry(records: Sequence[FeatureRecord], current: Sequence[CurrentAsset]) -> int:
    """Give every record a key: the matching current asset's, or its own geometry key. Returns how
    many matched."""
    matched = 0
    usable = [asset for asset in current if asset.key is not None]
    if records and usable:
        centre = bounds_centre([asset.geometry for asset in usable])
        ours = to_local_metres([r.geometry for r in records], centre)
        theirs = to_local_metres([a.geometry for a in usable], centre)
        tree = shapely.STRtree(theirs)
        mine, other = tree.query(ours, predicate="dwithin", distance=max(POINT_TOLERANCE_M, LINE_TOLERANCE_M))
        pairs: list[tuple[float, int, int]] = []
        for i, j in zip(mine.tolist(), other.tolist(), strict=True):
            a, b = ours[i], theirs[j]
            assert a is not None and b is not None
            street_a, street_b = _street(records[i].fields.get("street_name")), _street(usable[j].street)
            if street_a and street_b and street_a != street_b:
                continue
            if a.geom_type in ("Point", "MultiPoint") or b.geom_type in ("Point", "MultiPoint"):
                apart = float(a.distance(b))
                if apart <= POINT_TOLERANCE_M:
                    pairs.append((apart, i, j))
                continue
            longer = max(a.length, b.length)
            if longer and abs(a.length - b.length) / longer > LENGTH_TOLERANCE:
                continue
            apart = float(shapely.hausdorff_distance(a, b))
            if apart <= LINE_TOLERANCE_M:
                pairs.append((apart, i, j))
        taken_records: set[int] = set()
        taken_assets: set[int] = set()
        for _, i, j in sorted(pairs):
            if i in taken_records or j in taken_assets:
                continue
            records[i].source_id = usable[j].key
            taken_records.add(i)
            taken_assets.add(j)
        matched = len(taken_records)
    seen: set[str] = {r.source_id for r in records if r.source_id}
    for record in records:
        if record.source_id is None:
            key = geometry_key(record.geometry)
            while key in seen:  # two features in the very same place
                key += "+"
            record.source_id = key
            seen.add(key)
    return matched


def match_staged(stage: StagedRows, *, append: bool) -> int:
    """``match_by_geometry`` for staged rows that have no keys of their own: each takes its key (the matching
    stored asset's, or its geometry's) in the scratch table. Returns how many matched. Every staged and stored
    geometry is held at once here (what matching needs), not the rows' other values."""
    street = "street_name" in stage.columns
    also = ", street_name" if street else ""
    found = stage.sql(f"SELECT ord, ST_AsBinary(geom){also} FROM {{stage}} ORDER BY ord").all()
    geometries = shapely.from_wkb([bytes(row[1]) for row in found]) if found else []
    records = [FeatureRecord(geometry, {"street_name": row[2]} if street else {})
               for row, geometry in zip(found, geometries, strict=True)]
    current: list[CurrentAsset] = []
    if not append:  # appended features without ids are new ones, never matches (given keys of their own)
        stored = stage.sql(f"SELECT source_id, ST_AsBinary(geom){also} FROM {{layer}} ORDER BY id").all()
        shapes = shapely.from_wkb([bytes(row[1]) for row in stored]) if stored else []
        current = [CurrentAsset(row[0], shape, row[2] if street else None)
                   for row, shape in zip(stored, shapes, strict=True)]
    matched = match_by_geometry(records, current)
    keys = [{"key": record.source_id, "ord": row[0]} for row, record in zip(found, records, strict=True)]
    for start in range(0, len(keys), 5_000):
        stage.session.execute(text(f"UPDATE {STAGED} SET source_id = :key WHERE ord = :ord"), keys[start:start + 5_000])
    return matched
