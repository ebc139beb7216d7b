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

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from app.costing.arithmetic import apply_bps, compound_bps, round_half_up
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
    """Per-segment costs by treatment and year, remembered (quantities do not change with PCI)."""

    def __init__(self, catalog: CatalogSnapshot) -> None:
        self.catalog = catalog
        self.rules = tuple(t for t in catalog.treatments if t.layer_kind == "pavement")
        self._costs: dict[tuple[int, str, int], int] = {}

    def treatment(self, segment: Segment, pci: float) -> TreatmentRule | None:
        asset = segment.asset
        return select_treatment(PavementAsset(asset.id, asset.length_m, asset.functional_class, asset.width_m,
                                              asset.lanes, pci), self.rules)

    def cost(self, segment: Segment, rule: TreatmentRule, year: int) -> int:
        key = (segment.id, rule.key, year)
        if key not in self._costs:
            self._costs[key] = segment_cost(segment.asset, rule, self.catalog, year)
        return self._costs[key]


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
    for segment in segments:
        pci = segment.asset.pci
        if pci is None:
            needs.unrated += 1
            continue
        rule = pricer.treatment(segment, pci)
        if rule is None:
            needs.unpriced.append((segment.id, _("no treatment in the catalog for PCI {pci:g} ({cls})").format(
                pci=pci, cls=segment.functional_class)))
            continue
        cents = pricer.cost(segment, rule, year)
        needs.segments += 1
        needs.needing_work += cents > 0
        needs.total_cents += cents
        needs.per_segment[segment.id] = (rule.key, cents)
        found = band_scheme.band_for(pci)
        band = found.key if found else "unrated"
        miles = segment.asset.length_m / METRES_PER_MILE
        for kind, key, label in (("treatment", rule.key, rule.name),
                                 ("band", band, band_labels.get(band, band)),
                                 ("class", segment.functional_class, class_label(segment.functional_class)),
                                 ("district", segment.district or OUTSIDE, segment.district or OUTSIDE)):
            group = groups[kind].setdefault(key, Group(key, label))
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
