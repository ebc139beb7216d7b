"""Planning and rendering tiles, and each layer's TileJSON.

A tile's strong ETag derives from the layer id, the layer's version (its revision and the
database's key for it), the tile's address and the encoder (its version and settings), so every
worker agrees on it without shared memory and an import changes it at once. A route checks
``If-None-Match`` against the plan before anything is encoded; a rendered tile is kept in the
shared disk cache under the version it was planned with (``TileServer``), and ``app.tiles.fastpath``
answers cached tiles and revalidations without the rest of the application.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from app.db import is_sqlite
from app.layers.specs import LayerSpec, UnknownLayer, spec_for
from app.settings import TileSettings
from app.tiles import postgis, spatialite
from app.tiles.cache import TileCache
from app.tiles.grid import TileAddress
from app.tiles.memory import HotTile, Key, TileMemory
from app.tiles.prerender import Bounds, Prerender
from app.tiles.versions import NO_LAYER, LayerVersion, LayerVersions
from models.layers import Layer

ENCODER_VERSION = "1"
log = logging.getLogger(__name__)
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
TILEJSON_VERSION = "3.0.0"
WORLD_BOUNDS = [-180.0, -85.0511287798066, 180.0, 85.0511287798066]


IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class TilePlan:
    spec: LayerSpec
    address: TileAddress
    version: LayerVersion
    etag: str
    encoder: str
    requested: str | None  # the ``v`` of the URL, if any

    @property
    def below_min_zoom(self) -> bool:
        return self.address.z < self.spec.min_zoom

    @property
    def revisioned(self) -> bool:
        """The URL names the layer's current version: its bytes never change (immutable)."""
        return self.requested == self.version.tag

    def cache_control(self, tiles: TileSettings) -> str:
        return IMMUTABLE if self.revisioned else f"public, max-age={tiles.cache_max_age_s}, must-revalidate"

    def answer(self, hot: HotTile) -> tuple[int, list[tuple[bytes, bytes]]]:
        """The status and headers of this request's answer with ``hot`` (a 200 or a 204)."""
        return hot.status, hot.revisioned if self.revisioned else hot.plain


def encoder_key(*, tiles: TileSettings, dialect: str) -> str:
    """The encoder and every setting that changes a tile's bytes."""
    return _encoder_key(dialect, tiles.extent, tiles.buffer, tiles.max_features)


@lru_cache(maxsize=16)
def _encoder_key(dialect: str, extent: int, buffer: int, max_features: int) -> str:
    key = f"{ENCODER_VERSION}|{dialect}|{extent}|{buffer}|{max_features}"
    return hashlib.sha256(key.encode()).hexdigest()[:10]


def plan_tile(*, versions: dict[str, LayerVersion], tiles: TileSettings, dialect: str, layer_id: str,
              z: int, x: int, y: int, requested: str | None = None) -> TilePlan:
    """Check the layer and the address (UnknownLayer, TileOutOfRange) and give the tile's ETag."""
    spec = spec_for(layer_id)
    address = TileAddress.checked(z, x, y, max_zoom=tiles.max_zoom)
    version = versions.get(spec.id, NO_LAYER)
    encoder = encoder_key(tiles=tiles, dialect=dialect)
    digest = hashlib.sha256(f"{spec.id}|{version.tag}|{address}|{encoder}".encode()).hexdigest()[:16]
    return TilePlan(spec, address, version, f'"{spec.id}-r{version.revision}-{digest}"', encoder, requested)


def memory_key(*, layer_id: str, version: LayerVersion, encoder: str, z: int, x: int, y: int) -> Key:
    return (layer_id, version.tag, encoder, z, x, y)


def render_tile(*, session: Session, tiles: TileSettings, plan: TilePlan) -> bytes:
    """The tile's MVT bytes; empty below the layer's min zoom or where it has no features."""
    if plan.below_min_zoom:
        return b""
    if is_sqlite(session):
        return spatialite.encode(session=session, spec=plan.spec, address=plan.address, tiles=tiles)
    return postgis.encode(connection=session.connection(), spec=plan.spec, address=plan.address, tiles=tiles)[1]


class TileServer:
    """One app's tiles: the layers' versions (app/tiles/versions.py), the shared disk cache, each
    worker's hottest tiles in memory (app/tiles/memory.py) and the low zooms of a layer's new version
    drawn ahead of requests (app/tiles/prerender.py)."""

    def __init__(self, engine: Engine, tiles: TileSettings) -> None:
        self.dialect = engine.dialect.name
        self.versions = LayerVersions(engine, ttl_s=tiles.revision_ttl_s)
        self.cache = TileCache(tiles.cache_dir, engine) if tiles.cache_dir else None
        self.memory = TileMemory(tiles.memory_mb * 2**20) if tiles.memory_mb > 0 else None
        self._engine = engine
        self._tiles = tiles
        self._seen: dict[str, str] = {}
        self.prerender: Prerender | None = None
        if self.cache is not None and tiles.prerender_max_zoom > 0:
            self.prerender = Prerender(
                root=self.cache.root, encoder=encoder_key(tiles=tiles, dialect=self.dialect),
                max_zoom=min(tiles.prerender_max_zoom, tiles.max_zoom), min_zoom=_min_zoom, extent=self._extent,
                draw=self.prerender_tile, tile_path=self._prerender_path)

    @property
    def draws_alone(self) -> bool:
        """Whether a tile can be drawn without a request's session (one statement on PostGIS)."""
        return self.dialect == "postgresql"

    def current(self, session: Session) -> dict[str, LayerVersion]:
        fresh = self.versions.fresh()
        return fresh if fresh is not None else self.read(session)  # no layers yet is an answer too

    def read(self, session: Session) -> dict[str, LayerVersion]:
        """Read the versions now; a layer seen at a new version has its older cached tiles removed."""
        versions = self.versions.read(session)
        for layer_id, version in versions.items():
            if self._seen.get(layer_id) != version.tag:
                if layer_id in self._seen:
                    if self.cache is not None:
                        self.cache.prune(layer_id=layer_id, keep=version.tag)
                    if self.memory is not None:
                        self.memory.forget(layer_id=layer_id, keep=version.tag)
                self._seen[layer_id] = version.tag
                if self.prerender is not None and version.revision > 0:
                    self.prerender.queue(layer_id, version)
        return versions

    def plan(self, *, session: Session, tiles: TileSettings, layer_id: str, z: int, x: int, y: int,
             requested: str | None) -> TilePlan:
        plan = plan_tile(versions=self.current(session), tiles=tiles, dialect=self.dialect, layer_id=layer_id,
                         z=z, x=x, y=y, requested=requested)
        if requested is not None and not plan.revisioned:  # perhaps a newer version than this worker knows
            plan = plan_tile(versions=self.read(session), tiles=tiles, dialect=self.dialect, layer_id=layer_id,
                             z=z, x=x, y=y, requested=requested)
        return plan

    def cache_path(self, plan: TilePlan) -> Path | None:
        if self.cache is None:
            return None
        return self.cache.path(layer_id=plan.spec.id, tag=plan.version.tag, encoder=plan.encoder,
                               address=plan.address)

    def stored(self, plan: TilePlan, tiles: TileSettings) -> HotTile | None:
        """The tile from memory or from the disk cache (then kept in memory too), else None."""
        key = memory_key(layer_id=plan.spec.id, version=plan.version, encoder=plan.encoder, z=plan.address.z,
                         x=plan.address.x, y=plan.address.y)
        if self.memory is not None and (hot := self.memory.get(key)) is not None:
            return hot
        path = self.cache_path(plan)
        if path is None or (content := TileCache.get(path)) is None:
            return None
        return self._remember(plan, content, tiles)

    def tile(self, *, session: Session, tiles: TileSettings, plan: TilePlan) -> tuple[TilePlan, bytes]:
        """The tile from the caches, else drawn and cached under the version it was drawn from (on
        SpatiaLite the version is read again after drawing: if an import committed meanwhile, the
        tile is drawn for the new version and not cached), so a cached tile always holds exactly
        its version's data."""
        if (hot := self.stored(plan, tiles)) is not None:
            return plan, hot.body
        if self.draws_alone:
            plan, hot = self._draw(session.connection(), tiles, plan)
            return plan, hot.body
        content = render_tile(session=session, tiles=tiles, plan=plan)
        versions = self.read(session)
        if versions.get(plan.spec.id, NO_LAYER) != plan.version:
            plan = plan_tile(versions=versions, tiles=tiles, dialect=self.dialect, layer_id=plan.spec.id,
                             z=plan.address.z, x=plan.address.x, y=plan.address.y, requested=plan.requested)
            return plan, render_tile(session=session, tiles=tiles, plan=plan)
        self._store(plan, content, tiles)
        return plan, content

    def draw(self, *, tiles: TileSettings, plan: TilePlan) -> tuple[TilePlan, HotTile]:
        """Draw and cache a tile on a connection of its own (``draws_alone``: the lean path's misses)."""
        with self._engine.connect() as connection:
            return self._draw(connection, tiles, plan)

    def prerender_current(self) -> None:
        """At start: pre-render the layers' current versions if the cache lacks them (a worker that finds
        them done skips at once). Read on a connection of its own and not kept: requests read as before."""
        if self.prerender is None:
            return
        layer = Layer.__table__  # type: ignore[attr-defined]
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(select(layer.c.kind, layer.c.revision, layer.c.tile_key)).all()
        except Exception as error:  # the first request reads them and queues them then
            log.warning("Could not read the layers' versions at start: %s", error)
            return
        for kind, revision, key in rows:
            if revision:
                self.prerender.queue(kind, LayerVersion(int(revision), key))

    def prerender_tile(self, layer_id: str, version: LayerVersion, address: TileAddress) -> bool:
        """Draw one tile of the layer at ``version`` into the disk cache (not into memory: these tiles
        are not asked for yet); False, with nothing filed under ``version``, when the layer is no longer
        at it."""
        tiles = self._tiles
        plan = plan_tile(versions={layer_id: version}, tiles=tiles, dialect=self.dialect, layer_id=layer_id,
                         z=address.z, x=address.x, y=address.y)
        if self.draws_alone:
            with self._engine.connect() as connection:
                plan, content = self._drawn(connection, tiles, plan)  # the plan of the version it drew from
        else:
            with Session(self._engine) as session:  # one read transaction: the version and the tile, one snapshot
                if _version_of(session, layer_id) != version:
                    return False
                content = render_tile(session=session, tiles=tiles, plan=plan)
                if _version_of(session, layer_id) != version:  # as tile() does (one snapshot: never differs)
                    return False
        if (path := self.cache_path(plan)) is not None:
            TileCache.put(path, content)
        return plan.version == version

    def _prerender_path(self, layer_id: str, version: LayerVersion, address: TileAddress) -> Path:
        assert self.cache is not None
        return self.cache.path(layer_id=layer_id, tag=version.tag, encoder=encoder_key(tiles=self._tiles,
                               dialect=self.dialect), address=address)

    def _extent(self, layer_id: str, version: LayerVersion) -> Bounds | None:
        """The layer's bounds while it is at ``version`` and has features, else None."""
        layer = Layer.__table__  # type: ignore[attr-defined]
        with self._engine.connect() as connection:
            row = connection.execute(
                select(layer.c.revision, layer.c.tile_key, layer.c.min_lon, layer.c.min_lat, layer.c.max_lon,
                       layer.c.max_lat).where(layer.c.kind == layer_id)).one_or_none()
        if row is None or LayerVersion(int(row.revision or 0), row.tile_key) != version:
            return None
        bounds = (row.min_lon, row.min_lat, row.max_lon, row.max_lat)
        if any(value is None for value in bounds):
            return None
        return _padded([float(value) for value in bounds])  # type: ignore[return-value]

    def _draw(self, connection: Connection, tiles: TileSettings, plan: TilePlan) -> tuple[TilePlan, HotTile]:
        plan, content = self._drawn(connection, tiles, plan)
        return plan, self._store(plan, content, tiles)

    def _drawn(self, connection: Connection, tiles: TileSettings, plan: TilePlan) -> tuple[TilePlan, bytes]:
        """The tile drawn in one statement, and the plan of the version it was drawn from."""
        if plan.below_min_zoom:
            return plan, b""
        version, content = postgis.encode(connection=connection, spec=plan.spec, address=plan.address, tiles=tiles)
        if version != plan.version:  # drawn from a newer version than planned: file it there
            self.versions.changed()
            plan = plan_tile(versions={plan.spec.id: version}, tiles=tiles, dialect=self.dialect,
                             layer_id=plan.spec.id, z=plan.address.z, x=plan.address.x, y=plan.address.y,
                             requested=plan.requested)
        return plan, content

    def _store(self, plan: TilePlan, content: bytes, tiles: TileSettings) -> HotTile:
        path = self.cache_path(plan)
        if path is not None:
            TileCache.put(path, content)
        return self._remember(plan, content, tiles)

    def _remember(self, plan: TilePlan, content: bytes, tiles: TileSettings) -> HotTile:
        hot = HotTile.of(etag=plan.etag, body=content, media_type=MEDIA_TYPE, cache_forever=IMMUTABLE,
                         cache_briefly=f"public, max-age={tiles.cache_max_age_s}, must-revalidate")
        if self.memory is not None:
            self.memory.put(memory_key(layer_id=plan.spec.id, version=plan.version, encoder=plan.encoder,
                                       z=plan.address.z, x=plan.address.x, y=plan.address.y), hot)
        return hot

    def close(self) -> None:
        if self.prerender is not None:
            self.prerender.close()
        self.versions.close()


def _min_zoom(layer_id: str) -> int | None:
    try:
        return spec_for(layer_id).min_zoom
    except UnknownLayer:
        return None


def _version_of(session: Session, layer_id: str) -> LayerVersion:
    row = session.execute(select(Layer.revision, Layer.tile_key)  # type: ignore[call-overload]
                          .where(Layer.kind == layer_id)).one_or_none()
    return NO_LAYER if row is None else LayerVersion(int(row.revision or 0), row.tile_key)


_MIN_SPAN_DEG = 0.001  # ~100 m: a map client asks for no tiles inside a zero-width or zero-height box


def _padded(bounds: list[float]) -> list[float]:
    """Bounds with some width and height, e.g. for a single point or a due east-west street."""
    west, south, east, north = bounds
    pad_x = max(0.0, (_MIN_SPAN_DEG - (east - west)) / 2)
    pad_y = max(0.0, (_MIN_SPAN_DEG - (north - south)) / 2)
    return [max(-180.0, west - pad_x), max(-85.0511, south - pad_y), min(180.0, east + pad_x),
            min(85.0511, north + pad_y)]


def tilejson(*, session: Session, tiles: TileSettings, versions: dict[str, LayerVersion], layer_id: str,
             base_url: str) -> tuple[dict[str, Any], str]:
    """TileJSON 3.0 for a layer and its ETag. Tile URLs carry the layer's version (``?v=``): their
    bytes never change, so browsers and CDNs keep them for a year, and a map that reloads its
    TileJSON after an import asks for the new tiles at once."""
    spec = spec_for(layer_id)
    layer = session.get(Layer, spec.id)
    version = versions.get(spec.id, NO_LAYER)
    revision = version.revision
    bounds = WORLD_BOUNDS
    if layer and None not in (layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat):
        bounds = _padded([layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat])  # type: ignore[list-item]
    centre_zoom = max(spec.min_zoom, 12)
    document = {
        "tilejson": TILEJSON_VERSION,
        "name": spec.title,
        "description": spec.description,
        "version": f"1.0.{revision}",
        "scheme": "xyz",
        "tiles": [f"{base_url.rstrip('/')}/tiles/{spec.id}/{{z}}/{{x}}/{{y}}.mvt?v={version.tag}"],
        "minzoom": spec.min_zoom,
        "maxzoom": tiles.max_zoom,
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, centre_zoom],
        "vector_layers": [{
            "id": spec.id,
            "description": spec.description,
            "minzoom": spec.min_zoom,
            "maxzoom": tiles.max_zoom,
            "fields": {p.name: f"{p.type}: {p.description}" for p in spec.tile_properties},
        }],
    }
    key = f"{spec.id}|{version.tag}|{base_url}|{bounds}|{ENCODER_VERSION}|{tiles.max_zoom}"
    return document, f'"tilejson-{spec.id}-r{revision}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"'
