"""A check that the map's colours stay apart for colour-blind readers (see docs/ARCHITECTURE.md).

Each colour is simulated as a reader with deuteranopia or protanopia sees it (Machado, Oliveira and
Fernandes 2009, severity 1.0, applied in linear RGB) and compared in CIELAB (ΔE 1976). Adjacent
condition bands must stay at least ``MIN_ADJACENT`` apart for every reader, and the proposal
categories at least ``MIN_FROM_CONDITIONS`` from every condition colour for normal vision, so a
proposal is never read as a condition. The worst two pavement bands are dashed as well.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MACHADO: dict[str, tuple[tuple[float, float, float], ...]] = {
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
}
VISIONS = (None, "deuteranopia", "protanopia")
MIN_ADJACENT = 10.0
MIN_FROM_CONDITIONS = 15.0


def _linear(hex_colour: str) -> list[float]:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]


def _lab(rgb: Sequence[float]) -> tuple[float, float, float]:
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def seen(hex_colour: str, vision: str | None) -> tuple[float, float, float]:
    """The colour in CIELAB as a reader with ``vision`` (None: typical colour vision) sees it."""
    rgb = _linear(hex_colour)
    if vision is not None:
        rgb = [min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in MACHADO[vision]]
    return _lab(rgb)


def distance(a: str, b: str, vision: str | None = None) -> float:
    return math.dist(seen(a, vision), seen(b, vision))


def closest_adjacent(colours: Sequence[str]) -> tuple[float, str, str, str | None]:
    """The smallest difference between neighbouring colours of a ramp, over every vision."""
    return min((distance(a, b, v), a, b, v) for a, b in zip(colours, colours[1:], strict=False) for v in VISIONS)


def contrast_with_white(hex_colour: str) -> float:
    r, g, b = _linear(hex_colour)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)
