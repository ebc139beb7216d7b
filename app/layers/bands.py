"""Pavement condition bands from PCI (0–100).

Two schemes ship: ASTM D6433 / PAVER's seven bands (the default) and MTC StreetSaver's four.
A band is named by a stable key (used in tiles, filters and the cost catalog) and a label.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    min_pci: float  # inclusive lower bound
    colour: str  # map colour; never the only cue (labels and patterns accompany it)


@dataclass(frozen=True)
class BandScheme:
    key: str
    label: str
    bands: tuple[Band, ...]  # best first

    def band_for(self, pci: float | None) -> Band | None:
        if pci is None:
            return None
        if not 0 <= pci <= 100:
            raise ValueError(f"PCI must be between 0 and 100, not {pci}")
        for band in self.bands:
            if pci >= band.min_pci:
                return band
        return self.bands[-1]

    def keys(self) -> list[str]:
        return [b.key for b in self.bands]


ASTM7 = BandScheme("astm7", "ASTM D6433 / PAVER (7 bands)", (
    Band("good", "Good", 85, "#1a9850"),
    Band("satisfactory", "Satisfactory", 70, "#91cf60"),
    Band("fair", "Fair", 55, "#d9ef8b"),
    Band("poor", "Poor", 40, "#fec44f"),
    Band("very_poor", "Very poor", 25, "#f46d43"),
    Band("serious", "Serious", 10, "#c51b1b"),
    Band("failed", "Failed", 0, "#67000d"),
))

MTC4 = BandScheme("mtc4", "MTC StreetSaver (4 bands)", (
    Band("good", "Good", 70, "#1a9850"),
    Band("fair", "Fair", 50, "#fec44f"),
    Band("poor", "Poor", 25, "#f46d43"),
    Band("failed", "Failed", 0, "#67000d"),
))

SCHEMES: dict[str, BandScheme] = {s.key: s for s in (ASTM7, MTC4)}
DEFAULT_SCHEME = ASTM7


def scheme(key: str | None) -> BandScheme:
    if key is None:
        return DEFAULT_SCHEME
    try:
        return SCHEMES[key]
    except KeyError:
        raise ValueError(f"Unknown band scheme {key!r}; choose one of {', '.join(SCHEMES)}") from None
