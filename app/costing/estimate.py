"""Pure estimate arithmetic: take-off, treatment selection and the priced breakdown.

Everything here takes plain dataclasses and returns plain dataclasses, so it is tested without
a database. The rules (docs/COSTS.md):

1. **Take-off** per asset, by the unit of the treatment it gets: square yards or square feet =
   length × width; linear feet = length; each = 1. Metres convert exactly (1 ft = 0.3048 m).
   A quantity is rounded half up to 0.01 of its unit. A pavement segment without a width uses
   lanes × the catalog's lane width, else the catalog's default width for its functional class;
   a sidewalk without a width uses the catalog's default sidewalk width. Every such assumption
   is reported with the asset.
2. **Selection**: pavement by ``min_pci <= PCI < max_pci``; a row for the segment's functional
   class wins over a row for any class. Sidewalks, ramps and lights by condition token (see
   ``condition_token``). First matching row in catalog order.
3. **Lines**: assets are grouped by treatment; a line's quantity is the sum of its assets'
   quantities; its subtotal is quantity × unit cost, rounded half up to the cent once per line.
4. **Markups** on construction (Σ lines): design/engineering and contingency, each a share of
   construction rounded once; escalation compounds annually on construction + markups from the
   catalog's base year to the scheduled year, rounded once.
5. **Range**: each line's low/high factor applies to its subtotal (rounded once per line), then
   the same markups and escalation.
6. **Override**: a positive amount with a reason; it replaces the total shown but the computed
   breakdown is kept beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from app.costing.arithmetic import BPS, apply_bps, compound_bps, exact, quantity, round_half_up
from app.i18n import gettext as _

SQ_YD_M2 = Fraction(83612736, 100_000_000)  # (0.9144 m)²
SQ_FT_M2 = Fraction(9290304, 100_000_000)  # (0.3048 m)²
FT_M = Fraction(3048, 10_000)
MAX_OVERRIDE_CENTS = 100_000_000_000  # $1 billion: more than any one project
OVERRIDE_RATIO = 10  # an override more than 10× (or under 1/10) the computed estimate is refused
MAX_ESCALATION_YEARS = 50
LIGHT_REPAIR_STATUSES = ("out", "reported")


class CostingError(ValueError):
    """Input a person can fix; the message names what is wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PavementAsset:
    id: int
    length_m: float
    functional_class: str = "local"
    width_m: float | None = None
    lanes: int | None = None
    pci: float | None = None
    layer: str = "pavement"


@dataclass(frozen=True)
class SidewalkAsset:
    id: int
    length_m: float
    width_m: float | None = None
    condition: str | None = None
    is_gap: bool = False
    layer: str = "sidewalk"


@dataclass(frozen=True)
class RampAsset:
    id: int
    condition: str | None = None
    layer: str = "ramp"


@dataclass(frozen=True)
class LightAsset:
    id: int
    status: str = "working"
    lamp_type: str | None = None
    layer: str = "streetlight"


Asset = PavementAsset | SidewalkAsset | RampAsset | LightAsset


@dataclass(frozen=True)
class TreatmentRule:
    """One catalog row, as plain values."""

    layer_kind: str
    key: str
    name: str
    unit: str
    unit_cost_cents: int
    min_pci: float | None = None
    max_pci: float | None = None
    functional_class: str | None = None
    conditions: tuple[str, ...] = ()
    low_bps: int = -1500
    high_bps: int = 2500
    name_es: str | None = None  # the Spanish name; shown to Spanish viewers (app.i18n.localized)


@dataclass(frozen=True)
class CatalogSnapshot:
    """A catalog version's numbers, detached from the database."""

    version_id: int | None
    version_number: int | None
    base_year: int
    design_engineering_bps: int
    contingency_bps: int
    escalation_bps: int
    lane_width_mm: int
    class_widths_mm: Mapping[str, int]
    treatments: tuple[TreatmentRule, ...]


@dataclass(frozen=True)
class Override:
    amount_cents: int
    reason: str


@dataclass(frozen=True)
class TakeOff:
    """One asset's quantity under its treatment."""

    layer: str
    asset_id: int
    treatment: TreatmentRule
    quantity: Decimal
    assumption: str | None = None


@dataclass
class EstimateLine:
    layer: str
    treatment_key: str
    treatment_name: str
    unit: str
    unit_cost_cents: int
    asset_ids: list[int] = field(default_factory=list)
    quantity: Decimal = Decimal("0.00")
    subtotal_cents: int = 0
    low_cents: int = 0
    high_cents: int = 0


@dataclass(frozen=True)
class Unpriced:
    layer: str
    asset_id: int
    reason: str


@dataclass(frozen=True)
class Assumption:
    layer: str
    asset_id: int
    text: str


@dataclass(frozen=True)
class Estimate:
    catalog_version_id: int | None
    catalog_version_number: int | None
    base_year: int
    scheduled_year: int
    lines: list[EstimateLine]
    construction_cents: int
    design_engineering_cents: int
    contingency_cents: int
    escalation_cents: int
    total_cents: int
    low_cents: int
    high_cents: int
    design_engineering_bps: int
    contingency_bps: int
    escalation_bps: int
    assumptions: list[Assumption]
    unpriced: list[Unpriced]
    override: Override | None = None

    @property
    def final_cents(self) -> int:
        """What the estimate stands at: the override if there is one, else the computed total."""
        return self.override.amount_cents if self.override else self.total_cents

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (quantities as strings), for storing beside a proposal or returning from the API."""
        data = asdict(self)
        for line in data["lines"]:
            line["quantity"] = str(line["quantity"])
        data["final_cents"] = self.final_cents
        return data


def condition_token(asset: Asset) -> str | None:
    """What a sidewalk, ramp or light row's ``conditions`` are matched against."""
    if isinstance(asset, SidewalkAsset):
        return "gap" if asset.is_gap else _token(asset.condition)
    if isinstance(asset, RampAsset):
        return _token(asset.condition)
    if isinstance(asset, LightAsset):
        status = _token(asset.status)
        if status in LIGHT_REPAIR_STATUSES:
            return status
        if status == "working" and _token(asset.lamp_type) != "led":
            return "non_led"
    return None


def _token(value: str | None) -> str | None:
    return value.strip().lower() if value and value.strip() else None


def select_treatment(asset: Asset, treatments: Iterable[TreatmentRule]) -> TreatmentRule | None:
    """The catalog row that treats this asset, or None."""
    rows = [t for t in treatments if t.layer_kind == asset.layer]
    if isinstance(asset, PavementAsset):
        if asset.pci is None:
            return None
        matching = [t for t in rows if (t.min_pci is None or asset.pci >= t.min_pci)
                    and (t.max_pci is None or asset.pci < t.max_pci)]
        own_class = _token(asset.functional_class)
        specific = [t for t in matching if t.functional_class and _token(t.functional_class) == own_class]
        general = [t for t in matching if not t.functional_class]
        candidates = specific or general
        return candidates[0] if candidates else None
    token = condition_token(asset)
    if token is None:
        return None
    return next((t for t in rows if token in t.conditions), None)


def _unpriced_reason(asset: Asset) -> str:
    if isinstance(asset, PavementAsset) and asset.pci is None:
        return "no PCI recorded, so no treatment can be chosen"
    if isinstance(asset, PavementAsset):
        return f"no treatment in the catalog for PCI {asset.pci:g} ({asset.functional_class})"
    if isinstance(asset, LightAsset) and condition_token(asset) is None:
        return "a working LED light needs no work"
    token = condition_token(asset)
    if token is None:
        return "no condition recorded"
    return f"no treatment in the catalog for condition “{token}”"


def take_off(asset: Asset, treatment: TreatmentRule, catalog: CatalogSnapshot) -> TakeOff:
    """The asset's quantity in the treatment's unit, with any width assumption made."""
    unit = treatment.unit
    if unit == "each":
        return TakeOff(asset.layer, asset.id, treatment, Decimal("1.00"))
    if not isinstance(asset, PavementAsset | SidewalkAsset):
        raise CostingError(f"{treatment.name} is priced per {unit}, which a {asset.layer} cannot be measured in")
    length = _measure(asset.length_m, "length", asset)
    if unit == "linear_ft":
        return TakeOff(asset.layer, asset.id, treatment, quantity(length / FT_M))
    width, assumption = _width(asset, catalog)
    area = length * width
    per_unit = {"sq_yd": SQ_YD_M2, "sq_ft": SQ_FT_M2}.get(unit)
    if per_unit is None:
        raise CostingError(f"unknown unit {unit!r} on treatment {treatment.key}")
    return TakeOff(asset.layer, asset.id, treatment, quantity(area / per_unit), assumption)


def _measure(value: float | None, what: str, asset: Asset) -> Fraction:
    if value is None or value < 0 or value > 100_000:
        raise CostingError(f"{asset.layer} {asset.id} has an impossible {what} ({value} m)")
    return exact(value)


def _width(asset: PavementAsset | SidewalkAsset, catalog: CatalogSnapshot) -> tuple[Fraction, str | None]:
    if asset.width_m is not None and asset.width_m > 0:
        return _measure(asset.width_m, "width", asset), None
    if isinstance(asset, PavementAsset):
        if asset.lanes:
            width = Fraction(asset.lanes * catalog.lane_width_mm, 1000)
            return width, f"no width: {asset.lanes} lanes × {_metres(catalog.lane_width_mm)} = {_metres(width * 1000)}"
        key = _token(asset.functional_class) or "local"
        default = catalog.class_widths_mm.get(key) or catalog.class_widths_mm.get("default")
        label = f"default width for a {key} street"
    else:
        default = catalog.class_widths_mm.get("sidewalk")
        label = "default sidewalk width"
    if not default:
        raise CostingError(f"{asset.layer} {asset.id} has no width and the catalog has no {label}")
    return Fraction(int(default), 1000), f"no width: {label}, {_metres(default)}"


def _metres(mm: int | Fraction) -> str:
    return f"{float(Fraction(mm) / 1000):g} m"


def estimate(assets: Sequence[Asset], catalog: CatalogSnapshot, *, scheduled_year: int,
             override: Override | None = None) -> Estimate:
    """Price the assets with the catalog for work in ``scheduled_year``."""
    years = scheduled_year - catalog.base_year
    if years < 0:
        raise CostingError(_("The scheduled year {year} is before the catalog's base year {base}.").format(
            year=scheduled_year, base=catalog.base_year), field="scheduled_year")
    if years > MAX_ESCALATION_YEARS:
        raise CostingError(_("The scheduled year {year} is too far ahead.").format(year=scheduled_year),
                           field="scheduled_year")
    lines: dict[tuple[str, str], EstimateLine] = {}
    assumptions: list[Assumption] = []
    unpriced: list[Unpriced] = []
    for asset in assets:
        treatment = select_treatment(asset, catalog.treatments)
        if treatment is None:
            unpriced.append(Unpriced(asset.layer, asset.id, _unpriced_reason(asset)))
            continue
        item = take_off(asset, treatment, catalog)
        if item.assumption:
            assumptions.append(Assumption(asset.layer, asset.id, item.assumption))
        line = lines.setdefault((asset.layer, treatment.key), EstimateLine(
            asset.layer, treatment.key, treatment.name, treatment.unit, treatment.unit_cost_cents))
        line.asset_ids.append(asset.id)
        line.quantity += item.quantity
    rules = {(t.layer_kind, t.key): t for t in catalog.treatments}
    for key, line in lines.items():
        cost = Fraction(line.quantity) * line.unit_cost_cents
        line.subtotal_cents = round_half_up(cost)
        line.low_cents = round_half_up(cost * Fraction(BPS + rules[key].low_bps, BPS))
        line.high_cents = round_half_up(cost * Fraction(BPS + rules[key].high_bps, BPS))
    construction = sum(line.subtotal_cents for line in lines.values())
    design, contingency, escalation, total = _marked_up(construction, catalog, years)
    low = _marked_up(sum(line.low_cents for line in lines.values()), catalog, years)[3]
    high = _marked_up(sum(line.high_cents for line in lines.values()), catalog, years)[3]
    if override is not None:
        check_override(override, total_cents=total)
        override = Override(override.amount_cents, override.reason.strip())
    return Estimate(
        catalog_version_id=catalog.version_id, catalog_version_number=catalog.version_number,
        base_year=catalog.base_year, scheduled_year=scheduled_year, lines=list(lines.values()),
        construction_cents=construction, design_engineering_cents=design, contingency_cents=contingency,
        escalation_cents=escalation, total_cents=total, low_cents=low, high_cents=high,
        design_engineering_bps=catalog.design_engineering_bps, contingency_bps=catalog.contingency_bps,
        escalation_bps=catalog.escalation_bps, assumptions=assumptions, unpriced=unpriced, override=override)


def _marked_up(construction: int, catalog: CatalogSnapshot, years: int) -> tuple[int, int, int, int]:
    design = apply_bps(construction, catalog.design_engineering_bps)
    contingency = apply_bps(construction, catalog.contingency_bps)
    before_escalation = construction + design + contingency
    escalation = compound_bps(before_escalation, catalog.escalation_bps, years)
    return design, contingency, escalation, before_escalation + escalation


def check_override(override: Override, *, total_cents: int) -> None:
    """Refuse an override without a reason, or negative, zero or absurd."""
    if not override.reason or not override.reason.strip():
        raise CostingError(_("Give a reason for overriding the estimate."), field="override_reason")
    if len(override.reason) > 2000:
        raise CostingError(_("Keep the reason under 2,000 characters."), field="override_reason")
    amount = override.amount_cents
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise CostingError(_("The override must be a whole number of cents."), field="override_amount")
    if amount <= 0:
        raise CostingError(_("The override must be more than $0."), field="override_amount")
    if amount > MAX_OVERRIDE_CENTS:
        raise CostingError(_("The override is larger than any one project could cost."), field="override_amount")
    if total_cents > 0 and (amount > total_cents * OVERRIDE_RATIO or amount * OVERRIDE_RATIO < total_cents):
        raise CostingError(_("The override is more than {ratio} times away from the computed estimate; "
                             "check the amount.").format(ratio=OVERRIDE_RATIO), field="override_amount")
