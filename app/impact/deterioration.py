"""Pavement deterioration: how PCI falls with the years since a street was last treated.

The curve (PRODUCT.md, *Impact*) is

    PCI(age) = 100 − ρ / ln(α / age)^(1/β)

with ``age`` in years since the last treatment (0 < age < α) and one parameter set per
functional class. PCI is 100 just after treatment, holds up for some years, then falls ever
faster as the surface approaches ``α``; values are clipped to 0–100.

Parameters were fitted to typical network-level curves (arterials fall to "poor" in about 15
years, collectors in about 18, local streets in about 22; each reaches PCI ≈ 30 some 7–10
years later), rounded:

=========== ===== ===== =====
class         ρ     α     β
=========== ===== ===== =====
arterial     43    45   0.66
collector    45    55   0.62
local        48    70   0.61
=========== ===== ===== =====

These are the shipped defaults. Staff edit the city's own curves, or fit them from repeated surveys,
on ``/staff/plan/curves`` (``app.pavement_plan``); every function here takes ``curves=`` (a mapping
of class to ``Curve``) so callers project with the city's current version.

The demo city draws its PCIs from this curve; the impact model projects PCIs with it
(``equivalent_age`` of today's PCI, plus the years of the program, back through ``pci_at_age``).
Pure functions, no I/O; each accepts a number or a numpy array.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Curve:
    """The parameters of one functional class's deterioration curve."""

    rho: float  # scale of the drop
    alpha: float  # years: the asymptote, where the surface would have completely failed
    beta: float  # shape: a smaller β keeps PCI high longer and then drops it faster


CURVES: dict[str, Curve] = {
    "arterial": Curve(rho=43.0, alpha=45.0, beta=0.66),
    "collector": Curve(rho=45.0, alpha=55.0, beta=0.62),
    "local": Curve(rho=48.0, alpha=70.0, beta=0.61),
}
DEFAULT_CLASS = "local"
_TINY = 1e-300  # the curve tends to 100 as age → 0; age 0 itself ("just treated") is exactly 100


Curves = Mapping[str, Curve]


def curve_for(functional_class: str | None, curves: Curves | None = None) -> Curve:
    """The class's curve; unknown or missing classes use the local-street curve."""
    table = curves or CURVES
    return table.get((functional_class or DEFAULT_CLASS).lower(), table.get(DEFAULT_CLASS, CURVES[DEFAULT_CLASS]))


@overload
def pci_at_age(age_years: float, functional_class: str | None = ..., *, curves: Curves | None = ...) -> float: ...
@overload
def pci_at_age(age_years: FloatArray, functional_class: str | None = ...,
               *, curves: Curves | None = ...) -> FloatArray: ...
def pci_at_age(age_years: float | FloatArray, functional_class: str | None = DEFAULT_CLASS,
               *, curves: Curves | None = None) -> float | FloatArray:
    """PCI (0–100) of a surface ``age_years`` after its last treatment."""
    curve = curve_for(functional_class, curves)
    age = np.asarray(age_years, dtype=float)
    if np.any(age < 0):
        raise ValueError("a surface age cannot be negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        log = np.log(curve.alpha / np.maximum(age, _TINY))
        pci = np.where(log > 0, 100.0 - curve.rho / np.power(np.maximum(log, _TINY), 1.0 / curve.beta), 0.0)
    pci = np.where(age == 0, 100.0, np.clip(pci, 0.0, 100.0))
    return float(pci) if pci.ndim == 0 else pci


@overload
def equivalent_age(pci: float, functional_class: str | None = ..., *, curves: Curves | None = ...) -> float: ...
@overload
def equivalent_age(pci: FloatArray, functional_class: str | None = ...,
                   *, curves: Curves | None = ...) -> FloatArray: ...
def equivalent_age(pci: float | FloatArray, functional_class: str | None = DEFAULT_CLASS,
                   *, curves: Curves | None = None) -> float | FloatArray:
    """The age at which the curve reaches ``pci``: the inverse of ``pci_at_age``.

    PCI 100 is age 0; PCI 0 is the age where the curve crosses zero."""
    curve = curve_for(functional_class, curves)
    value = np.asarray(pci, dtype=float)
    if np.any((value < 0) | (value > 100)):
        raise ValueError("PCI must be between 0 and 100")
    drop = np.maximum(100.0 - value, 1e-12)
    with np.errstate(over="ignore"):
        age = curve.alpha / np.exp(np.power(curve.rho / drop, curve.beta))
    age = np.where(value >= 100.0, 0.0, age)
    return float(age) if age.ndim == 0 else age


@overload
def project_pci(pci: float, years: float, functional_class: str | None = ...,
                *, curves: Curves | None = ...) -> float: ...
@overload
def project_pci(pci: FloatArray, years: float, functional_class: str | None = ...,
                *, curves: Curves | None = ...) -> FloatArray: ...
def project_pci(pci: float | FloatArray, years: float, functional_class: str | None = DEFAULT_CLASS,
                *, curves: Curves | None = None) -> float | FloatArray:
    """Today's PCI ``years`` later if nothing is done: along the curve from its equivalent age."""
    if years < 0:
        raise ValueError("cannot project into the past")
    return pci_at_age(equivalent_age(pci, functional_class, curves=curves) + years, functional_class, curves=curves)
