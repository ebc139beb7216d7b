"""The network's needs (the backlog today): every rated segment's treatment and cost.

Each segment is priced exactly as a one-segment proposal would be (``app.costing.estimate``: the
catalog's decision rules by PCI band and functional class, take-off, one rounding per line,
design/engineering and contingency markups, escalation to the year priced), so the backlog is the sum
of per-segment estimates, in integer cents. ``segment_cost`` repeats that arithmetic for one segment
and one treatment without building an ``Estimate`` (the simulation prices thousands a year); a test
checks it against ``estimate`` for every treatment.

Segments whose treatment costs nothing ("do nothing") are counted but add nothing; segments without
a PCI are listed as unrated; segments the catalog has no rule for are listed as unpriced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np

from app.costing.arithmetic import BPS, apply_bps, compound_bps, round_half_up
from app.costing.estimate import (
    MAX_ESCALATION_YEARS,
    CatalogSnapshot,
    CostingError,
    PavementAsset,
    TreatmentRule,
    select_treatment,
    take_off,
)
from app.i18n import gettext as _
from app.layers.bands import BandScheme
from app.pavement_plan.curves import class_label

OUTSIDE = "Outside districts"


@dataclass(frozen=True)
class Segment:
    """A pavement segment as the plan needs it."""

    asset: PavementAsset
    district: str | None
    street: str | None = None

    @property
    def id(self) -> int:
        return self.asset.id

    @property
    def functional_class(self) -> str:
        return (self.asset.functional_class or "local").lower()


def check_year(catalog: CatalogSnapshot, year: int) -> None:
    if year < catalog.base_year:
        raise CostingError(_("The scheduled year {year} is before the catalog's base year {base}.").format(
            year=year, base=catalog.base_year), field="scheduled_year")
    if year - catalog.base_year > MAX_ESCALATION_YEARS:
        raise CostingError(_("The scheduled year {year} is too far ahead.").format(year=year), field="scheduled_year")


class Pricer:
    """Per-segment costs by treatment and year, remembered: a segment's cost before escalation depends
    only on its treatment (quantities do not change with PCI), and escalation only on the year. The
    arithmetic is ``estimate``'s, on integers (a test checks it against ``estimate``)."""

    def __init__(self, catalog: CatalogSnapshot) -> None:
        self.catalog = catalog
        self.rules = tuple(t for t in catalog.treatments if t.layer_kind == "pavement")
        self.index = {r.key: k for k, r in enumerate(self.rules)}
        self._before: dict[tuple[int, int], int] = {}
        self._growth: dict[int, tuple[int, int]] = {}

    def treatment(self, segment: Segment, pci: float) -> TreatmentRule | None:
        asset = segment.asset
        return select_treatment(PavementAsset(asset.id, asset.length_m, asset.functional_class, asset.width_m,
                                              asset.lanes, pci), self.rules)

    def rule_indices(self, classes: Sequence[str | None], pci: np.ndarray) -> np.ndarray:
        """``select_treatment`` for many segments at once: each one's rule index (-1: none). ``classes``
        are the segments' class tokens (``class_token``)."""
        out = np.full(len(pci), -1, dtype=np.int64)
        tokens = np.array(classes, dtype=object)
        for token in set(classes):
            where = np.flatnonzero(tokens == token)
            values = pci[where]
            general = np.full(len(where), -1, dtype=np.int64)
            specific = np.full(len(where), -1, dtype=np.int64)
            for k in range(len(self.rules) - 1, -1, -1):  # backwards: the first matching row wins
                rule = self.rules[k]
                own = class_token(rule.functional_class)
                if own is not None and own != token:
                    continue
                match = np.ones(len(where), dtype=bool)
                if rule.min_pci is not None:
                    match &= values >= rule.min_pci
                if rule.max_pci is not None:
                    match &= values < rule.max_pci
                (specific if own is not None else general)[match] = k
            out[where] = np.where(specific >= 0, specific, general)
        return out

    def before(self, segment: Segment, index: int) -> int:
        """The one-segment estimate before escalation: construction, design/engineering, contingency."""
        key = (segment.id, index)
        found = self._before.get(key)
        if found is None:
            rule = self.rules[index]
            if rule.unit_cost_cents == 0:
                found = 0
            else:
                construction = _rounded(quantity_hundredths(segment.asset, rule, self.catalog)
                                        * rule.unit_cost_cents, 100)
                found = (construction + _rounded(construction * self.catalog.design_engineering_bps, BPS)
                         + _rounded(construction * self.catalog.contingency_bps, BPS))
            self._before[key] = found
        return found

    def cost_at(self, segment: Segment, index: int, year: int) -> int:
        """The total of a one-segment estimate with rule ``index`` for work in ``year`` (cents)."""
        before = self.before(segment, index)
        grow, over = self.growth(year)
        return before + _rounded(before * grow, over) if grow else before

    def growth(self, year: int) -> tuple[int, int]:
        """Escalation to ``year`` as a fraction: the increase is ``before × grow / over`` (rounded once)."""
        found = self._growth.get(year)
        if found is None:
            years, bps = year - self.catalog.base_year, self.catalog.escalation_bps
            found = self._growth[year] = ((BPS + bps) ** years - BPS ** years, BPS ** years) \
                if years > 0 and bps else (0, 1)
        return found

    def cost(self, segment: Segment, rule: TreatmentRule, year: int) -> int:
        return self.cost_at(segment, self.index[rule.key], year)


def class_token(value: str | None) -> str | None:
    """A functional class as the catalog's rules compare it (``estimate.select_treatment``)."""
    return value.strip().lower() if value and value.strip() else None


def _rounded(numerator: int, denominator: int) -> int:
    """``round_half_up(numerator / denominator)`` for a positive denominator, on integers."""
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def _ratio(value: float | int) -> tuple[int, int]:
    """A measurement as the exact rational of its shortest decimal representation (``arithmetic.exact``),
    not necessarily reduced."""
    if not isinstance(value, float):
        return int(value), 1
    text = repr(value)
    if "e" in text or "n" in text:  # 1e-05, inf, nan
        return Decimal(text).as_integer_ratio()
    whole, _dot, decimals = text.partition(".")
    return int(whole + decimals), 10 ** len(decimals)


_PER_UNIT = {"sq_yd": (83612736, 100_000_000), "sq_ft": (9290304, 100_000_000)}  # m² per unit


def quantity_hundredths(asset: PavementAsset, rule: TreatmentRule, catalog: CatalogSnapshot) -> int:
    """``take_off``'s quantity in hundredths of the treatment's unit, on integers when the segment has
    its own length and width (``take_off`` itself otherwise: assumed widths, impossible values)."""
    length = asset.length_m
    if rule.unit == "each":
        return 100
    if length is not None and 0 <= length <= 100_000:
        ln, ld = _ratio(length)
        if rule.unit == "linear_ft":
            return _rounded(ln * 10_000 * 100, ld * 3048)
        width = asset.width_m
        if rule.unit in _PER_UNIT and width is not None and 0 < width <= 100_000:
            wn, wd = _ratio(width)
            pn, pd = _PER_UNIT[rule.unit]
            return _rounded(ln * wn * pd * 100, ld * wd * pn)
    return int(take_off(asset, rule, catalog).quantity * 100)


def segment_cost(asset: PavementAsset, rule: TreatmentRule, catalog: CatalogSnapshot, year: int) -> int:
    """The total of a one-segment estimate with this treatment for work in ``year`` (cents)."""
    if rule.unit_cost_cents == 0:
        return 0
    item = take_off(asset, rule, catalog)
    construction = round_half_up(Fraction(item.quantity) * rule.unit_cost_cents)
    before = construction + apply_bps(construction, catalog.design_engineering_bps) + apply_bps(
        construction, catalog.contingency_bps)
    return before + compound_bps(before, catalog.escalation_bps, year - catalog.base_year)


@dataclass
class Group:
    key: str
    label: str
    segments: int = 0
    miles: float = 0.0
    cents: int = 0


@dataclass
class Needs:
    year: int
    catalog_version: int | None
    total_cents: int
    segments: int  # rated segments priced
    needing_work: int  # of which a treatment with a cost
    unrated: int
    unpriced: list[tuple[int, str]]
    by_treatment: list[Group] = field(default_factory=list)
    by_band: list[Group] = field(default_factory=list)
    by_class: list[Group] = field(default_factory=list)
    by_district: list[Group] = field(default_factory=list)
    per_segment: dict[int, tuple[str, int]] = field(default_factory=dict)  # id → (treatment key, cents)


METRES_PER_MILE = 1609.344


def network_needs(segments: Iterable[Segment], catalog: CatalogSnapshot, *, year: int,
                  band_scheme: BandScheme) -> Needs:
    """The backlog: each rated segment priced with its treatment for work in ``year``."""
    check_year(catalog, year)
    pricer = Pricer(catalog)
    groups: dict[str, dict[str, Group]] = {k: {} for k in ("treatment", "band", "class", "district")}
    band_labels = {b.key: _(b.label) for b in band_scheme.bands}
    needs = Needs(year, catalog.version_number, 0, 0, 0, 0, [])
    segments = list(segments)
    rated = [s for s in segments if s.asset.pci is not None]
    needs.unrated = len(segments) - len(rated)
    pcis = np.array([float(s.asset.pci or 0) for s in rated])
    indices = pricer.rule_indices([class_token(s.asset.functional_class) for s in rated], pcis)
    bands_by_pci: dict[float, str] = {}
    for segment, index in zip(rated, indices.tolist(), strict=True):
        pci = float(segment.asset.pci or 0)
        if index < 0:
            needs.unpriced.append((segment.id, _("no treatment in the catalog for PCI {pci:g} ({cls})").format(
                pci=pci, cls=segment.functional_class)))
            continue
        rule = pricer.rules[index]
        cents = pricer.cost_at(segment, index, year)
        needs.segments += 1
        needs.needing_work += cents > 0
        needs.total_cents += cents
        needs.per_segment[segment.id] = (rule.key, cents)
        band = bands_by_pci.get(pci)
        if band is None:
            found = band_scheme.band_for(pci)
            band = bands_by_pci[pci] = found.key if found else "unrated"
        miles = segment.asset.length_m / METRES_PER_MILE
        for kind, key in (("treatment", rule.key), ("band", band), ("class", segment.functional_class),
                          ("district", segment.district or OUTSIDE)):
            group = groups[kind].get(key)
            if group is None:
                label = (rule.name if kind == "treatment" else band_labels.get(key, key) if kind == "band"
                         else class_label(key) if kind == "class" else key)
                group = groups[kind][key] = Group(key, label)
            group.segments += 1
            group.miles += miles
            group.cents += cents
    order = {r.key: i for i, r in enumerate(pricer.rules)}
    needs.by_treatment = sorted(groups["treatment"].values(), key=lambda g: order.get(g.key, 99))
    bands = band_scheme.keys()
    needs.by_band = sorted(groups["band"].values(), key=lambda g: bands.index(g.key) if g.key in bands else 99)
    classes = ("arterial", "collector", "local")
    needs.by_class = sorted(groups["class"].values(),
                            key=lambda g: (classes.index(g.key) if g.key in classes else 9, g.key))
    needs.by_district = sorted(groups["district"].values(), key=lambda g: (g.key == OUTSIDE, g.key))
    return needs
