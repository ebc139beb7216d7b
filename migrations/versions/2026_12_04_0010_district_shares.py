"""A proposal's district comes from its assets, not from a line drawn to select them.

Proposals used to take the district of their drawn location first, so a stray line drawn to take
segments could put a proposal in the wrong district. Each proposal with assets (links a re-import
marked missing left out) gets the district holding the largest share of them again — segments by
length, lights and ramps one each (``app.proposals.selection.combine``); proposals drawn without
assets keep theirs, and so do proposals on a published ballot list, which never change. Each
district's share itself is computed from the assets when it is needed
(``app.proposals.selection.district_shares``), so it follows re-imported layers and redrawn
districts and has no table of its own. Downgrading keeps the corrected districts: the older code
reads them as they are.

Revision ID: 0010_district_shares
Revises: 0009_ballot_versions
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.proposals.selection import combine

revision: str = '0010_district_shares'
down_revision: str | None = '0009_ballot_versions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ASSETS = {"pavement": ("pavement_segment", "segments"), "sidewalk": ("sidewalk_segment", "segments"),
          "ramp": ("curb_ramp", "points"), "streetlight": ("streetlight", "points")}


def upgrade() -> None:
    bind = op.get_bind()
    link = sa.table("proposal_asset", sa.column("proposal_id", sa.Integer), sa.column("layer", sa.String),
                    sa.column("asset_id", sa.Integer), sa.column("missing", sa.Boolean))
    published = sa.table("published_item", sa.column("proposal_id", sa.Integer))
    proposal = sa.table("proposal", sa.column("id", sa.Integer), sa.column("district_id", sa.Integer))
    weights: dict[int, dict[str, dict[int | None, float]]] = {}
    counts: dict[int, dict[str, int]] = {}
    for layer, (name, family) in ASSETS.items():
        asset = sa.table(name, sa.column("id", sa.Integer), sa.column("district_id", sa.Integer),
                         *([sa.column("length_m", sa.Float)] if family == "segments" else []))
        weight = sa.func.sum(asset.c.length_m) if family == "segments" else sa.func.count()
        query = (sa.select(link.c.proposal_id, asset.c.district_id, weight, sa.func.count())
                 .join(asset, asset.c.id == link.c.asset_id)
                 .where(link.c.layer == layer, link.c.missing.is_(False),
                        link.c.proposal_id.not_in(sa.select(published.c.proposal_id)))
                 .group_by(link.c.proposal_id, asset.c.district_id))
        for proposal_id, district_id, w, n in bind.execute(query):
            by_district = weights.setdefault(proposal_id, {}).setdefault(family, {})
            by_district[district_id] = by_district.get(district_id, 0.0) + float(w or 0)
            counts.setdefault(proposal_id, {})[family] = counts.get(proposal_id, {}).get(family, 0) + n
    stored = dict(bind.execute(sa.select(proposal.c.id, proposal.c.district_id)).all())
    changes = []
    for proposal_id, counted in counts.items():
        shares = {d: bps for d, bps in combine(weights[proposal_id], counted).items() if d is not None}
        main = min(shares, key=lambda d: (-shares[d], d)) if shares else None
        if main != stored.get(proposal_id):
            changes.append({"row_id": proposal_id, "district": main})
    statement = proposal.update().where(proposal.c.id == sa.bindparam("row_id")).values(
        district_id=sa.bindparam("district"))
    for start in range(0, len(changes), 1_000):
        bind.execute(statement, changes[start:start + 1_000])


def downgrade() -> None:
    pass
