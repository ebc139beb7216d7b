"""Pavement segments: each street was last resurfaced some years ago, and its PCI follows the
deterioration curve of its functional class (``app.impact.deterioration``) plus survey noise."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from shapely.geometry import MultiLineString

from app.demo.city import AS_OF, CityPlan, to_wgs84
from app.demo.streets import Network
from app.impact.deterioration import pci_at_age
from app.layers.store import FeatureRecord

# Typical years between treatments by class: busier streets are resurfaced more often.
_CYCLE_YEARS = {"arterial": 22.0, "collector": 26.0, "local": 32.0}


def surface_ages(plan: CityPlan, network: Network) -> np.ndarray:
    """Years since each segment's last treatment: a street is resurfaced as a whole (one age per
    street name), a little older where people are poorer, and segments vary around it."""
    rng = np.random.default_rng([plan.seed, 2])
    names = sorted({s.name for s in network.segments})
    street_age = dict(zip(names, rng.beta(1.5, 1.9, len(names)).tolist(), strict=True))
    mid = np.array([s.line.interpolate(0.5, normalized=True).coords[0] for s in network.segments])
    poverty = plan.poverty(mid[:, 0], mid[:, 1])
    cycle = np.array([_CYCLE_YEARS[s.functional_class] for s in network.segments])
    base = np.array([street_age[s.name] for s in network.segments]) * cycle
    ages = base + 14.0 * (poverty - 0.1) + rng.normal(0.0, 1.5, len(base))
    return np.clip(ages, 0.0, 40.0)


def pavement_records(plan: CityPlan, network: Network) -> list[FeatureRecord]:
    rng = np.random.default_rng([plan.seed, 3])
    ages = surface_ages(plan, network)
    classes = np.array([s.functional_class for s in network.segments])
    pci = np.zeros(len(ages))
    for functional_class in ("arterial", "collector", "local"):
        mask = classes == functional_class
        pci[mask] = pci_at_age(ages[mask], functional_class)
    pci = np.clip(np.round(pci + rng.normal(0.0, 4.0, len(pci))), 0, 100)
    survey_days = rng.integers(0, 730, len(pci))
    geometries = to_wgs84(plan, [s.line for s in network.segments])
    records = []
    for i, (segment, line) in enumerate(zip(network.segments, geometries, strict=True)):
        surveyed = AS_OF - timedelta(days=int(survey_days[i]))
        age = round(float(ages[i]), 1)
        records.append(FeatureRecord(
            MultiLineString([line]),
            {"street_name": segment.name, "from_street": segment.from_street, "to_street": segment.to_street,
             "functional_class": segment.functional_class, "width_m": segment.width_m, "lanes": segment.lanes,
             "pci": float(pci[i]), "survey_date": surveyed},
            {"SEG_ID": f"PAV-{i + 1:06d}", "SURFACE": "Asphalt", "AGE_YEARS": age,
             "LAST_TREATED": AS_OF.year - round(age)},
            source_id=f"PAV-{i + 1:06d}"))
    return records
