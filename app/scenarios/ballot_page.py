"""What /ballot shows beside the list itself: filters by category, district and tier (the table and
the map follow them) and the map of the listed projects as they were published (each item's
snapshot: its drawn location, else its assets), coloured by category, each linking to its page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.proposals.public import PALETTE, category_chips, map_config
from app.scenarios.publish import BallotView
from models.triage import PublishedItem


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class BallotFilters:
    category: str = ""
    district: str = ""
    tier: str = ""

    @property
    def active(self) -> bool:
        return bool(self.category or self.district or self.tier)


@dataclass(frozen=True)
class BallotPage:
    items: list[PublishedItem]  # the items the filters keep, in the list's order
    filters: BallotFilters
    categories: list[Choice] = field(default_factory=list)
    districts: list[Choice] = field(default_factory=list)
    tiers: list[Choice] = field(default_factory=list)
    map_config: dict[str, Any] | None = None


def _geometries(item: PublishedItem) -> list[dict[str, Any]]:
    snapshot = item.snapshot or {}
    drawn = (snapshot.get("proposal") or {}).get("geometry")
    if drawn:
        return [drawn]
    assets = snapshot.get("assets") or {}  # the proposal's asset snapshot: {"layers": …, "assets": [...]}
    return [a["geometry"] for a in assets.get("assets", []) if a.get("geometry")]


def _extent(geometries: list[dict[str, Any]]) -> list[float] | None:
    box = [float("inf"), float("inf"), float("-inf"), float("-inf")]

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], int | float):
            box[0], box[1] = min(box[0], coords[0]), min(box[1], coords[1])
            box[2], box[3] = max(box[2], coords[0]), max(box[3], coords[1])
        else:
            for part in coords:
                walk(part)

    for geometry in geometries:
        walk(geometry.get("coordinates") or [])
    return box if box[0] != float("inf") else None


def ballot_page(*, session: Session, view: BallotView, category: str = "", district: str = "",
                tier: str = "") -> BallotPage:
    """The items kept by the filters (unknown values keep nothing, so the page says none match) and
    the map of them; the choices are the values the published list holds."""
    filters = BallotFilters(category.strip()[:40], district.strip()[:200], tier.strip()[:4])
    items = [i for i in view.items
             if (not filters.category or i.category_key == filters.category)
             and (not filters.district or (i.district or "citywide") == filters.district)
             and (not filters.tier or str(i.tier) == filters.tier)]
    names = view.category_names
    categories = sorted({i.category_key for i in view.items if i.category_key})
    districts = sorted({i.district for i in view.items if i.district})
    has_citywide = any(not i.district for i in view.items)
    chips = category_chips(session=session)
    features: list[dict[str, Any]] = []
    for item in items:
        colour = chips[item.category_key].colour if item.category_key in chips else PALETTE[-2]
        for geometry in _geometries(item):
            features.append({"type": "Feature", "geometry": geometry, "properties": {
                "id": item.proposal_id, "title": item.title, "tier": item.tier, "colour": colour,
                "category_name": names.get(item.category_key or "", item.category_key or ""),
                "url": f"/proposals/{item.proposal_id}"}})
    collection = {"type": "FeatureCollection", "features": features}
    box = _extent([f["geometry"] for f in features])
    return BallotPage(
        items=items, filters=filters,
        categories=[Choice(k, names.get(k, k)) for k in categories],
        districts=[Choice(d, view.district_names.get(d, d)) for d in districts]
        + ([Choice("citywide", "Citywide")] if has_citywide else []),
        tiers=[Choice(str(t), str(t)) for t in sorted({i.tier for i in view.items})],
        map_config=map_config(session=session, collection=collection, box=box) if features else None)
