"""What an import will do to the layer and to the city's decisions, worked out before anything is written.

``assess`` compares the checked records with the layer as stored, by the assets' stable keys (the
source's id column, or a geometry match when the source has none, see ``matching``): how many
assets are added, changed (and how their condition moved), unchanged and removed, and which
proposals would lose assets, by title and state. Losing assets of a proposal that is submitted or
further along (up to the ballot) needs the importer's explicit agreement.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
import shapely
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.importers.checks import Checked
from app.importers.matching import CurrentAsset, match_by_geometry
from app.layers.store import FeatureRecord
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


def _current(session: Session, kind: LayerKind, names: set[str]) -> Iterator[dict[str, Any]]:
    """The layer's features as stored, one at a time: their id, key, the columns among ``names`` (those the
    import compares) and geometry (WKB)."""
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    wanted = {"id", "source_id", *names} - {"geom", "attributes", "district_id", "tract_id"}
    columns = [c for c in table.columns if c.name in wanted]
    keys = [c.name for c in columns] + ["wkb"]
    query = select(*columns, func.ST_AsBinary(table.c.geom).label("wkb")).execution_options(yield_per=5_000)
    rows = session.connection().execute(query)  # streamed: the driver does not hold the whole layer as well
    for row in rows:
        yield dict(zip(keys, row, strict=True))


def assess(*, session: Session, kind: LayerKind, checked: Checked, append: bool) -> ImportImpact:
    """What importing ``checked`` would do. Gives records without ids of their own the keys of the
    assets they match (so call it before writing, once).

    The stored layer is compared as it streams in, a batch at a time (a re-import of a large layer does
    not hold it in memory beside the file), except when features are matched by geometry, which needs
    every stored one at once."""
    records = checked.records
    compared = {name for record in records for name in record.fields}
    stored: Iterable[dict[str, Any]] = _current(session, kind, compared | {"street_name"})
    impact = ImportImpact(kind=kind.value)
    if kind.is_asset and not checked.keyed:
        current: list[CurrentAsset] = []
        if not append:  # appended features without ids are new ones, never matches (given keys of their own)
            stored = list(stored)
            geometries = shapely.from_wkb([bytes(r["wkb"]) for r in stored]) if stored else []
            current = [CurrentAsset(r["source_id"], g, r.get("street_name"))
                       for r, g in zip(stored, geometries, strict=False)]
        impact.matched_by_geometry = match_by_geometry(records, current)
    # every record has a key by now (from the source, a match, or made); a key given twice is the first
    # record's, as the write keeps the row id for the first
    position: dict[str | None, int] = {}
    for at, record in enumerate(records):
        position.setdefault(record.source_id, at)
    matched: set[str] = set()  # keys of records that have a stored feature (a key stored twice counts once)
    removed_keys: set[str] = set()
    removed_ids: set[int] = set()
    moves: list[tuple[Any, Any]] = []  # the condition before and after, for each record that was stored
    batch: list[tuple[dict[str, Any], FeatureRecord]] = []
    for row in stored:
        impact.current += 1
        key = row["source_id"]
        index = position.get(key) if key is not None else None
        if index is None:
            if not append:
                removed_ids.add(row["id"])
                if key is None:
                    impact.removed += 1
                else:
                    removed_keys.add(key)
            continue
        if key in matched:
            continue
        matched.add(key)
        batch.append((row, records[index]))
        if len(batch) == _BATCH:
            _compare(kind, batch, impact, moves)
            batch = []
    _compare(kind, batch, impact, moves)
    impact.added = len(records) - len(matched)
    impact.removed += len(removed_keys)
    impact.condition = _condition_moves(kind, moves)
    if kind.is_asset:
        _proposals(session, kind, impact, removed_ids=removed_ids, incoming=set(position))
    return impact


_BATCH = 5_000
_CONDITION = {LayerKind.pavement: "pci", LayerKind.sidewalk: "condition", LayerKind.ramp: "condition",
              LayerKind.streetlight: "status"}


def _compare(kind: LayerKind, batch: list[tuple[dict[str, Any], FeatureRecord]], impact: ImportImpact,
             moves: list[tuple[Any, Any]]) -> None:
    """Count each stored feature of ``batch`` as changed or unchanged by its record (every field the
    record has, and the geometry), and keep how its condition moved."""
    if not batch:
        return
    new_wkb = shapely.to_wkb(np.asarray([record.geometry for _, record in batch], dtype=object))
    condition = _CONDITION.get(kind)
    for (old, record), wkb in zip(batch, new_wkb, strict=True):
        if condition is not None:
            moves.append((old.get(condition), record.fields.get(condition)))
        same_fields = True
        for name, value in record.fields.items():
            if name in old and not _same(old[name], value):
                same_fields = False
                break
        same_place = bytes(old["wkb"]) == wkb or shapely.equals_exact(
            shapely.from_wkb(bytes(old["wkb"])), record.geometry, tolerance=1e-7)
        if same_fields and same_place:
            impact.unchanged += 1
        else:
            impact.changed += 1


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


def _condition_moves(kind: LayerKind, moves: list[tuple[Any, Any]]) -> list[str]:
    """How condition moved, from each stored feature's condition before and after (PCI, condition or status)."""
    noun = _NOUN.get(kind, "features")
    if kind is LayerKind.pavement:
        changes = [float(new) - float(old) for old, new in moves
                   if old is not None and new is not None and abs(float(new) - float(old)) >= 0.05]
        if not changes:
            return ["No segment's PCI changes."] if moves else []
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
        for old, new in moves:
            a, b = _CONDITION_RANK.get(old or ""), _CONDITION_RANK.get(new or "")
            if a and b and b < a:
                worse += 1
            elif a and b and b > a:
                better += 1
        if not worse and not better:
            return [f"No {noun[:-1]}'s condition changes."] if moves else []
        return [f"Condition is worse on {worse:,} {noun} and better on {better:,}."]
    if kind is LayerKind.streetlight:
        moved: dict[str, int] = {}
        for old, new in moves:
            if old != new and new:
                moved[new] = moved.get(new, 0) + 1
        if not moved:
            return ["No light's status changes."] if moves else []
        return ["Status changes: " + ", ".join(f"{n:,} now {status}" for status, n in sorted(moved.items())) + "."]
    return []
