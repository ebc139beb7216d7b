"""Deterioration curves per functional class, treatments' effects, and fitting curves to surveys.

A curve is PCI(age) = 100 − ρ / ln(α/age)^(1/β) (``app.impact.deterioration``). A *curve set*
maps each functional class to its curve; a version also says what each treatment does to a
segment's PCI (``Effect``: reset to a PCI, or points added, capped at 100).

Fitting: a pair of observations of the same segment (same source key) at two survey dates, PCI p₁
then p₂ after Δt years, is predicted by the curve as ``project_pci(p₁, Δt)``. For each class we look
for the (ρ, α, β) that minimise Σ (p₂ − predicted)² (``scipy.optimize.least_squares``, bounded,
started from the current curve). A pair whose PCI rose by more than ``TREATED_RISE`` points was
treated between the surveys and says nothing about deterioration, so it is left out (and counted).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.optimize import least_squares

from app.i18n import gettext as _
from app.impact.deterioration import CURVES, Curve, equivalent_age, pci_at_age

CLASSES = ("arterial", "collector", "local")
RHO_RANGE = (1.0, 300.0)
ALPHA_RANGE = (5.0, 200.0)  # years
BETA_RANGE = (0.1, 3.0)
MIN_PCI_AFTER_ONE_YEAR = 50.0
MIN_PAIRS = 10
MIN_YEARS_APART = 0.5
TREATED_RISE = 5.0
PREVIEW_YEARS = 40

CURVES_SOURCE = (
    "Groundwork's defaults (app/impact/deterioration.py): fitted to typical network-level curves — "
    "arterials reach poor in about 15 years, collectors 18, local streets 22.")


@dataclass(frozen=True)
class Effect:
    """What a treatment does: ``reset`` the PCI to ``value``, or ``add`` ``value`` points (capped at 100)."""

    kind: str
    value: float

    def apply(self, pci: float) -> float:
        return float(self.value) if self.kind == "reset" else min(100.0, pci + float(self.value))


DO_NOTHING = Effect("add", 0.0)
RESET = Effect("reset", 100.0)
DEFAULT_EFFECTS: dict[str, Effect] = {
    "do_nothing": DO_NOTHING,
    "crack_seal": Effect("add", 3.0),
    "patching": Effect("add", 10.0),
    "mill_overlay_2in": RESET,
    "mill_overlay_3in_arterial": RESET,
    "mill_overlay_3in_collector": RESET,
    "reconstruct": RESET,
    "reconstruct_arterial": RESET,
    "reconstruct_collector": RESET,
}


def effect_of(key: str, effects: Mapping[str, Effect]) -> Effect:
    """The treatment's effect; a treatment the version does not list resets the PCI to 100."""
    return effects.get(key, RESET)


def class_label(functional_class: str) -> str:
    """A functional class in the viewer's language."""
    labels = {"arterial": _("Arterial"), "collector": _("Collector"), "local": _("Local")}
    return labels.get(functional_class, functional_class)


def class_labels() -> dict[str, str]:
    return {c: class_label(c) for c in CLASSES}


class CurveError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def curve_problems(functional_class: str, curve: Curve) -> list[str]:
    """What is wrong with one class's parameters (empty when they make a plausible curve)."""
    problems = []
    name = class_label(functional_class)
    for label, value, (low, high) in (("ρ", curve.rho, RHO_RANGE), ("α", curve.alpha, ALPHA_RANGE),
                                      ("β", curve.beta, BETA_RANGE)):
        if not (math.isfinite(value) and low <= value <= high):
            problems.append(_("{name}: {label} must be between {low:g} and {high:g}.").format(
                name=name, label=label, low=low, high=high))
    if not problems and pci_at_age(1.0, functional_class, curves={functional_class: curve}) < MIN_PCI_AFTER_ONE_YEAR:
        problems.append(_("{name}: with these values a street would be below PCI {pci:g} one year after treatment; "
                          "check ρ, α and β.").format(name=name, pci=MIN_PCI_AFTER_ONE_YEAR))
    return problems


def effect_problems(key: str, effect: Effect) -> list[str]:
    if effect.kind not in ("reset", "add"):
        return [_("{key}: the effect must be “reset” or “add”.").format(key=key)]
    if not (math.isfinite(effect.value) and 0 <= effect.value <= 100):
        return [_("{key}: the effect must be between 0 and 100 PCI points.").format(key=key)]
    return []


def validate(curves: Mapping[str, Curve], effects: Mapping[str, Effect]) -> None:
    """Raise ``CurveError`` listing every problem; every class must have a curve."""
    problems = [_("Give a curve for {name} streets.").format(name=class_label(c)) for c in CLASSES if c not in curves]
    for functional_class, curve in curves.items():
        problems.extend(curve_problems(functional_class, curve))
    for key, effect in effects.items():
        problems.extend(effect_problems(key, effect))
    if problems:
        raise CurveError(problems)


def preview(curves: Mapping[str, Curve], years: int = PREVIEW_YEARS) -> dict[str, list[tuple[float, float]]]:
    """(age, PCI) points of each class's curve, one a year, for the preview chart."""
    ages = np.arange(0, years + 1, dtype=float)
    return {c: [(float(a), float(p)) for a, p in zip(ages, pci_at_age(ages, c, curves=curves), strict=True)]
            for c in CLASSES if c in curves}


# -- fitting ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pair:
    functional_class: str
    pci_before: float
    pci_after: float
    years: float


@dataclass(frozen=True)
class ClassFit:
    functional_class: str
    pairs: int
    curve: Curve | None  # None: too few pairs
    rmse: float | None  # PCI points
    r_squared: float | None
    message: str

    @property
    def fitted(self) -> bool:
        return self.curve is not None


def fit_class(functional_class: str, pairs: list[Pair], start: Curve, *, min_pairs: int = MIN_PAIRS) -> ClassFit:
    """Least-squares (ρ, α, β) for one class from its pairs; refuses fewer than ``min_pairs``."""
    name = class_label(functional_class)
    if len(pairs) < min_pairs:
        return ClassFit(functional_class, len(pairs), None, None, None, _(
            "{name}: {count} pairs of observations; at least {least} are needed to fit a curve, "
            "so the current curve stays.").format(name=name, count=len(pairs), least=min_pairs))
    before = np.array([p.pci_before for p in pairs])
    after = np.array([p.pci_after for p in pairs])
    years = np.array([p.years for p in pairs])

    def residuals(x: np.ndarray) -> np.ndarray:
        return _project(before, years, {functional_class: Curve(*map(float, x))}, functional_class) - after

    x0 = np.clip([start.rho, start.alpha, start.beta], [RHO_RANGE[0], ALPHA_RANGE[0], BETA_RANGE[0]],
                 [RHO_RANGE[1], ALPHA_RANGE[1], BETA_RANGE[1]])
    solution = least_squares(residuals, x0, bounds=([RHO_RANGE[0], ALPHA_RANGE[0], BETA_RANGE[0]],
                                                    [RHO_RANGE[1], ALPHA_RANGE[1], BETA_RANGE[1]]),
                             x_scale="jac", max_nfev=2000)
    curve = Curve(*(round(float(v), 4) for v in solution.x))
    error = residuals(np.array([curve.rho, curve.alpha, curve.beta]))
    rmse = float(np.sqrt(np.mean(error ** 2)))
    spread = float(np.sum((after - after.mean()) ** 2))
    r_squared = 1.0 - float(np.sum(error ** 2)) / spread if spread > 0 else None
    return ClassFit(functional_class, len(pairs), curve, rmse, r_squared, _(
        "{name}: fitted to {count} pairs; typical error {rmse:.1f} PCI points.").format(
        name=name, count=len(pairs), rmse=rmse))


def _project(before: np.ndarray, years: np.ndarray, curves: Mapping[str, Curve], functional_class: str) -> np.ndarray:
    ages = equivalent_age(before, functional_class, curves=curves) + years
    return np.asarray(pci_at_age(ages, functional_class, curves=curves))


@dataclass(frozen=True)
class Observation:
    source_id: str
    functional_class: str
    survey_date: date
    pci: float


@dataclass(frozen=True)
class Pairing:
    pairs: list[Pair]
    treated: int  # pairs left out because the PCI rose (treated between the surveys)
    segments: int  # segments observed on at least two dates


def pairs_from(observations: Iterable[Observation]) -> Pairing:
    """Consecutive observations of each source key, at least ``MIN_YEARS_APART`` apart, as pairs."""
    by_key: dict[str, dict[date, Observation]] = {}
    for item in observations:
        by_key.setdefault(item.source_id, {})[item.survey_date] = item
    pairs: list[Pair] = []
    treated = segments = 0
    for dated in by_key.values():
        ordered = [dated[d] for d in sorted(dated)]
        if len(ordered) >= 2:
            segments += 1
        for first, second in zip(ordered, ordered[1:], strict=False):
            years = (second.survey_date - first.survey_date).days / 365.25
            if years < MIN_YEARS_APART:
                continue
            if second.pci > first.pci + TREATED_RISE:
                treated += 1
                continue
            pairs.append(Pair((second.functional_class or "local").lower(), first.pci, second.pci, years))
    return Pairing(pairs, treated, segments)


def fit(pairs: Iterable[Pair], current: Mapping[str, Curve], *, min_pairs: int = MIN_PAIRS) -> list[ClassFit]:
    """One ``ClassFit`` per class, fitted where there are enough pairs."""
    by_class: dict[str, list[Pair]] = {c: [] for c in CLASSES}
    for pair in pairs:
        by_class.setdefault(pair.functional_class, []).append(pair)
    return [fit_class(c, by_class[c], current.get(c, CURVES.get(c, CURVES["local"])), min_pairs=min_pairs)
            for c in CLASSES]
