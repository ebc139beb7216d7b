"""The catalog Groundwork ships with (version 1), in 2015 dollars. Sources: docs/COSTS.md."""

from __future__ import annotations

from app.costing.estimate import TreatmentRule

BASE_YEAR = 2015
DESIGN_ENGINEERING_BPS = 1500  # 15 %
CONTINGENCY_BPS = 2000  # 20 %
ESCALATION_BPS = 300  # 3 % a year
LANE_WIDTH_MM = 3658  # 12 ft
CLASS_WIDTHS_MM = {
    "arterial": 12192,  # 40 ft
    "collector": 10058,  # 33 ft
    "local": 8077,  # 26.5 ft, Somerville's most common local width
    "default": 8077,
    "sidewalk": 1524,  # 5 ft
}
SOURCE = (
    "Pavement: City of Somerville MA pavement management plan, 2015 unit costs per square yard "
    "(BL_SEGMENTS_2015: treatment and extended cost per segment); thresholds fitted to that plan. "
    "Sidewalks, curb ramps and streetlights: indicative Groundwork defaults in 2015 dollars; "
    "replace them with the city's own bid prices (see docs/COSTS.md)."
)


def _pavement(key: str, name: str, dollars_cents: int, low: float | None, high: float | None,
              functional_class: str | None = None) -> TreatmentRule:
    return TreatmentRule("pavement", key, name, "sq_yd", dollars_cents, min_pci=low, max_pci=high,
                         functional_class=functional_class, name_es=SPANISH_NAMES[key])


# The shipped treatments' Spanish names (migration 0015 gives them to databases made before it).
SPANISH_NAMES = {
    "do_nothing": "Sin intervención",
    "crack_seal": "Sellado de grietas",
    "patching": "Bacheo",
    "mill_overlay_2in": "Fresado y repavimentación de 2\" (local)",
    "mill_overlay_3in_arterial": "Fresado y repavimentación de 3\" (arterial)",
    "mill_overlay_3in_collector": "Fresado y repavimentación de 3\" (colectora)",
    "reconstruct": "Reconstrucción (local)",
    "reconstruct_arterial": "Reconstrucción (arterial)",
    "reconstruct_collector": "Reconstrucción (colectora)",
    "new_sidewalk": "Acera nueva de concreto de 5 pies (tramo faltante)",
    "sidewalk_repair": "Reemplazo de losas de acera",
    "curb_ramp": "Rampa de acera ADA (reconstruida o nueva)",
    "led_retrofit": "Cambio a luminaria LED",
    "new_pole": "Poste nuevo con luminaria LED",
}


TREATMENTS: tuple[TreatmentRule, ...] = (
    _pavement("do_nothing", "Do nothing", 0, 88, None),
    _pavement("crack_seal", "Crack seal", 151, 68, 88),
    _pavement("patching", "Pavement patching", 1995, 46, 68),
    _pavement("mill_overlay_2in", "2\" mill & overlay (local)", 8282, 22, 46),
    _pavement("mill_overlay_3in_arterial", "3\" mill & overlay (arterial)", 9824, 22, 46, "arterial"),
    _pavement("mill_overlay_3in_collector", "3\" mill & overlay (collector)", 9824, 22, 46, "collector"),
    _pavement("reconstruct", "Reclaim / reconstruct (local)", 15075, 0, 22),
    _pavement("reconstruct_arterial", "Reclaim / reconstruct (arterial)", 15927, 0, 22, "arterial"),
    _pavement("reconstruct_collector", "Reclaim / reconstruct (collector)", 15927, 0, 22, "collector"),
    TreatmentRule("sidewalk", "new_sidewalk", "New 5 ft concrete sidewalk (gap)", "linear_ft", 4500,
                  conditions=("gap",), name_es=SPANISH_NAMES["new_sidewalk"]),
    TreatmentRule("sidewalk", "sidewalk_repair", "Sidewalk panel replacement", "sq_ft", 1000,
                  conditions=("poor", "very poor", "failed"), name_es=SPANISH_NAMES["sidewalk_repair"]),
    TreatmentRule("ramp", "curb_ramp", "ADA curb ramp (reconstruct or new)", "each", 300000,
                  conditions=("poor", "missing", "non-compliant"), name_es=SPANISH_NAMES["curb_ramp"]),
    TreatmentRule("streetlight", "led_retrofit", "LED fixture retrofit", "each", 45000,
                  conditions=("non_led",), name_es=SPANISH_NAMES["led_retrofit"]),
    TreatmentRule("streetlight", "new_pole", "New pole and LED fixture", "each", 600000,
                  conditions=("out", "reported"), name_es=SPANISH_NAMES["new_pole"]),
)
