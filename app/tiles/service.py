"""Planning and rendering tiles, and each layer's TileJSON.

A tile's strong ETag derives from the layer id, the layer's revision, the tile's address and
the encoder (its version and settings), so every worker agrees on it without shared memory and
an import (which bumps the revision) changes it at once. A route checks ``If-None-Match``
against the plan before anything is encoded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.db import is_sqlite
from app.layers.specs import LayerSpec, spec_for
from app.settings import TileSettings
from app.tiles import postgis, spatialite
from app.tiles.grid import TileAddress
from models.layers import Layer

ENCODER_VERSION = "1"
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
TILEJSON_VERSION = "3.0.0"
WORLD_BOUNDS = [-180.0, -85.0511287798066, 180.0, 85.0511287798066]


@dataclass(frozen=True)
class TilePlan:
    spec: LayerSpec
    address: TileAddress
    revision: int
    etag: str

    @property
    def below_min_zoom(self) -> bool:
        return self.address.z < self.spec.min_zoom


def _revision(session: Session, spec: LayerSpec) -> int:
    layer = session.get(Layer, spec.id)
    return layer.revision if layer else 0


def tile_etag(*, spec: LayerSpec, revision: int, address: TileAddress, tiles: TileSettings) -> str:
    key = (f"{spec.id}|{revision}|{address}|{ENCODER_VERSION}|{tiles.extent}|{tiles.buffer}|"
           f"{tiles.max_features}")
    return f'"{spec.id}-r{revision}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"'


def plan_tile(*, session: Session, tiles: TileSettings, layer_id: str, z: int, x: int, y: int) -> TilePlan:
    """Check the layer and the address (UnknownLayer, TileOutOfRange) and give the tile's ETag."""
    spec = spec_for(layer_id)
    address = TileAddress.checked(z, x, y, max_zoom=tiles.max_zoom)
    revision = _revision(session, spec)
    return TilePlan(spec, address, revision, tile_etag(spec=spec, revision=revision, address=address, tiles=tiles))


def render_tile(*, session: Session, tiles: TileSettings, plan: TilePlan) -> bytes:
    """The tile's MVT bytes; empty below the layer's min zoom or where it has no features."""
    if plan.below_min_zoom:
        return b""
    encoder = spatialite if is_sqlite(session) else postgis
    return encoder.encode(session=session, spec=plan.spec, address=plan.address, tiles=tiles)


_MIN_SPAN_DEG = 0.001  # ~100 m: a map client asks for no tiles inside a zero-width or zero-height box


def _padded(bounds: list[float]) -> list[float]:
    """Bounds with some width and height, e.g. for a single point or a due east-west street."""
    west, south, east, north = bounds
    pad_x = max(0.0, (_MIN_SPAN_DEG - (east - west)) / 2)
    pad_y = max(0.0, (_MIN_SPAN_DEG - (north - south)) / 2)
    return [max(-180.0, west - pad_x), max(-85.0511, south - pad_y), min(180.0, east + pad_x),
            min(85.0511, north + pad_y)]


def tilejson(*, session: Session, tiles: TileSettings, layer_id: str, base_url: str) -> tuple[dict[str, Any], str]:
    """TileJSON 3.0 for a layer and its ETag. Tile URLs carry the revision (``?v=``) so a map that
    reloads its TileJSON asks for new tiles at once instead of waiting for its cache to expire."""
    spec = spec_for(layer_id)
    layer = session.get(Layer, spec.id)
    revision = layer.revision if layer else 0
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
        "tiles": [f"{base_url.rstrip('/')}/tiles/{spec.id}/{{z}}/{{x}}/{{y}}.mvt?v={revision}"],
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
    key = f"{spec.id}|{revision}|{base_url}|{bounds}|{ENCODER_VERSION}|{tiles.max_zoom}"
    return document, f'"tilejson-{spec.id}-r{revision}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"'
