"""How the map draws each layer, in one place: the legend (server-rendered) and the map's
style (static/js/map.js, which reads this through the page's config) use the same words and
colours. Colour is never the only cue: every entry has a label, the worst pavement bands and
sidewalk gaps are dashed, and lights that are out are larger, ringed dots.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.layers.bands import BandScheme


@dataclass(frozen=True)
class LegendEntry:
    key: str
    label: str
    colour: str
    dashed: bool = False
    stroke: str | None = None  # points: ring colour
    radius: float = 4.0  # points: dot radius in pixels


SIDEWALK_CONDITIONS: tuple[LegendEntry, ...] = (
    LegendEntry("excellent", "Excellent", "#1a9850"),
    LegendEntry("good", "Good", "#91cf60"),
    LegendEntry("fair", "Fair", "#f9d057"),
    LegendEntry("poor", "Poor", "#d73027"),
)
SIDEWALK_GAP = LegendEntry("gap", "Gap (no sidewalk)", "#6a3d9a", dashed=True)
RAMP_CONDITIONS: tuple[LegendEntry, ...] = tuple(
    LegendEntry(e.key, e.label, e.colour, stroke="#1b2630", radius=4.5) for e in SIDEWALK_CONDITIONS)
LIGHT_STATUSES: tuple[LegendEntry, ...] = (
    LegendEntry("working", "Working", "#f2c14e", stroke="#5b4a00", radius=3.5),
    LegendEntry("reported", "Reported out", "#ffffff", stroke="#c25e00", radius=5.5),
    LegendEntry("out", "Out", "#b3261e", stroke="#1b2630", radius=7.0),
)
UNRATED = LegendEntry("unrated", "Not rated", "#8c96a0")
DISTRICT_OUTLINE = "#0b5563"
POVERTY_RAMP: tuple[tuple[float, str], ...] = (
    (0.0, "#f7fbff"), (0.1, "#c6dbef"), (0.2, "#6baed6"), (0.3, "#2171b5"), (0.4, "#08306b"))


def worst_bands(band_scheme: BandScheme) -> set[str]:
    """The two worst bands of a scheme are drawn dashed as well as in their colour."""
    return {band.key for band in band_scheme.bands[-2:]}


def pavement_entries(band_scheme: BandScheme) -> list[LegendEntry]:
    worst = worst_bands(band_scheme)
    return [LegendEntry(b.key, b.label, b.colour, dashed=b.key in worst) for b in band_scheme.bands]


def condition_label(value: str | None) -> str:
    for entry in SIDEWALK_CONDITIONS:
        if entry.key == value:
            return entry.label
    return UNRATED.label if value is None else value.capitalize()


def status_label(value: str | None) -> str:
    for entry in LIGHT_STATUSES:
        if entry.key == value:
            return entry.label
    return UNRATED.label if value is None else value.capitalize()
