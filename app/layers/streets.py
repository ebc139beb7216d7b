"""Find a street by name: the names that match what was typed (those starting with it first),
each with its extent for the map to zoom to, its length and its length-weighted PCI."""

from __future__ import annotations

from dataclasses import dataclass

from geoalchemy2.shape import to_shape
from sqlmodel import Session, col, func, select

from app.geometry import bounds
from app.layers.summary import METRES_PER_MILE
from app.proposals.public import PUBLIC_STATES
from models.layers import PavementSegment
from models.proposals import Proposal, ProposalAsset

MAX_MATCHES = 8
MIN_QUERY = 2


@dataclass(frozen=True)
class StreetMatch:
    name: str
    segments: int
    miles: float
    average_pci: float | None
    bounds: tuple[float, float, float, float] | None
    proposals: int = 0  # public proposals covering any of its segments

    @property
    def bbox_text(self) -> str:
        return ",".join(f"{v:.6f}" for v in self.bounds) if self.bounds else ""


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_streets(*, session: Session, query: str, limit: int = MAX_MATCHES) -> list[StreetMatch]:
    text = " ".join(query.split()).lower()
    if len(text) < MIN_QUERY:
        return []
    name = col(PavementSegment.street_name)
    pattern = f"%{_escape_like(text)}%"
    rows = session.exec(select(name, func.count(), func.sum(PavementSegment.length_m))
                        .where(func.lower(name).like(pattern, escape="\\"))
                        .group_by(name).order_by(name)
                        .limit(200)).all()
    ranked = sorted(rows, key=lambda r: (not (r[0] or "").lower().startswith(text), (r[0] or "").lower()))[:limit]
    matches = []
    for street, count, metres in ranked:
        segments = list(session.exec(select(PavementSegment.geom, PavementSegment.length_m, PavementSegment.pci)
                                     .where(name == street)))
        ids = select(PavementSegment.id).where(name == street)
        proposals = session.exec(
            select(func.count(func.distinct(ProposalAsset.proposal_id)))
            .join(Proposal, col(Proposal.id) == ProposalAsset.proposal_id)
            .where(ProposalAsset.layer == "pavement", col(ProposalAsset.asset_id).in_(ids),
                   col(Proposal.state).in_(PUBLIC_STATES))).one()
        rated = [(m, pci) for _, m, pci in segments if pci is not None]
        rated_m = sum(m for m, _ in rated)
        matches.append(StreetMatch(
            name=street or "", segments=int(count), miles=float(metres or 0) / METRES_PER_MILE,
            average_pci=sum(m * p for m, p in rated) / rated_m if rated_m else None,
            bounds=bounds([to_shape(g) for g, _, _ in segments]), proposals=int(proposals)))
    return matches
