"""Price condition assets from the database with a catalog version.

``price_assets`` is what proposals, triage and the API call: it loads the assets named by
``AssetRef`` (layer + id), turns them into the plain inputs of ``app.costing.estimate`` and
prices them with the current catalog version, or with a given one (re-pricing on purpose, or
reproducing a stored estimate). It reads only; it writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.costing import catalog
from app.costing.estimate import (
    Asset,
    CostingError,
    Estimate,
    LightAsset,
    Override,
    PavementAsset,
    RampAsset,
    SidewalkAsset,
    estimate,
)
from app.i18n import gettext as _
from models.costs import AssetNote, EstimateLinePublic, EstimatePublic, Unit
from models.layers import CurbRamp, LayerKind, PavementSegment, SidewalkSegment, Streetlight

MAX_ASSETS = 20_000


@dataclass(frozen=True)
class AssetRef:
    layer: str
    id: int


def load_assets(*, session: Session, refs: Sequence[AssetRef]) -> list[Asset]:
    """The assets in the order given; raises ``CostingError`` for an unknown layer or id."""
    if not refs:
        raise CostingError("Choose at least one asset to price.", field="assets")
    if len(refs) > MAX_ASSETS:
        raise CostingError(f"Price at most {MAX_ASSETS:,} assets at a time.", field="assets")
    wanted: dict[str, list[int]] = {}
    for ref in refs:
        if ref.layer not in _LOADERS:
            raise CostingError(f"{ref.layer!r} is not a layer of assets (pavement, sidewalk, ramp, streetlight).",
                               field="assets")
        wanted.setdefault(ref.layer, []).append(ref.id)
    found: dict[tuple[str, int], Asset] = {}
    for layer, ids in wanted.items():
        table, convert = _LOADERS[layer]
        for start in range(0, len(ids), 500):
            query: Any = select(table).where(col(table.id).in_(ids[start:start + 500]))
            for row in session.exec(query):
                found[(layer, row.id)] = convert(row)
    missing = [f"{r.layer} {r.id}" for r in refs if (r.layer, r.id) not in found]
    if missing:
        raise CostingError(f"No such asset: {', '.join(missing[:10])}.", field="assets")
    unique: dict[tuple[str, int], Asset] = {}
    for ref in refs:
        unique.setdefault((ref.layer, ref.id), found[(ref.layer, ref.id)])
    return list(unique.values())


def price_assets(*, session: Session, refs: Sequence[AssetRef], scheduled_year: int,
                 version_id: int | None = None, override: Override | None = None) -> Estimate:
    """Estimate for the assets (duplicates counted once) with the current or the given catalog version."""
    version = (catalog.get_version(session=session, version_id=version_id) if version_id is not None
               else catalog.current_version(session=session))
    if version is None:
        raise CostingError(_("There is no such catalog version.") if version_id is not None
                           else _("The cost catalog is empty; staff must set it up first."), field="catalog_version")
    assets = load_assets(session=session, refs=refs)
    return estimate(assets, catalog.snapshot(session=session, version=version),
                    scheduled_year=scheduled_year, override=override)


def _pavement(row: PavementSegment) -> Asset:
    return PavementAsset(id=row.id or 0, length_m=row.length_m, functional_class=row.functional_class,
                         width_m=row.width_m, lanes=row.lanes, pci=row.pci)


def _sidewalk(row: SidewalkSegment) -> Asset:
    return SidewalkAsset(id=row.id or 0, length_m=row.length_m, width_m=row.width_m, condition=row.condition,
                         is_gap=row.is_gap)


def _ramp(row: CurbRamp) -> Asset:
    return RampAsset(id=row.id or 0, condition=row.condition)


def _light(row: Streetlight) -> Asset:
    return LightAsset(id=row.id or 0, status=row.status, lamp_type=row.lamp_type)


_LOADERS: dict[str, tuple[Any, Any]] = {
    LayerKind.pavement.value: (PavementSegment, _pavement),
    LayerKind.sidewalk.value: (SidewalkSegment, _sidewalk),
    LayerKind.ramp.value: (CurbRamp, _ramp),
    LayerKind.streetlight.value: (Streetlight, _light),
}


def estimate_public(result: Estimate) -> EstimatePublic:
    """An estimate in the API's shape."""
    return EstimatePublic(
        catalog_version_id=result.catalog_version_id, catalog_version_number=result.catalog_version_number,
        base_year=result.base_year, scheduled_year=result.scheduled_year,
        lines=[EstimateLinePublic(layer=line.layer, treatment_key=line.treatment_key,
                                  treatment_name=line.treatment_name, unit=Unit(line.unit),
                                  unit_cost_cents=line.unit_cost_cents, asset_ids=line.asset_ids,
                                  quantity=str(line.quantity), subtotal_cents=line.subtotal_cents,
                                  low_cents=line.low_cents, high_cents=line.high_cents) for line in result.lines],
        construction_cents=result.construction_cents, design_engineering_bps=result.design_engineering_bps,
        design_engineering_cents=result.design_engineering_cents, contingency_bps=result.contingency_bps,
        contingency_cents=result.contingency_cents, escalation_bps=result.escalation_bps,
        escalation_cents=result.escalation_cents, total_cents=result.total_cents, low_cents=result.low_cents,
        high_cents=result.high_cents,
        override_cents=result.override.amount_cents if result.override else None,
        override_reason=result.override.reason if result.override else None, final_cents=result.final_cents,
        assumptions=[AssetNote(layer=a.layer, asset_id=a.asset_id, text=a.text) for a in result.assumptions],
        unpriced=[AssetNote(layer=u.layer, asset_id=u.asset_id, text=u.reason) for u in result.unpriced])
