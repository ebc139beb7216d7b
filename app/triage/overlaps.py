"""Overlaps and duplicates: proposals that cover the same assets, or lie on the same place on the
map (one within 10 m of the other, or polygons that intersect), grouped automatically.
Staff merge a pair (both histories kept; the merged one withdrawn, linked to the one it joined)
or mark proposals as alternates (at most one of them on any list)."""

from __future__ import annotations

from dataclasses import dataclass

from geoalchemy2.shape import to_shape
from sqlalchemy import update
from sqlmodel import Session, col, select

from app import audit, geometry
from app.proposals.frozen import refuse_if_published
from app.triage import TriageError
from models.accounts import User
from models.base import utcnow
from models.proposals import Proposal, ProposalAsset, ProposalState, ProposalTransition
from models.triage import LinkKind, ProposalLink

S = ProposalState
ACTIVE = [s.value for s in S if s not in (S.draft, S.withdrawn, S.not_feasible, S.not_selected)]
NEAR_M = 10.0


@dataclass(frozen=True)
class OverlapGroup:
    proposals: list[Proposal]
    shared_assets: int
    reasons: list[str]
    alternates: bool  # already marked as alternates of one another


class _Union:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _overlap(a: object, b: object) -> bool:
    ga, gb = to_shape(a), to_shape(b)
    if ga.is_empty or gb.is_empty:
        return False
    polygonal = ("Polygon", "MultiPolygon")
    if ga.geom_type in polygonal and gb.geom_type in polygonal:
        return bool(ga.intersection(gb).area > 0)
    return geometry.covered_by(ga, [gb], NEAR_M) or geometry.covered_by(gb, [ga], NEAR_M)


def alternate_pairs(*, session: Session) -> list[tuple[int, int]]:
    pairs = [(r.proposal_id, r.other_id) for r in session.exec(
        select(ProposalLink).where(ProposalLink.kind == LinkKind.alternates.value))]
    pairs += [(p.id or 0, p.alternate_of_id) for p in session.exec(
        select(Proposal).where(col(Proposal.alternate_of_id).is_not(None)))  # the group's own alternates
        if p.alternate_of_id]
    return pairs


def alternate_groups(*, session: Session) -> dict[int, str]:
    """Each proposal in an alternates set → the set's name ("A" + the smallest id)."""
    union = _Union()
    for a, b in alternate_pairs(session=session):
        union.join(a, b)
    members: dict[int, list[int]] = {}
    for x in list(union.parent):
        members.setdefault(union.find(x), []).append(x)
    return {x: f"A{min(group)}" for group in members.values() for x in group}


def overlap_groups(*, session: Session) -> list[OverlapGroup]:
    proposals = {p.id or 0: p for p in session.exec(select(Proposal).where(col(Proposal.state).in_(ACTIVE)))}
    union = _Union()
    reasons: dict[tuple[int, int], str] = {}
    shared: dict[tuple[int, int], int] = {}
    owners: dict[tuple[str, int], list[int]] = {}
    for row in session.exec(select(ProposalAsset).where(col(ProposalAsset.proposal_id).in_(list(proposals)))):
        owners.setdefault((row.layer, row.asset_id), []).append(row.proposal_id)
    for ids in owners.values():
        for other in ids[1:]:
            pair = (min(ids[0], other), max(ids[0], other))
            shared[pair] = shared.get(pair, 0) + 1
            union.join(*pair)
    located = sorted((pid, p.geom) for pid, p in proposals.items() if p.geom is not None)
    for i, (a, ga) in enumerate(located):
        for b, gb in located[i + 1:]:
            if (a, b) not in shared and _overlap(ga, gb):
                reasons[(a, b)] = "overlap on the map"
                union.join(a, b)
    for pair, count in shared.items():
        reasons[pair] = f"{count} shared asset{'s' if count != 1 else ''}"
    groups: dict[int, list[int]] = {}
    for pid in list(union.parent):
        groups.setdefault(union.find(pid), []).append(pid)
    alternates = alternate_groups(session=session)
    found = []
    for ids in groups.values():
        if len(ids) < 2:
            continue
        ids.sort()
        pairs = [(a, b) for a in ids for b in ids if a < b]
        found.append(OverlapGroup([proposals[i] for i in ids], sum(shared.get(p, 0) for p in pairs),
                                  [f"#{a} and #{b}: {reasons[(a, b)]}" for a, b in pairs if (a, b) in reasons],
                                  len({alternates.get(i) for i in ids}) == 1 and ids[0] in alternates))
    return sorted(found, key=lambda g: g.proposals[0].id or 0)


def mark_alternates(*, session: Session, actor: User, proposal_ids: list[int]) -> None:
    ids = sorted(set(proposal_ids))
    if len(ids) < 2:
        raise TriageError("Choose at least two proposals to mark as alternates.", field="ids")
    refuse_if_published(session=session, proposal_ids=ids)
    for pid in ids:
        proposal = session.get(Proposal, pid)
        if proposal is None or proposal.state not in ACTIVE:
            raise TriageError(f"#{pid} is not a proposal under consideration.", field="ids")
    for other in ids[1:]:
        exists = session.exec(select(ProposalLink).where(ProposalLink.proposal_id == ids[0],
                                                         ProposalLink.other_id == other,
                                                         ProposalLink.kind == LinkKind.alternates.value)).first()
        if exists is None:
            session.add(ProposalLink(proposal_id=ids[0], other_id=other, kind=LinkKind.alternates.value,
                                     actor_id=actor.id))
    audit.record(session=session, actor=actor, action="proposal.alternates", object_type="proposal",
                 object_id=ids[0], after={"alternates": ids})
    session.commit()


def merge(*, session: Session, actor: User, keep_id: int, merged_id: int, public_note: str = "") -> Proposal:
    """Merge ``merged_id`` into ``keep_id``: the kept proposal gains the other's assets; the merged
    one is withdrawn with a link to the kept one. Both keep their histories (revisions, transitions);
    supporters stay with their proposals (resident supports do not exist yet)."""
    if keep_id == merged_id:
        raise TriageError("Choose two different proposals to merge.", field="ids")
    refuse_if_published(session=session, proposal_ids=[keep_id, merged_id])  # neither gains nor loses anything
    keep, merged = session.get(Proposal, keep_id), session.get(Proposal, merged_id)
    for p, pid in ((keep, keep_id), (merged, merged_id)):
        if p is None or p.state not in ACTIVE:
            raise TriageError(f"#{pid} is not a proposal under consideration.", field="ids")
    assert keep is not None and merged is not None
    note = public_note.strip() or f"Merged into proposal #{keep_id} “{keep.title}”."
    kept_assets = session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == keep_id))
    have = {(a.layer, a.asset_id) for a in kept_assets}
    for asset in session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == merged_id)):
        if (asset.layer, asset.asset_id) not in have:
            session.add(ProposalAsset(proposal_id=keep_id, layer=asset.layer, asset_id=asset.asset_id))
    frm = merged.state
    stale = update(Proposal).where(col(Proposal.id) == merged_id, col(Proposal.version) == merged.version)
    result = session.execute(stale
                             .values(state=S.withdrawn.value, version=merged.version + 1, updated_by_id=actor.id,
                                     updated_at=utcnow()))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise TriageError(f"#{merged_id} changed while you were merging; nothing was merged. Try again.")
    session.add(ProposalTransition(proposal_id=merged_id, actor_id=actor.id, from_state=frm, to_state=S.withdrawn.value,
                                   reason=f"merged into #{keep_id}", public_note=note))
    session.add(ProposalLink(proposal_id=merged_id, other_id=keep_id, kind=LinkKind.merged_into.value,
                             actor_id=actor.id))
    audit.record(session=session, actor=actor, action="proposal.merge", object_type="proposal", object_id=merged_id,
                 before={"state": frm}, after={"state": S.withdrawn.value, "merged_into": keep_id})
    session.commit()
    session.refresh(keep)
    return keep


def merged_into(*, session: Session, proposal_id: int) -> int | None:
    link = session.exec(select(ProposalLink).where(ProposalLink.proposal_id == proposal_id,
                                                   ProposalLink.kind == LinkKind.merged_into.value)).first()
    return link.other_id if link else None
