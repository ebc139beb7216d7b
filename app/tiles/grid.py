"""Tile addresses and the zoom-dependent numbers both encoders share."""

from __future__ import annotations

from dataclasses import dataclass

from app.geometry import tile_pixel_metres

SIMPLIFY_PIXELS = 0.5  # simplify by half a screen pixel (tiles drawn 256 pixels wide)


class TileOutOfRange(ValueError):
    pass


@dataclass(frozen=True)
class TileAddress:
    z: int
    x: int
    y: int

    @classmethod
    def checked(cls, z: int, x: int, y: int, *, max_zoom: int) -> TileAddress:
        if not 0 <= z <= max_zoom:
            raise TileOutOfRange(f"Zoom {z} is out of range: tiles go from zoom 0 to {max_zoom}.")
        last = 2**z - 1
        if not (0 <= x <= last and 0 <= y <= last):
            raise TileOutOfRange(f"Tile {z}/{x}/{y} does not exist: at zoom {z}, x and y go from 0 to {last}.")
        return cls(z, x, y)

    def __str__(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"


def simplify_metres(z: int) -> float:
    """Simplification tolerance in Web Mercator metres at zoom ``z``."""
    return tile_pixel_metres(z) * SIMPLIFY_PIXELS


def simplify_grid_units(extent: int) -> float:
    """The same tolerance in a tile's grid units (``extent`` units span 256 screen pixels)."""
    return extent / 256 * SIMPLIFY_PIXELS
