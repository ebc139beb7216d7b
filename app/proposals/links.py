"""A proposal's links to the assets it covers, each with the asset's stable key from its source.

The key (the asset's ``source_id``) is what survives a re-import: the importer keeps the asset's row
id when the key comes back, marks the link ``missing`` when it does not (the link's ``asset_id``
then becomes minus the link's own id, so it can never point at another asset), and points it at
the asset again when a later import brings the key back (``app.layers.store``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from models.base import saved_id
from models.layers import FEATURE_TABLES, LayerKind
from models.proposals import ProposalAsset


def new_links(*, session: Session, proposal_id: int, keys: Sequence[Any]) -> list[ProposalAsset]:
    """Link rows for assets given as objects with ``layer`` and ``id`` (e.g. ``AssetKey``), each
    carrying its asset's source key."""
    by_layer: dict[str, list[int]] = {}
    for key in keys:
        by_layer.setdefault(key.layer, []).append(key.id)
    source_keys: dict[tuple[str, int], str | None] = {}
    for layer, ids in by_layer.items():
        table = FEATURE_TABLES[LayerKind(layer)]
        for start in range(0, len(ids), 1000):
            rows = session.exec(select(table.id, table.source_id)
                                .where(col(table.id).in_(ids[start:start + 1000])))
            source_keys.update({(layer, saved_id(asset_id)): source for asset_id, source in rows})
    return [ProposalAsset(proposal_id=proposal_id, layer=key.layer, asset_id=key.id,
                          source_key=source_keys.get((key.layer, key.id))) for key in keys]


def missing_count(*, session: Session, proposal_id: int) -> tuple[int, int]:
    """(missing, all): how many of the proposal's assets the current layers no longer have."""
    flags = list(session.exec(select(ProposalAsset.missing).where(ProposalAsset.proposal_id == proposal_id)))
    return sum(1 for flag in flags if flag), len(flags)
