"""What an import will do to the layer and to the city's decisions, worked out before anything is written.

``assess`` compares the checked records with the layer as stored, by the assets' stable keys (the
source's id column, or a geometry match when the source has none, see ``matching``): how many
assets are added, changed (and how their condition moved), unchanged and removed, and which
proposals would lose assets, by title and state. Losing assets of a proposal that is submitted or
further along (up to the ballot) needs the importer's explicit agreement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
import shapely
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.importers.checks import Checked
from app.importers.matching import CurrentAsset, match_by_geometry
from models.base import saved_id
from models.layers import FEATURE_TABLES, LayerKind
from models.proposals import Proposal, ProposalAsset, ProposalState

S = ProposalState
# Proposals whose assets an import may not take away without the importer's explicit agreement.
PROTECTED = (S.submitted, S.under_review, S.needs_info, S.feasible, S.shortlisted, S.on_ballot)
_CONDITION_RANK = {"poor": 1, "fair": 2, "good": 3, "excellent": 4}
_NOUN = {LayerKind.pavement: "segments", LayerKind.sidewalk: "sidewalk segments", LayerKind.ramp: "ramps",
         LayerKind.streetlight: "lights"}


@dataclass
class ProposalLoss:
    id: int
    title: str
    state: str
    lost: int  # assets the import removes
    covered: int  # assets it covers now

    @property
    def protected(self) -> bool:
        return self.state in PROTECTED

    @property
    def state_label(self) -> str:
        return ProposalState(self.state).label


@dataclass
class ImportImpact:
    kind: str
    current: int = 0  # features in the layer before the import
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    matched_by_geometry: int = 0
    condition: list[str] = field(default_factory=list)  # how condition moved, in sentences
    losing: list[ProposalLoss] = field(default_factory=list)
    links_lost: int = 0
    links_restored: int = 0  # links to assets an earlier import removed, which this one brings back

    @property
    def protected_losses(self) -> list[ProposalLoss]:
        return [loss for loss in self.losing if loss.protected]

    @property
    def needs_agreement(self) -> int:
        """How many submitted-or-later proposals would lose assets (0: nothing to agree to)."""
        return len(self.protected_losses)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _current(session: Session, kind: LayerKind, names: set[str]) -> list[dict[str, Any]]:
    """The layer's features as stored: their id, key, the columns among ``names`` (those the import compares)
    and geometry (WKB)."""
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    wanted = {"id", "source_id", *names} - {"geom", "attributes", "district_id", "tract_id"}
    columns = [c for c in table.columns if c.name in wanted]
    keys = [c.name for c in columns] + ["wkb"]
    query = select(*columns, func.ST_AsBinary(table.c.geom).label("wkb")).execution_options(yield_per=5_000)
    rows = session.connection().execute(query)  # streamed: the driver does not hold the whole layer as well
    return [dict(zip(keys, row, strict=True)) for row in rows]


def assess(*, session: Session, kind: LayerKind, checked: Checked, append: bool) -> ImportImpact:
    """What importing ``checked`` would do. Gives records without ids of their own the keys of the
    assets they match (so call it before writing, once)."""
    records = checked.records
    compared = {name for record in records for name in record.fields}
    rows = _current(session, kind, compared | {"street_name"})
    impact = ImportImpact(kind=kind.value, current=len(rows))
    if kind.is_asset and not checked.keyed:  # appended features without ids are new ones, never matches
        geometries = shapely.from_wkb([bytes(r["wkb"]) for r in rows]) if rows and not append else []
        current = [CurrentAsset(r["source_id"], g, r.get("street_name"))
                   for r, g in zip(rows, geometries, strict=False)]
        impact.matched_by_geometry = match_by_geometry(records, current)
    by_key = {r["source_id"]: r for r in rows if r["source_id"] is not None}
    incoming = {r.source_id for r in records}
    before_after: list[tuple[dict[str, Any], dict[str, Any]]] = []
    new_wkb = shapely.to_wkb(np.asarray([r.geometry for r in records], dtype=object)) if by_key else []
    for index, record in enumerate(records):
        old = by_key.get(record.source_id)
        if old is None:
            impact.added += 1
            continue
        before_after.append((old, record.fields))
        same_fields = True
        for name, value in record.fields.items():
            if name in old and not _same(old[name], value):
                same_fields = False
                break
        same_place = bytes(old["wkb"]) == new_wkb[index] or shapely.equals_exact(
            shapely.from_wkb(bytes(old["wkb"])), record.geometry, tolerance=1e-7)
        if same_fields and same_place:
            impact.unchanged += 1
        else:
            impact.changed += 1
    removed_keys = set() if append else {key for key in by_key if key not in incoming}
    impact.removed = len(removed_keys) + (0 if append else sum(1 for r in rows if r["source_id"] is None))
    impact.condition = _condition_moves(kind, before_after)
    if kind.is_asset:
        _proposals(session, kind, impact, removed_ids={r["id"] for r in rows if r["source_id"] in removed_keys
                                                       or (not append and r["source_id"] is None)},
                   incoming=incoming)
    return impact


_EXACT = frozenset({str, int, bool, type(None)})


def _same(old: Any, new: Any) -> bool:
    if type(old) in _EXACT and type(new) in _EXACT:
        return bool(old == new)
    if isinstance(old, float) or isinstance(new, float):
        return old is not None and new is not None and abs(float(old) - float(new)) < 1e-6
    if isinstance(old, date) or isinstance(new, date):
        return str(old)[:10] == str(new)[:10] if old is not None and new is not None else old is new
    return bool(old == new)


def _proposals(session: Session, kind: LayerKind, impact: ImportImpact, *, removed_ids: set[int],
               incoming: set[str | None]) -> None:
    links = list(session.execute(select(col(ProposalAsset.proposal_id), col(ProposalAsset.asset_id),
                                        col(ProposalAsset.missing), col(ProposalAsset.source_key))
                                 .where(col(ProposalAsset.layer) == kind.value)))
    covered: dict[int, int] = {}
    lost: dict[int, int] = {}
    for proposal_id, asset_id, missing, source_key in links:
        if missing:
            if source_key in incoming:
                impact.links_restored += 1
            continue
        covered[proposal_id] = covered.get(proposal_id, 0) + 1
        if asset_id in removed_ids:
            lost[proposal_id] = lost.get(proposal_id, 0) + 1
    impact.links_lost = sum(lost.values())
    if not lost:
        return
    proposals = session.execute(select(col(Proposal.id), col(Proposal.title), col(Proposal.state))
                                .where(col(Proposal.id).in_(list(lost))))
    losses = []
    for proposal_id, title, state in proposals:
        pid = saved_id(proposal_id)
        losses.append(ProposalLoss(pid, title, state, lost[pid], covered[pid]))
    order = {state.value: n for n, state in enumerate(ProposalState)}
    impact.losing = sorted(losses, key=lambda loss: (not loss.protected, -order.get(loss.state, 0), loss.title))


def _condition_moves(kind: LayerKind, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    noun = _NOUN.get(kind, "features")
    if kind is LayerKind.pavement:
        changes = [float(new["pci"]) - float(old["pci"]) for old, new in pairs
                   if old.get("pci") is not None and new.get("pci") is not None
                   and abs(float(new["pci"]) - float(old["pci"])) >= 0.05]
        if not changes:
            return ["No segment's PCI changes."] if pairs else []
        fell = [c for c in changes if c < 0]
        rose = [c for c in changes if c > 0]
        parts = []
        if fell:
            parts.append(f"PCI falls on {len(fell):,} {noun} (by {-sum(fell) / len(fell):.1f} points on average)")
        if rose:
            parts.append(f"{'it' if fell else 'PCI'} rises on {len(rose):,} {noun} "
                         f"(by {sum(rose) / len(rose):.1f} points on average)")
        return ["; ".join(parts) + "."]
    if kind in (LayerKind.sidewalk, LayerKind.ramp):
        worse = better = 0
        for old, new in pairs:
            a, b = _CONDITION_RANK.get(old.get("condition") or ""), _CONDITION_RANK.get(new.get("condition") or "")
            if a and b and b < a:
                worse += 1
            elif a and b and b > a:
                better += 1
        if not worse and not better:
            return [f"No {noun[:-1]}'s condition changes."] if pairs else []
        return [f"Condition is worse on {worse:,} {noun} and better on {better:,}."]
    if kind is LayerKind.streetlight:
        moved: dict[str, int] = {}
        for old, new in pairs:
            if old.get("status") != new.get("status") and new.get("status"):
                moved[new["status"]] = moved.get(new["status"], 0) + 1
        if not moved:
            return ["No light's status changes."] if pairs else []
        return ["Status changes: " + ", ".join(f"{n:,} now {status}" for status, n in sorted(moved.items())) + "."]
    return []
