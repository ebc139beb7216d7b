"""What a proposal covered: its assets frozen at submission, and a ballot item's as published.

From submission on, a proposal keeps ``asset_snapshot``: for each asset its layer, id, source key,
geometry (GeoJSON, WGS84, ``PRECISION`` decimals), key attributes, condition, cost inputs and its
share of the estimate, as they were. Resubmitting after staff asked for more information takes it
again (each save's revision still records the selection). Publishing copies it, with the
proposal's own facts, into ``published_item.snapshot``, written once and never updated.

The public project page, its map, ``/map/proposals.geojson`` and the ballot read the snapshot, so
a re-imported or replaced layer changes none of them; where the same asset (same source key, else
same id) is in the current data with another condition, the page shows both ("then → now").
A proposal whose every asset is gone from the current data cannot be shortlisted or placed on
the ballot until staff resolve it (``check_not_lost``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from typing import Any

import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlmodel import Session, col, select

from app.costing import catalog
from app.costing.arithmetic import round_half_up
from app.costing.estimate import CostingError, select_treatment, take_off
from app.costing.service import AssetRef, load_assets
from app.i18n import gettext as _
from app.proposals import ProposalError, selection
from app.proposals.editor import asset_keys
from app.proposals.selection import ASSET_TABLES, AssetKey, ConditionSummary
from models.base import utcnow
from models.layers import Layer
from models.proposals import Proposal, ProposalAsset
from models.triage import PublishedItem, PublishedList

FORMAT = 1
PRECISION = 6  # decimal places of a degree: about 0.1 m
_CHUNK = 500

# What each layer's snapshot keeps, beside layer, id, source key, label, district and geometry.
ATTRIBUTES = {
    "pavement": ("street_name", "from_street", "to_street"),
    "sidewalk": ("street_name", "side"),
    "ramp": ("street_name",),
    "streetlight": ("pole_id", "street_name", "fixture", "wattage", "owner"),
}
CONDITION = {
    "pavement": ("pci", "band", "survey_date"),
    "sidewalk": ("condition", "is_gap", "trip_hazards"),
    "ramp": ("condition",),
    "streetlight": ("status", "lamp_type"),
}
COST_INPUTS = {
    "pavement": ("functional_class", "length_m", "width_m", "lanes", "area_m2"),
    "sidewalk": ("length_m", "width_m", "area_m2"),
    "ramp": (),
    "streetlight": (),
}
COUNTED = ("ramp", "streetlight")  # priced each
COMPARED = {  # what "the condition changed" means, per layer
    "pavement": ("pci",),
    "sidewalk": ("condition", "is_gap"),
    "ramp": ("condition",),
    "streetlight": ("status",),
}


# -- taking a snapshot ---------------------------------------------------------------------------

def _value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 2)
    return value


def _geometry(geom: Any) -> dict[str, Any]:
    rounded = shapely.transform(to_shape(geom), lambda xy: xy.round(PRECISION))
    return dict(mapping(rounded))


def _entry(layer: str, row: Any) -> dict[str, Any]:
    street = getattr(row, "street_name", None)
    entry: dict[str, Any] = {
        "layer": layer, "id": row.id, "source_key": row.source_id, "label": street or f"{layer} {row.id}",
        "district_id": row.district_id, "geometry": _geometry(row.geom),
        "attributes": {name: _value(getattr(row, name)) for name in ATTRIBUTES[layer]},
        "condition": {name: _value(getattr(row, name)) for name in CONDITION[layer]},
        "cost_inputs": {name: _value(getattr(row, name)) for name in COST_INPUTS[layer]},
    }
    if layer in COUNTED:
        entry["cost_inputs"]["count"] = 1
    return entry


def _rows(session: Session, layer: str, *, ids: list[int] | None = None,
          source_keys: list[str] | None = None) -> list[Any]:
    table = ASSET_TABLES[layer]
    column, values = (col(table.id), ids) if ids is not None else (col(table.source_id), source_keys)
    found: list[Any] = []
    for start in range(0, len(values or []), _CHUNK):
        found += session.exec(select(table).where(column.in_((values or [])[start:start + _CHUNK])))
    return found


def _entries(session: Session, keys: list[AssetKey]) -> list[dict[str, Any]]:
    """The assets as they are now, in the order of ``keys`` (unknown ones left out)."""
    by_key: dict[AssetKey, dict[str, Any]] = {}
    for layer in ASSET_TABLES:
        ids = [k.id for k in keys if k.layer == layer]
        for row in _rows(session, layer, ids=ids):
            by_key[AssetKey(layer, row.id)] = _entry(layer, row)
    return [by_key[k] for k in dict.fromkeys(keys) if k in by_key]


def _asset_estimates(session: Session, proposal: Proposal, keys: list[AssetKey]) -> dict[str, dict[str, Any]]:
    """Each asset's treatment, quantity and construction cost under the catalog version of the
    proposal's estimate (design, contingency and escalation are the proposal's, not the asset's)."""
    estimate = proposal.estimate or {}
    version = (catalog.get_version(session=session, version_id=proposal.estimate_catalog_version_id)
               if proposal.estimate_catalog_version_id else None)
    out: dict[str, dict[str, Any]] = {f"{u['layer']}:{u['asset_id']}": {"unpriced": u["reason"]}
                                      for u in estimate.get("unpriced", [])}
    if version is None or not keys:
        return out
    rules = catalog.snapshot(session=session, version=version)
    try:
        assets = load_assets(session=session, refs=[AssetRef(k.layer, k.id) for k in keys])
    except CostingError:
        return out
    for asset in assets:
        treatment = select_treatment(asset, rules.treatments)
        if treatment is None:
            continue
        item = take_off(asset, treatment, rules)
        out[f"{asset.layer}:{asset.id}"] = {
            "treatment_key": treatment.key, "treatment_name": treatment.name, "unit": treatment.unit,
            "unit_cost_cents": treatment.unit_cost_cents, "quantity": str(item.quantity),
            "construction_cents": round_half_up(Fraction(item.quantity) * treatment.unit_cost_cents)}
    return out


def take(*, session: Session, proposal: Proposal, keys: list[AssetKey]) -> dict[str, Any]:
    """The snapshot of ``keys`` (the proposal's assets) as they are now, JSON-safe."""
    entries = _entries(session, keys)
    estimates = _asset_estimates(session, proposal, keys)
    for entry in entries:
        entry["estimate"] = estimates.get(f"{entry['layer']}:{entry['id']}")
    layers = {layer.kind: {"revision": layer.revision, "source": layer.source,
                           "imported_at": _value(layer.imported_at)}
              for layer in session.exec(select(Layer).where(col(Layer.kind).in_({k.layer for k in keys})))}
    return {"format": FORMAT, "taken_at": utcnow().isoformat(), "proposal_version": proposal.version,
            "layers": layers, "assets": entries}


def for_ballot(*, session: Session, proposal: Proposal) -> dict[str, Any]:
    """A ballot item's snapshot as published: the proposal's public facts and its assets."""
    assets = proposal.asset_snapshot or take(session=session, proposal=proposal,
                                             keys=asset_keys(session=session, proposal_id=proposal.id or 0))
    drawn = mapping(shapely.transform(to_shape(proposal.geom), lambda xy: xy.round(PRECISION))) \
        if proposal.geom is not None else None
    return {"format": FORMAT, "published_at": utcnow().isoformat(), "proposal": {
        "id": proposal.id, "title": proposal.title, "description": proposal.description,
        "category_key": proposal.category_key, "scheduled_year": proposal.scheduled_year,
        "district_id": proposal.district_id, "geometry": dict(drawn) if drawn else None,
        "estimate": proposal.estimate, "estimate_total_cents": proposal.estimate_total_cents,
        "estimate_low_cents": proposal.estimate_low_cents, "estimate_high_cents": proposal.estimate_high_cents,
        "override_cents": proposal.override_cents, "override_reason": proposal.override_reason,
        "final_cents": proposal.final_cents}, "assets": assets}


# -- reading one --------------------------------------------------------------------------------

def covered_assets(*, session: Session, proposal: Proposal) -> list[dict[str, Any]]:
    """What the proposal covers: on a published list, its item's snapshot as published (frozen with the
    list); else its snapshot once submitted; else (a draft, or a proposal submitted before snapshots
    existed) its assets as they are now."""
    published = _as_published(session, proposal.id or 0)
    if published is not None:
        return published
    if proposal.asset_snapshot is not None:
        return list(proposal.asset_snapshot.get("assets", []))
    return _entries(session, asset_keys(session=session, proposal_id=proposal.id or 0))


def _as_published(session: Session, proposal_id: int) -> list[dict[str, Any]] | None:
    item = session.exec(select(PublishedItem)
                        .join(PublishedList, col(PublishedList.id) == PublishedItem.published_list_id)
                        .where(PublishedItem.proposal_id == proposal_id)
                        .order_by(col(PublishedList.version).desc())).first()
    nested = (item.snapshot or {}).get("assets") if item is not None else None
    return list(nested.get("assets", [])) if isinstance(nested, dict) else None


def feature_collection(assets: list[dict[str, Any]]) -> dict[str, Any]:
    """The assets as GeoJSON, shaped like ``selection.features``."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"{a['layer']}:{a['id']}", "geometry": a["geometry"],
         "properties": {"layer": a["layer"], "id": a["id"], "street": a["attributes"].get("street_name"),
                        "label": a["label"]}} for a in assets]}


def condition_summary(assets: list[dict[str, Any]], band_scheme: str | None = None) -> ConditionSummary:
    """``selection.condition_summary``, from snapshot entries instead of the layers."""
    def of(layer: str) -> list[dict[str, Any]]:
        return [a for a in assets if a["layer"] == layer]

    return selection.summarize(
        pavement=[(a["cost_inputs"]["length_m"], a["condition"]["pci"]) for a in of("pavement")],
        sidewalks=[(a["cost_inputs"]["length_m"], a["condition"]["is_gap"], a["condition"]["condition"])
                   for a in of("sidewalk")],
        ramps=[a["condition"]["condition"] for a in of("ramp")],
        lights=[(a["condition"]["status"], a["condition"]["lamp_type"]) for a in of("streetlight")],
        band_scheme=band_scheme)


def pavement_rows(assets: list[dict[str, Any]]) -> list[tuple[float, float, str]]:
    """(length in metres, PCI, functional class) of each rated pavement segment, for the impact model."""
    return [(a["cost_inputs"]["length_m"], a["condition"]["pci"], a["cost_inputs"]["functional_class"])
            for a in assets if a["layer"] == "pavement" and a["condition"]["pci"] is not None]


# -- then and now -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConditionChange:
    """One asset whose condition in the current data differs from the snapshot's."""

    layer: str
    label: str
    then: dict[str, Any]
    now: dict[str, Any]
    survey_year: int | None = None  # pavement: the year of the newer survey, when known


@dataclass(frozen=True)
class Comparison:
    changes: list[ConditionChange] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # labels of assets the current data no longer has


def _current(session: Session, layer: str, assets: list[dict[str, Any]]) -> dict[int, Any]:
    """The current row of each snapshot asset (by its id in the snapshot): same source key, else same id."""
    keyed = [a for a in assets if a.get("source_key")]
    by_source = {row.source_id: row for row in _rows(session, layer, source_keys=[a["source_key"] for a in keyed])}
    by_id = {row.id: row for row in _rows(session, layer, ids=[a["id"] for a in assets if not a.get("source_key")])}
    found = {a["id"]: by_source[a["source_key"]] for a in keyed if a["source_key"] in by_source}
    found.update({a["id"]: by_id[a["id"]] for a in assets if not a.get("source_key") and a["id"] in by_id})
    return found


def compare(*, session: Session, assets: list[dict[str, Any]]) -> Comparison:
    """The snapshot against the current layers: changed conditions, and assets no longer there."""
    changes: list[ConditionChange] = []
    gone: list[str] = []
    for layer in ASSET_TABLES:
        mine = [a for a in assets if a["layer"] == layer]
        current = _current(session, layer, mine) if mine else {}
        for asset in mine:
            row = current.get(asset["id"])
            if row is None:
                gone.append(asset["label"])
                continue
            now = {name: _value(getattr(row, name)) for name in CONDITION[layer]}
            if any(asset["condition"].get(name) != now[name] for name in COMPARED[layer]):
                survey = getattr(row, "survey_date", None)
                changes.append(ConditionChange(layer, asset["label"], asset["condition"], now,
                                               survey.year if survey else None))
    return Comparison(changes, gone)


def comparison(*, session: Session, proposal: Proposal) -> Comparison:
    """What newer data says about a submitted proposal's snapshot (nothing for a draft)."""
    if proposal.asset_snapshot is None:
        return Comparison()
    return compare(session=session, assets=covered_assets(session=session, proposal=proposal))


# -- assets lost to a re-import -----------------------------------------------------------------

@dataclass(frozen=True)
class LinkStatus:
    covered: int  # the assets the proposal covers
    missing: int  # of them, those the current data no longer has

    @property
    def all_lost(self) -> bool:
        return self.covered > 0 and self.missing == self.covered


def link_status(*, session: Session, proposal: Proposal) -> LinkStatus:
    """How many of the proposal's assets the current data still has. A link is missing when the
    import marked it so or its asset row is gone; a proposal whose links were all removed counts
    the assets of its snapshot as missing."""
    links = list(session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == proposal.id)))
    if not links:
        covered = len((proposal.asset_snapshot or {}).get("assets", []))
        return LinkStatus(covered, covered)
    present = 0
    for layer in ASSET_TABLES:
        ids = [link.asset_id for link in links if link.layer == layer and not link.missing]
        present += len(_rows(session, layer, ids=ids)) if ids else 0
    return LinkStatus(len(links), len(links) - present)


def check_not_lost(*, session: Session, proposal: Proposal) -> None:
    """Refuse to go further with a proposal whose every asset is gone from the current data."""
    status = link_status(session=session, proposal=proposal)
    if status.all_lost:
        raise ProposalError(_(
            "“{title}” has lost all its assets: the current condition data no longer has any of the {count} it "
            "covered. Resolve it first: re-import data that has them, or have the group choose its assets "
            "again.").format(title=proposal.title, count=status.covered), field="state")


def lost_problems(*, session: Session, proposals: list[Proposal]) -> list[str]:
    """For publishing: the chosen proposals that have lost all their assets, as one problem (or none)."""
    lost = [p for p in proposals if link_status(session=session, proposal=p).all_lost]
    if not lost:
        return []
    return ["These proposals have lost all their assets to a re-imported layer and cannot be placed on the ballot "
            "until staff resolve them: " + ", ".join(f"#{p.id} “{p.title}”" for p in lost) + "."]
