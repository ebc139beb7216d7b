"""What an import will do to the layer and to the city's decisions, worked out before anything is written.

``assess`` compares the staged rows with the layer as stored, by the assets' stable keys (the
source's id column, or a geometry match when the source has none, see ``matching``): how many
assets are added, changed (and how their condition moved), unchanged and removed, and which
proposals would lose assets, by title and state. Losing assets of a proposal that is submitted or
further along (up to the ballot) needs the importer's explicit agreement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import shapely
from sqlalchemy import func, select, text
from sqlmodel import Session, col

from app.layers.changed_rows import KEPT, STAGED, StagedRows
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


def assess(*, session: Session, kind: LayerKind, stage: StagedRows, compared: set[str], append: bool,
           matched_by_geometry: int = 0) -> ImportImpact:
    """What writing the staged rows would do. Call it once every staged row has its key and the kept row ids are
    found (``StagedRows.keep_row_ids``): a staged row that keeps an id is the stored feature with its key (a key
    given twice: its first row; a key stored twice: the lower id), one that does not is new. ``compared``: the
    fields the import's records have, compared with the stored ones (with the geometry) to tell changed from
    unchanged.
    Worked out in the database, the stored and staged rows compared as they stream in, a batch at a time."""
    impact = ImportImpact(kind=kind.value, matched_by_geometry=matched_by_geometry)
    table = FEATURE_TABLES[kind].__table__  # type: ignore[attr-defined]
    impact.current = int(stage.sql("SELECT count(*) FROM {layer}").scalar_one())
    impact.added = stage.count - stage.kept
    incoming = "EXISTS (SELECT 1 FROM {stage} AS s WHERE s.source_id = l.source_id)"
    if not append:  # a stored key given twice is one feature removed
        impact.removed = int(stage.sql("SELECT count(*) FROM {layer} WHERE source_id IS NULL").scalar_one())
        impact.removed += int(stage.sql(f"SELECT count(DISTINCT l.source_id) FROM {{layer}} AS l "
                                        f"WHERE l.source_id IS NOT NULL AND NOT {incoming}").scalar_one())
    names = sorted(compared & {c.name for c in table.columns} - {"id", "geom", "attributes", "district_id",
                                                                 "tract_id"})
    quoted = [stage.quote(name) for name in names]
    listed = "".join(f"l.{c}, s.{c}, " for c in quoted)
    pairs = stage.session.connection().execute(text(  # streamed (a server-side cursor on PostGIS)
        f"SELECT {listed}ST_AsBinary(l.geom), ST_AsBinary(s.geom) FROM {STAGED} AS s JOIN {KEPT} AS k ON k.ord = s.ord "
        f"JOIN {stage.quote(table.name)} AS l ON l.id = k.id").execution_options(yield_per=_BATCH))
    moves = ConditionMoves(kind)
    condition = _CONDITION.get(kind)
    at = names.index(condition) if condition in names else None
    for row in pairs:
        if at is not None:
            moves.add(row[2 * at], row[2 * at + 1])
        elif condition is not None:
            moves.add(None, None)
        same = all(_same(row[2 * i], row[2 * i + 1]) for i in range(len(names)))
        old_wkb, new_wkb = bytes(row[-2]), bytes(row[-1])
        if same and (old_wkb == new_wkb or shapely.equals_exact(shapely.from_wkb(old_wkb), shapely.from_wkb(new_wkb),
                                                                tolerance=1e-7)):
            impact.unchanged += 1
        else:
            impact.changed += 1
    impact.condition = moves.sentences()
    if kind.is_asset:
        _proposals(session, kind, stage, impact, append=append)
    return impact


_BATCH = 5_000
_CONDITION = {LayerKind.pavement: "pci", LayerKind.sidewalk: "condition", LayerKind.ramp: "condition",
              LayerKind.streetlight: "status"}


_EXACT = frozenset({str, int, bool, type(None)})


def _same(old: Any, new: Any) -> bool:
    if type(old) in _EXACT and type(new) in _EXACT:
        return bool(old == new)
    if isinstance(old, float) or isinstance(new, float):
        return old is not None and new is not None and abs(float(old) - float(new)) < 1e-6
    if isinstance(old, date) or isinstance(new, date):
        return str(old)[:10] == str(new)[:10] if old is not None and new is not None else old is new
    return bool(old == new)


def _proposals(session: Session, kind: LayerKind, stage: StagedRows, impact: ImportImpact, *, append: bool) -> None:
    """Which proposals lose assets (their stored features the import removes), and how many links to assets an
    earlier import removed come back (their key is incoming again)."""
    links = ProposalAsset.__table__.name  # type: ignore[attr-defined]
    layer = {"layer": kind.value}
    restored = f"SELECT count(*) FROM {links} AS pa WHERE pa.layer = :layer AND pa.missing " \
               "AND EXISTS (SELECT 1 FROM {stage} AS s WHERE s.source_id = pa.source_key)"
    impact.links_restored = int(stage.query(restored, **layer).scalar_one())
    if append:
        return
    lost = dict(stage.query(
        f"SELECT pa.proposal_id, count(*) FROM {links} AS pa JOIN {{layer}} AS l ON l.id = pa.asset_id "
        "WHERE pa.layer = :layer AND NOT pa.missing AND (l.source_id IS NULL OR NOT EXISTS "
        "(SELECT 1 FROM {stage} AS s WHERE s.source_id = l.source_id)) GROUP BY pa.proposal_id", **layer).all())
    impact.links_lost = int(sum(lost.values()))
    if not lost:
        return
    covered = dict(session.execute(select(col(ProposalAsset.proposal_id), func.count())
                                   .where(col(ProposalAsset.layer) == kind.value, col(ProposalAsset.missing).is_(False),
                                          col(ProposalAsset.proposal_id).in_(list(lost)))
                                   .group_by(col(ProposalAsset.proposal_id))).all())
    proposals = session.execute(select(col(Proposal.id), col(Proposal.title), col(Proposal.state))
                                .where(col(Proposal.id).in_(list(lost))))
    losses = []
    for proposal_id, title, state in proposals:
        pid = saved_id(proposal_id)
        losses.append(ProposalLoss(pid, title, state, int(lost[pid]), int(covered[pid])))
    order = {state.value: n for n, state in enumerate(ProposalState)}
    impact.losing = sorted(losses, key=lambda loss: (not loss.protected, -order.get(loss.state, 0), loss.title))


class ConditionMoves:
    """How condition moved (PCI, condition or status), tallied from each stored feature's condition before and
    after as the pairs stream in, and said in sentences."""

    def __init__(self, kind: LayerKind) -> None:
        self.kind, self.pairs = kind, 0
        self.fell = self.rose = 0
        self.fell_by = self.rose_by = 0.0
        self.worse = self.better = 0
        self.moved: dict[str, int] = {}

    def add(self, old: Any, new: Any) -> None:
        self.pairs += 1
        kind = self.kind
        if kind is LayerKind.pavement:
            if old is not None and new is not None and abs(float(new) - float(old)) >= 0.05:
                change = float(new) - float(old)
                if change < 0:
                    self.fell, self.fell_by = self.fell + 1, self.fell_by - change
                else:
                    self.rose, self.rose_by = self.rose + 1, self.rose_by + change
        elif kind in (LayerKind.sidewalk, LayerKind.ramp):
            a, b = _CONDITION_RANK.get(old or ""), _CONDITION_RANK.get(new or "")
            if a and b and b < a:
                self.worse += 1
            elif a and b and b > a:
                self.better += 1
        elif kind is LayerKind.streetlight and old != new and new:
            self.moved[new] = self.moved.get(new, 0) + 1

    def sentences(self) -> list[str]:
        noun, kind = _NOUN.get(self.kind, "features"), self.kind
        if kind is LayerKind.pavement:
            if not self.fell and not self.rose:
                return ["No segment's PCI changes."] if self.pairs else []
            parts = []
            if self.fell:
                parts.append(f"PCI falls on {self.fell:,} {noun} (by {self.fell_by / self.fell:.1f} points on average)")
            if self.rose:
                parts.append(f"{'it' if self.fell else 'PCI'} rises on {self.rose:,} {noun} "
                             f"(by {self.rose_by / self.rose:.1f} points on average)")
            return ["; ".join(parts) + "."]
        if kind in (LayerKind.sidewalk, LayerKind.ramp):
            if not self.worse and not self.better:
                return [f"No {noun[:-1]}'s condition changes."] if self.pairs else []
            return [f"Condition is worse on {self.worse:,} {noun} and better on {self.better:,}."]
        if kind is LayerKind.streetlight:
            if not self.moved:
                return ["No light's status changes."] if self.pairs else []
            return ["Status changes: " + ", ".join(f"{n:,} now {status}"
                                                   for status, n in sorted(self.moved.items())) + "."]
        return []
