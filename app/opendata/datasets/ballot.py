"""The published ballot list as an open dataset (one row per project on the ballot).

The canonical, hashed export is /ballot/export.json (docs/BALLOT_HASH.md); this dataset offers
the same items in the usual open-data formats.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session

from app.opendata.registry import Dataset, DatasetField, DatasetState, ExportFeature
from app.scenarios import publish


def _state(session: Session) -> DatasetState | None:
    published = publish.latest(session=session)
    if published is None:
        return None
    count = len(publish.items_of(session=session, published_id=published.id or 0))
    return DatasetState(revision=published.version, feature_count=count, modified=published.published_at,
                        source=f"Ballot list version {published.version}, SHA-256 {published.content_hash}")


def _features(session: Session) -> Iterator[ExportFeature]:
    published = publish.latest(session=session)
    if published is None:
        return
    for item in publish.items_of(session=session, published_id=published.id or 0):
        yield ExportFeature({"proposal_id": item.proposal_id, "title": item.title, "category": item.category_key,
                             "district": item.district, "tier": item.tier, "cost_cents": item.cost_cents,
                             "list_version": published.version, "content_hash": published.content_hash}, None)


DATASETS = [Dataset(
    id="ballot-list", title="Ballot list",
    description="The projects on the published ballot list, with their tier, category, district and cost.",
    geometry_type=None, order=80, keywords=("ballot", "referendum", "projects"),
    fields=(DatasetField("proposal_id", "integer", "The proposal's number."),
            DatasetField("title", "string", "The project's title."),
            DatasetField("category", "string", "The program category's key."),
            DatasetField("district", "string", "The council district (empty: citywide)."),
            DatasetField("tier", "integer", "Funding tier (1 is funded from expected revenue)."),
            DatasetField("cost_cents", "integer", "Estimated cost in cents."),
            DatasetField("list_version", "integer", "The published list's version."),
            DatasetField("content_hash", "string", "SHA-256 of the list's canonical export (/ballot/export.json).")),
    state=_state, features=_features)]
