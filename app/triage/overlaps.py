"""Overlaps and duplicates: proposals that cover the same assets, or lie on the same place on the
map (one within 10 m of the other, or polygons that intersect), grouped so that every two proposals
in a group have evidence of their own.
Staff merge a pair (both histories kept; the merged one withdrawn, linked to the one it joined)
or mark proposals as alternates (at most one of them on any list)."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from geoalchemy2.shape import to_shape
from shapely import STRtree
from shapely.geometry.base import BaseGeometry
from sqlalchemy import update
from sqlmodel import Session, col, select

from app import audit, geometry
from app.i18n import gettext as _
from app.i18n import ngettext, percent
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
class Evidence:
    """Why two proposals may be the same project, strongest first."""

    a: int
    b: int
    shared_assets: int
    same_kind: bool  # they cover the same kinds of assets (or are in the same category when drawn)
    apart_m: float | None  # distance between their drawn locations
    title_likeness: float  # 0–1
    score: float

    @property
    def sentence(self) -> str:
        """Shown to staff in their language; each part is a phrase of its own in the catalogue."""
        parts = []
        if self.shared_assets:
            parts.append(ngettext("{count} shared asset", "{count} shared assets",
                                  self.shared_assets).format(count=self.shared_assets))
        if self.apart_m is not None:
            parts.append(_("overlap on the map") if self.apart_m < 1
                         else _("{metres} m apart on the map").format(metres=f"{self.apart_m:.0f}"))
        parts.append(_("the same kind of work") if self.same_kind else _("different kinds of work"))
        if self.title_likeness >= 0.5:
            parts.append(_("titles {likeness} alike").format(likeness=percent(self.title_likeness)))
        return _("#{a} and #{b}: {evidence}").format(a=self.a, b=self.b, evidence=", ".join(parts))


@dataclass(frozen=True)
class OverlapGroup:
    proposals: list[Proposal]
    shared_assets: int
    reasons: list[str]
    alternates: bool  # already marked as alternates of one another
    strength: str = "possible"  # "strong" (shared assets) or "possible"
    score: float = 0.0


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


def _overlap(ga: BaseGeometry, gb: BaseGeometry) -> bool:
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


def _kinds(links: list[ProposalAsset], proposal: Proposal) -> frozenset[str]:
    """The kinds of work a proposal is: the asset layers it covers, or its category when it covers none."""
    layers = {link.layer for link in links if not link.missing}
    return frozenset(layers) if layers else frozenset({f"category:{proposal.category_key or ''}"})


def _likeness(a: str, b: str) -> float:
    return SequenceMatcher(None, " ".join(a.lower().split()), " ".join(b.lower().split())).ratio()


def overlap_groups(*, session: Session) -> list[OverlapGroup]:
    """Proposals that may be one project, grouped and ranked by the evidence: assets they share (the
    strongest), then the same kind of work lying within 10 m on the map, and how alike their titles
    are. Proposals of different kinds (a bus stop and a road corridor) are never grouped unless they
    share assets."""
    proposals = {p.id or 0: p for p in session.exec(select(Proposal).where(col(Proposal.state).in_(ACTIVE)))}
    links: dict[int, list[ProposalAsset]] = {}
    owners: dict[tuple[str, int], list[int]] = {}
    for row in session.exec(select(ProposalAsset).where(col(ProposalAsset.proposal_id).in_(list(proposals)))):
        links.setdefault(row.proposal_id, []).append(row)
        if not row.missing:
            owners.setdefault((row.layer, row.asset_id), []).append(row.proposal_id)
    kinds = {pid: _kinds(links.get(pid, []), p) for pid, p in proposals.items()}
    shared: dict[tuple[int, int], int] = {}
    for ids in owners.values():
        for i, first in enumerate(ids):
            for other in ids[i + 1:]:
                pair = (min(first, other), max(first, other))
                shared[pair] = shared.get(pair, 0) + 1
    apart = _near_on_the_map(proposals)
    evidence: list[Evidence] = []
    for pair in sorted(set(shared) | set(apart)):
        a, b = pair
        same_kind = bool(kinds[a] & kinds[b])
        count = shared.get(pair, 0)
        if not count and not same_kind:
            continue  # near each other, but different work: not a duplicate
        likeness = _likeness(proposals[a].title, proposals[b].title)
        distance = apart.get(pair)
        score = 10.0 * min(count, 10) + (3.0 if same_kind else 0.0) + 4.0 * likeness + \
            (3.0 * max(0.0, 1 - distance / NEAR_M) if distance is not None else 0.0)
        evidence.append(Evidence(a, b, count, same_kind, distance, likeness, round(score, 2)))
    alternates = alternate_groups(session=session)
    found = []
    for ids in _groups(evidence):
        inside = sorted((e for e in evidence if e.a in ids and e.b in ids), key=lambda e: -e.score)
        total_shared = sum(e.shared_assets for e in inside)
        found.append(OverlapGroup([proposals[i] for i in ids], total_shared, [e.sentence for e in inside],
                                  len({alternates.get(i) for i in ids}) == 1 and ids[0] in alternates,
                                  "strong" if total_shared else "possible", max(e.score for e in inside)))
    return sorted(found, key=lambda g: (-g.score, g.proposals[0].id or 0))


def _groups(evidence: list[Evidence]) -> list[list[int]]:
    """Groups in which every two proposals have evidence of their own, built from the strongest pair
    down, so that no group chains unrelated proposals through a third (A shares a segment with B, B a
    ramp with C: A and C are not one project). A pair that fits no group is shown on its own."""
    related = {(e.a, e.b) for e in evidence}
    groups: list[list[int]] = []
    group_of: dict[int, list[int]] = {}
    for e in sorted(evidence, key=lambda e: (-e.score, e.a, e.b)):
        first, second = group_of.get(e.a), group_of.get(e.b)
        if first is not None and first is second:
            continue
        if first is None and second is None:
            pair = [e.a, e.b]
            groups.append(pair)
            group_of[e.a] = group_of[e.b] = pair
            continue
        joined, newcomer = (first, e.b) if second is None else (second, e.a)
        if joined is not None and newcomer not in group_of and all(
                (min(newcomer, m), max(newcomer, m)) in related for m in joined):
            joined.append(newcomer)
            group_of[newcomer] = joined
        else:
            groups.append([e.a, e.b])
    return [sorted(g) for g in groups]


def _near_on_the_map(proposals: dict[int, Proposal]) -> dict[tuple[int, int], float]:
    """Pairs of drawn proposals within ``NEAR_M`` of each other (polygons: that intersect), with the
    distance in metres (0 where they overlap)."""
    located = [(pid, to_shape(p.geom)) for pid, p in sorted(proposals.items()) if p.geom is not None]
    located = [(pid, g) for pid, g in located if not g.is_empty]
    if len(located) < 2:
        return {}
    tree = STRtree([g for _, g in located])
    near: dict[tuple[int, int], float] = {}
    slack = NEAR_M / 90_000  # degrees; a generous first cut, measured exactly below
    left, right = tree.query([g for _, g in located], predicate="dwithin", distance=slack)
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        (a, ga), (b, gb) = located[i], located[j]
        if _overlap(ga, gb):
            near[(a, b)] = geometry.distance_m(ga, gb)
    return near


def mark_alternates(*, session: Session, actor: User, proposal_ids: list[int]) -> None:
    ids = sorted(set(proposal_ids))
    if len(ids) < 2:
        raise TriageError(_("Choose at least two proposals to mark as alternates."), field="ids")
    refuse_if_published(session=session, proposal_ids=ids)
    for pid in ids:
        proposal = session.get(Proposal, pid)
        if proposal is None or proposal.state not in ACTIVE:
            raise TriageError(_("#{id} is not a proposal under consideration.").format(id=pid), field="ids")
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
        raise TriageError(_("Choose two different proposals to merge."), field="ids")
    refuse_if_published(session=session, proposal_ids=[keep_id, merged_id])  # neither gains nor loses anything
    keep, merged = session.get(Proposal, keep_id), session.get(Proposal, merged_id)
    for p, pid in ((keep, keep_id), (merged, merged_id)):
        if p is None or p.state not in ACTIVE:
            raise TriageError(_("#{id} is not a proposal under consideration.").format(id=pid), field="ids")
    assert keep is not None and merged is not None
    note = public_note.strip() or f"Merged into proposal #{keep_id} “{keep.title}”."
    kept_assets = session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == keep_id))
    have = {(a.layer, a.asset_id) for a in kept_assets}
    for asset in session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == merged_id)):
        if (asset.layer, asset.asset_id) not in have:
            session.add(ProposalAsset(proposal_id=keep_id, layer=asset.layer, asset_id=asset.asset_id,
                                      source_key=asset.source_key, missing=asset.missing))
    frm = merged.state
    stale = update(Proposal).where(col(Proposal.id) == merged_id, col(Proposal.version) == merged.version)
    result = session.exec(stale
                          .values(state=S.withdrawn.value, version=merged.version + 1, updated_by_id=actor.id,
                                  updated_at=utcnow()))
    if result.rowcount != 1:
        session.rollback()
        raise TriageError(_("#{id} changed while you were merging; nothing was merged. Try again.")
                          .format(id=merged_id))
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
