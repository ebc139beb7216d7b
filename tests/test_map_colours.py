"""The map's colours for colour-blind readers: neighbouring condition bands stay apart when simulated
for deuteranopia and protanopia, and proposal categories never look like a condition."""

from __future__ import annotations

import pytest

from app.layers.bands import SCHEMES
from app.layers.colourblind import MIN_ADJACENT, MIN_FROM_CONDITIONS, closest_adjacent, contrast_with_white, distance
from app.layers.legend import LIGHT_STATUSES, SIDEWALK_CONDITIONS, SIDEWALK_GAP
from app.proposals.public import PALETTE


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_adjacent_pavement_bands_stay_apart_for_colour_blind_readers(scheme):
    gap, a, b, vision = closest_adjacent([band.colour for band in SCHEMES[scheme].bands])
    assert gap >= MIN_ADJACENT, f"{a} and {b} are only ΔE {gap:.1f} apart for {vision or 'typical vision'}"


def test_adjacent_sidewalk_conditions_stay_apart_for_colour_blind_readers():
    gap, a, b, vision = closest_adjacent([e.colour for e in SIDEWALK_CONDITIONS])
    assert gap >= MIN_ADJACENT, f"{a} and {b} are only ΔE {gap:.1f} apart for {vision or 'typical vision'}"


def test_the_old_ramp_failed_the_check():
    """Fair (#d9ef8b) and Poor (#fee08b) were ΔE 1.3 apart for a deuteranope: the same yellow."""
    assert distance("#d9ef8b", "#fee08b", "deuteranopia") < 2


def test_proposal_categories_are_apart_from_every_condition_colour_and_carry_white_text():
    conditions = {band.colour for scheme in SCHEMES.values() for band in scheme.bands}
    conditions |= {e.colour for e in (*SIDEWALK_CONDITIONS, SIDEWALK_GAP, *LIGHT_STATUSES)}
    assert len(set(PALETTE)) == len(PALETTE)
    for colour in PALETTE:
        nearest = min(conditions, key=lambda c: distance(colour, c))
        assert distance(colour, nearest) >= MIN_FROM_CONDITIONS, f"{colour} looks like the condition {nearest}"
        assert contrast_with_white(colour) >= 4.5, colour
