"""Every public proposal (submitted or later; never a draft) as an open dataset.

Each proposal is one point where it lies (a point inside its drawn location, else inside its
assets), so the GeoPackage has a single geometry type; the project page and
``/map/proposals.geojson`` give the full shape.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from shapely.geometry import shape
from sqlmodel import Session, col, func, select

from app.geometry import representative_point
from app.opendata.registry import Dataset, DatasetField, DatasetState, ExportFeature
from app.proposals import public
from models.proposals import Proposal


def _state(session: Session) -> DatasetState | None:
    count, modified, versions = session.exec(
        select(func.count(), func.max(Proposal.updated_at), func.sum(Proposal.version))
        .where(col(Proposal.state).in_(public.PUBLIC_STATES))).one()
    if not count:
        return None
    revision = zlib.crc32(f"{count}:{versions}:{modified}".encode())
    return DatasetState(revision=revision, feature_count=int(count), modified=modified,
                        source="Community groups' proposals, priced with the city's cost catalog")


def _features(session: Session) -> Iterator[ExportFeature]:
    collection = public.map_features(session=session, bbox=None)
    for feature in collection["features"]:
        p = feature["properties"]
        geometry = representative_point(shape(feature["geometry"])) if feature.get("geometry") else None
        yield ExportFeature(properties={
            "id": p["id"], "title": p["title"], "group": p["group"], "category": p["category"],
            "category_name": p["category_name"], "status": p["state"], "status_label": p["state_label"],
            "cost_cents": p["cost_cents"], "page": p["url"]}, geometry=geometry)


DATASETS = [Dataset(
    id="proposals", title="Proposals",
    description="Every proposal community groups have submitted, with its category, status and cost. "
                "Drafts are not published.",
    geometry_type="Point",
    fields=(DatasetField("id", "integer", "The proposal's id (its page is /proposals/<id>)."),
            DatasetField("title", "string", "The proposal's title."),
            DatasetField("group", "string", "The community group that proposed it."),
            DatasetField("category", "string", "The program category's key."),
            DatasetField("category_name", "string", "The program category's name."),
            DatasetField("status", "string", "submitted, under_review, needs_info, feasible, not_feasible, "
                                             "shortlisted, on_ballot, not_selected or withdrawn."),
            DatasetField("status_label", "string", "The status in words."),
            DatasetField("cost_cents", "integer", "The cost in US cents (the group's override, else the estimate)."),
            DatasetField("page", "string", "The proposal's page on this site.")),
    state=_state, features=_features, keywords=("proposals", "capital projects", "participatory budgeting"),
    order=20)]
