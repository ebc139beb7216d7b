"""Estimate arithmetic, hand-computed to the cent (pure functions: no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.costing import defaults
from app.costing.arithmetic import compound_bps, round_half_up
from app.costing.estimate import (
    CatalogSnapshot,
    CostingError,
    LightAsset,
    Override,
    PavementAsset,
    RampAsset,
    SidewalkAsset,
    TreatmentRule,
    estimate,
    select_treatment,
)

OVERLAY = TreatmentRule("pavement", "overlay", "2\" mill & overlay", "sq_yd", 8282, min_pci=22, max_pci=46)


def catalog(*treatments: TreatmentRule, base_year: int = 2020, de: int = 1000, cont: int = 2000,
            esc: int = 300) -> CatalogSnapshot:
    return CatalogSnapshot(version_id=7, version_number=3, base_year=base_year, design_engineering_bps=de,
                           contingency_bps=cont, escalation_bps=esc, lane_width_mm=3658,
                           class_widths_mm=defaults.CLASS_WIDTHS_MM, treatments=treatments or (OVERLAY,))


def test_one_segment_with_markups_escalation_and_range_to_the_cent() -> None:
    # 100 yd × 10 yd = 1,000.00 sq yd at $82.82 = $82,820.00
    segment = PavementAsset(id=1, length_m=91.44, width_m=9.144, pci=30)
    result = estimate([segment], catalog(), scheduled_year=2022)

    [line] = result.lines
    assert (line.asset_ids, line.quantity, line.unit) == ([1], Decimal("1000.00"), "sq_yd")
    assert line.subtotal_cents == 8_282_000
    assert result.construction_cents == 8_282_000
    assert result.design_engineering_cents == 828_200  # 10 %
    assert result.contingency_cents == 1_656_400  # 20 %
    # (8,282,000 + 828,200 + 1,656,400) × 1.03² = 11,422,285.94 → escalation 655,685.94 → 655,686
    assert result.escalation_cents == 655_686
    assert result.total_cents == 11_422_286
    # low: line × 0.85 = 7,039,700 → +10 % +20 % = 9,151,610 × 1.0609 = 9,708,943.049
    assert result.low_cents == 9_708_943
    # high: line × 1.25 = 10,352,500 → 13,458,250 × 1.0609 = 14,277,857.425
    assert result.high_cents == 14_277_857
    assert (result.catalog_version_id, result.catalog_version_number) == (7, 3)
    assert result.final_cents == result.total_cents


def test_half_a_cent_rounds_up_once_per_line() -> None:
    # Somerville segment 180: 1,413 ft × 26.5 ft = 4,160.50 sq yd × $19.95 = $83,001.975 → $83,001.98
    patching = TreatmentRule("pavement", "patching", "Patching", "sq_yd", 1995, min_pci=46, max_pci=68)
    segment = PavementAsset(id=180, length_m=1413 * 0.3048, width_m=26.5 * 0.3048, pci=50)
    result = estimate([segment], catalog(patching, de=0, cont=0, esc=0), scheduled_year=2020)
    assert result.lines[0].quantity == Decimal("4160.50")
    assert result.total_cents == 8_300_198


def test_segments_with_one_treatment_share_a_line() -> None:
    a = PavementAsset(id=1, length_m=91.44, width_m=9.144, pci=30)
    b = PavementAsset(id=2, length_m=45.72, width_m=9.144, pci=40)
    result = estimate([a, b], catalog(de=0, cont=0, esc=0), scheduled_year=2020)
    [line] = result.lines
    assert (line.asset_ids, line.quantity, line.subtotal_cents) == ([1, 2], Decimal("1500.00"), 12_423_000)


def test_missing_width_uses_lanes_then_class_default_and_says_so() -> None:
    by_lanes = PavementAsset(id=1, length_m=100, lanes=2, pci=30)  # 2 × 3.658 m → 731.6 m² = 874.99 sq yd
    by_class = PavementAsset(id=2, length_m=91.44, functional_class="local", pci=30)  # 8.077 m default
    result = estimate([by_lanes, by_class], catalog(de=0, cont=0, esc=0), scheduled_year=2020)
    assert [a.asset_id for a in result.assumptions] == [1, 2]
    assert "2 lanes" in result.assumptions[0].text
    assert "local" in result.assumptions[1].text
    # 91.44 × 8.077 = 738.56088 m² = 883.31 sq yd; 874.99 + 883.31 = 1,758.30 sq yd
    assert result.lines[0].quantity == Decimal("1758.30")
    assert result.total_cents == round_half_up(Decimal("1758.30") * 8282)


def test_sidewalks_ramps_and_lights_by_condition() -> None:
    snapshot = catalog(*defaults.TREATMENTS, de=0, cont=0, esc=0, base_year=2015)
    assets = [
        SidewalkAsset(id=1, length_m=30.48, is_gap=True),  # 100.00 linear ft × $45
        SidewalkAsset(id=2, length_m=10, condition="Poor"),  # 10 m × 1.524 m default = 164.04 sq ft × $10
        RampAsset(id=3, condition="poor"),  # $3,000
        LightAsset(id=4, status="out", lamp_type="HPS"),  # new pole $6,000
        LightAsset(id=5, status="working", lamp_type="HPS"),  # LED retrofit $450
        LightAsset(id=6, status="working", lamp_type="LED"),  # nothing to do
        SidewalkAsset(id=7, length_m=10, condition="good"),  # nothing to do
    ]
    result = estimate(assets, snapshot, scheduled_year=2015)
    amounts = {(line.treatment_key, tuple(line.asset_ids)): (str(line.quantity), line.subtotal_cents)
               for line in result.lines}
    assert amounts == {
        ("new_sidewalk", (1,)): ("100.00", 450_000),
        ("sidewalk_repair", (2,)): ("164.04", 164_040),
        ("curb_ramp", (3,)): ("1.00", 300_000),
        ("new_pole", (4,)): ("1.00", 600_000),
        ("led_retrofit", (5,)): ("1.00", 45_000),
    }
    assert [(u.layer, u.asset_id) for u in result.unpriced] == [("streetlight", 6), ("sidewalk", 7)]
    assert result.total_cents == 1_559_040


def test_class_specific_rows_win_and_pci_bounds_are_half_open() -> None:
    rows = defaults.TREATMENTS
    assert select_treatment(PavementAsset(id=1, length_m=1, functional_class="arterial", pci=30), rows).key \
        == "mill_overlay_3in_arterial"
    assert select_treatment(PavementAsset(id=1, length_m=1, functional_class="local", pci=30), rows).key \
        == "mill_overlay_2in"
    assert select_treatment(PavementAsset(id=1, length_m=1, pci=46), rows).key == "patching"
    assert select_treatment(PavementAsset(id=1, length_m=1, pci=45.99), rows).key == "mill_overlay_2in"
    assert select_treatment(PavementAsset(id=1, length_m=1, pci=100), rows).key == "do_nothing"
    assert select_treatment(PavementAsset(id=1, length_m=1, pci=None), rows) is None


def test_escalation_compounds_annually() -> None:
    assert compound_bps(1_000_000, 300, 1) == 30_000
    assert compound_bps(1_000_000, 300, 3) == 92_727  # 1.03³ = 1.092727
    assert compound_bps(1_000_000, 300, 0) == 0


def test_override_needs_a_reason_and_a_sane_amount() -> None:
    segment = [PavementAsset(id=1, length_m=91.44, width_m=9.144, pci=30)]
    result = estimate(segment, catalog(), scheduled_year=2020, override=Override(9_000_000, "  Bid came in lower "))
    assert result.final_cents == 9_000_000
    assert result.total_cents == 10_766_600  # the computed estimate stays beside the override
    assert result.override and result.override.reason == "Bid came in lower"
    for bad, field in ((Override(9_000_000, " "), "override_reason"), (Override(-5, "why"), "override_amount"),
                       (Override(0, "why"), "override_amount"),
                       (Override(10**15, "why"), "override_amount"),
                       (Override(10_766_600 * 11, "typo"), "override_amount")):
        with pytest.raises(CostingError) as error:
            estimate(segment, catalog(), scheduled_year=2020, override=bad)
        assert error.value.field == field


def test_scheduled_year_before_the_base_year_is_refused() -> None:
    with pytest.raises(CostingError, match="before the catalog's base year"):
        estimate([PavementAsset(id=1, length_m=10, width_m=5, pci=30)], catalog(), scheduled_year=2019)


def test_impossible_lengths_are_refused() -> None:
    with pytest.raises(CostingError, match="impossible length"):
        estimate([PavementAsset(id=1, length_m=-10, width_m=5, pci=30)], catalog(), scheduled_year=2020)
