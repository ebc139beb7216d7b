"""Completing a project updates the condition of the assets it treated — written like an import.

What was treated is the ballot item's snapshot as published (each asset's layer, key and the
treatment its estimate chose); the snapshot and the published list are never written. Each asset
is found in the current layer by its key (``source_id``; its row id when it has none) and updated
in place, so its identity — row id and key — and its original attributes stay, and proposals'
links still point at it. Each touched layer's revision is bumped (tiles' ETags and /map/summary
move at once) and the audit log records the write with the project as its source, all in one unit
of work with the project's move to *complete*.

The resulting condition, per treatment (docs/DELIVERY.md):

* pavement — a structural treatment (one the catalog chooses below PCI 50: mill & overlay,
  reclaim / reconstruct, or one without an upper bound) makes a new surface: PCI 100. A
  maintenance treatment (crack seal, patching) brings the segment to the top of the range the
  catalog chooses it for (its upper PCI bound: crack seal 88, patching 68). A segment never gets
  worse by being treated; "do nothing" and unpriced segments are left as they are. The band is
  recomputed with the layer's scheme and the survey date becomes the completion date.
* sidewalk — a gap is closed (no longer a gap), the condition becomes good, trip hazards 0.
* curb ramp — condition good.
* streetlight — working, LED (both catalog treatments leave an LED fixture).

Staff see every change before confirming and may leave out assets the work did not reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app import audit
from app.costing import catalog
from app.costing.estimate import TreatmentRule
from app.delivery import DeliveryError, projects
from app.i18n import gettext as _
from app.layers.bands import scheme
from app.layers.store import bump_revision
from app.proposals.selection import ASSET_TABLES
from app.proposals.snapshots import CONDITION
from models.accounts import User
from models.delivery import DeliveryPhase, DeliveryProject
from models.layers import Layer, LayerKind
from models.proposals import Proposal

STRUCTURAL_BELOW = 50  # a pavement treatment chosen only below this PCI rebuilds the surface


@dataclass(frozen=True)
class AssetChange:
    key: str  # "layer:id" of the snapshot entry
    layer: str
    row_id: int | None  # the current row (None: the current data no longer has it)
    source_key: str | None
    label: str
    treatment: str | None
    before: dict[str, Any]
    after: dict[str, Any]  # equal to before: nothing to change

    @property
    def changes(self) -> bool:
        return self.row_id is not None and self.before != self.after


def resulting_pci(rule: TreatmentRule | None) -> float | None:
    """The PCI a pavement treatment leaves (None: it changes nothing)."""
    if rule is None or rule.unit_cost_cents == 0:
        return None
    if rule.max_pci is None or rule.max_pci <= STRUCTURAL_BELOW:
        return 100.0
    return float(min(100.0, rule.max_pci))


def _rules(session: Session, proposal: Proposal | None) -> dict[tuple[str, str], TreatmentRule]:
    version = None
    if proposal is not None and proposal.estimate_catalog_version_id:
        version = catalog.get_version(session=session, version_id=proposal.estimate_catalog_version_id)
    version = version or catalog.current_version(session=session)
    if version is None:
        return {}
    return {(r.layer_kind, r.key): r for r in catalog.snapshot(session=session, version=version).treatments}


def _current_row(session: Session, layer: str, entry: dict[str, Any]) -> Any:
    """The asset the snapshot entry describes, by its key. An entry without a key is found by its row
    id only when that row has no key either (a row number alone can belong to another asset since)."""
    table = ASSET_TABLES[layer]
    if entry.get("source_key"):
        return session.exec(select(table).where(col(table.source_id) == entry["source_key"])
                            .order_by(col(table.id))).first()
    row = session.get(table, entry["id"])
    return row if row is not None and row.source_id is None else None


def _after(layer: str, row: Any, rule: TreatmentRule | None, on: date, band_scheme: str | None) -> dict[str, Any]:
    now = {name: getattr(row, name) for name in CONDITION[layer]}
    after = dict(now)
    if layer == "pavement":
        target = resulting_pci(rule)
        if target is None:
            return now
        pci = max(float(now["pci"]) if now["pci"] is not None else 0.0, target)
        band = scheme(band_scheme).band_for(pci)
        after.update(pci=pci, band=band.key if band else None, survey_date=on)
    elif layer == "sidewalk":
        after.update(condition="good", is_gap=False, trip_hazards=0)
    elif layer == "ramp":
        after.update(condition="good")
    elif layer == "streetlight":
        after.update(status="working", lamp_type="LED")
    return after


def treated_assets(snapshot: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The asset entries of a ballot item's snapshot (``for_ballot`` nests the proposal's snapshot)."""
    assets = (snapshot or {}).get("assets") or {}
    return list(assets.get("assets", []) if isinstance(assets, dict) else assets)


def plan(*, session: Session, proposal_id: int, on: date | None = None) -> list[AssetChange]:
    """What completing the project will write: each treated asset's condition now and after."""
    item = projects._item(session, proposal_id)
    on = on or date.today()
    rules = _rules(session, session.get(Proposal, proposal_id))
    schemes = {layer.kind: layer.band_scheme for layer in session.exec(select(Layer))}
    changes = []
    for entry in treated_assets(item.snapshot):
        layer = entry["layer"]
        if layer not in ASSET_TABLES:
            continue
        estimate = entry.get("estimate") or {}
        rule = rules.get((layer, estimate.get("treatment_key", "")))
        row = _current_row(session, layer, entry)
        key = f"{layer}:{entry['id']}"
        if row is None:
            changes.append(AssetChange(key, layer, None, entry.get("source_key"), entry["label"],
                                       estimate.get("treatment_name"), entry["condition"], entry["condition"]))
            continue
        before = {name: getattr(row, name) for name in CONDITION[layer]}
        changes.append(AssetChange(key, layer, row.id, row.source_id, entry["label"],
                                   estimate.get("treatment_name"), before,
                                   _after(layer, row, rule, on, schemes.get(layer))))
    return changes


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def complete(*, session: Session, actor: User, proposal_id: int, on: date | None = None,
             left_out: set[str] | None = None, today: date | None = None) -> DeliveryProject:
    """Complete the project: the treated assets take their new condition (``left_out``: keys of
    assets the work did not reach), their layers a new revision; the project moves to complete."""
    project = projects.locked(session, proposal_id)
    today = today or date.today()
    on = on or today
    if project.phase == DeliveryPhase.complete:
        raise DeliveryError(_("The project is complete already; its assets were updated then."), field="phase")
    if on > today:
        raise DeliveryError(_("The completion date cannot be in the future."), field="on")
    left_out = left_out or set()
    changes = plan(session=session, proposal_id=proposal_id, on=on)
    applied = [c for c in changes if c.changes and c.key not in left_out]
    try:
        with session.begin_nested():
            for change in applied:
                table = ASSET_TABLES[change.layer]
                row = session.get(table, change.row_id)
                for name, value in change.after.items():
                    setattr(row, name, value)
                session.add(row)
            session.flush()
            layers = sorted({c.layer for c in applied})
            bump_revision(session=session, kinds=[LayerKind(layer) for layer in layers])
            session.flush()
            revisions = {layer.kind: layer.revision
                         for layer in session.exec(select(Layer).where(col(Layer.kind).in_(layers)))}
            for layer in layers:
                audit.record(session=session, actor=actor, action="layer.delivery", object_type="layer",
                             object_id=layer, after={"source": f"delivery:project={proposal_id}",
                                                     "features": sum(1 for c in applied if c.layer == layer),
                                                     "revision": revisions.get(layer)})
            projects.move_phase(session=session, actor=actor, proposal_id=proposal_id,
                                to=DeliveryPhase.complete.value, on=on, commit=False)
            project.completed_on = on
            project.completed = {
                "on": on.isoformat(), "revisions": revisions,
                "assets": [{"key": c.key, "layer": c.layer, "label": c.label, "treatment": c.treatment,
                            "source_key": c.source_key, "before": _json(c.before), "after": _json(c.after),
                            "applied": c in applied} for c in changes]}
            session.add(project)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return project
