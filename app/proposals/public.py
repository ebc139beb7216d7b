"""What residents see of proposals: every proposal once submitted (never a draft), filtered,
sorted and paged; a project page's facts (cost, condition under it, public status history,
expected impact); and the proposals as GeoJSON for the public map.

Only public fields leave this module: staff-internal reasons and notes never do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import GeometryCollection, box, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlmodel import Session, col, func, select

from app import participation
from app import program as programs
from app.costing.catalog import localized_estimate
from app.geometry import bounds
from app.i18n import localized
from app.impact.deterioration import Curves, pci_at_age, project_pci
from app.layers import district_names
from app.layers.legend import UNRATED, pavement_entries
from app.layers.summary import loaded_layers, pavement_scheme
from app.pavement_plan.in_use import impact_curves
from app.proposals import ProposalNotFound, snapshots, states
from app.proposals.selection import AssetKey, ConditionSummary, DistrictShare, district_shares, features
from models.accounts import Group
from models.layers import District, LayerKind
from models.proposals import Proposal, ProposalAsset, ProposalState

PUBLIC_STATES = tuple(s.value for s in ProposalState if s is not ProposalState.draft)
PER_PAGE = 20
# Category colours, in the program's category order: distinct, dark enough for white text (AA), and
# apart from every condition colour on the map (no greens, yellows or reds: tests/test_map_colours.py).
PALETTE = ("#1f5f99", "#a3237a", "#2b3a8c", "#7a4a2a", "#0a7c8c", "#8a3c6b", "#5c5c5c", "#26323d")
SORTS = {
    "newest": "Newest first",
    "cost_high": "Highest cost first",
    "cost_low": "Lowest cost first",
    "support": "Most supported first",
    "title": "Title (A–Z)",
}


def _(text: str) -> str:
    """Marks fixed labels for the translation catalogue; templates translate them when rendering."""
    return text


LABELS = (_("Draft"), _("Submitted"), _("Under review"), _("Needs info"), _("Feasible"), _("Not feasible"),
          _("Shortlisted"), _("On ballot"), _("Not selected"), _("Withdrawn"), _("City staff"),
          _("Newest first"), _("Highest cost first"), _("Lowest cost first"), _("Most supported first"),
          _("Title (A–Z)"), _("Good"), _("Satisfactory"), _("Fair"), _("Poor"), _("Very poor"), _("Serious"),
          _("Failed"), _("Write a comment first."), _("Keep comments under 4,000 characters."),
          _("Give the reason the public will see."), _("Keep the reason under 1,000 characters."),
          _("Only staff can hide comments."),
          # the public navigation (app.navigation entries, translated in templates/base.html)
          _("Home"), _("Map"), _("Proposals"), _("Ballot list"), _("Dashboards"), _("Open data"), _("My groups"))


@dataclass(frozen=True)
class CategoryChip:
    key: str
    name: str
    colour: str


def category_chips(*, session: Session) -> dict[str, CategoryChip]:
    """Each program category with its colour (by program order; stable while the program is)."""
    view = programs.program_view(session=session)
    categories = view.categories if view else []
    return {c.key: CategoryChip(c.key, localized(c.name, c.name_es), PALETTE[i % len(PALETTE)])
            for i, c in enumerate(categories)}


def _chip(chips: dict[str, CategoryChip], key: str | None) -> CategoryChip:
    if key and key in chips:
        return chips[key]
    return CategoryChip(key or "", key or "Uncategorised", PALETTE[-2])


@dataclass(frozen=True)
class PublicRow:
    id: int
    title: str
    group: str
    category: CategoryChip
    district: str | None
    state: str
    state_label: str
    final_cents: int | None
    low_cents: int | None
    high_cents: int | None
    supports: int
    submitted_at: datetime | None


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    selected: bool


@dataclass
class PublicPage:
    rows: list[PublicRow]
    total: int
    page: int
    pages: int
    total_cents: int
    categories: list[Choice] = field(default_factory=list)
    districts: list[Choice] = field(default_factory=list)
    statuses: list[Choice] = field(default_factory=list)
    sorts: list[Choice] = field(default_factory=list)


class FilterError(ValueError):
    """A filter value that is not one of the choices."""


def public_list(*, session: Session, category: str = "", district: str = "", status: str = "",
                sort: str = "newest", page: int = 1, per_page: int = PER_PAGE) -> PublicPage:
    """Public proposals matching the filters ("" = any), sorted and paged."""
    chips = category_chips(session=session)
    district_rows = [(d_id, localized(name, name_es)) for d_id, name, name_es in session.exec(
        select(District.id, District.name, District.name_es).order_by(col(District.name)))]
    if category and category not in chips:
        raise FilterError("There is no such category.")
    if district and district not in {str(d) for d, _ in district_rows}:
        raise FilterError("There is no such district.")
    if status and status not in PUBLIC_STATES:
        raise FilterError("There is no such status.")
    if sort not in SORTS:
        raise FilterError("Choose one of the listed orders.")
    where: list[Any] = [col(Proposal.state).in_(PUBLIC_STATES)]
    if category:
        where.append(col(Proposal.category_key) == category)
    if district:
        where.append(col(Proposal.district_id) == int(district))
    if status:
        where.append(col(Proposal.state) == status)
    total, total_cents = session.exec(select(func.count(), func.sum(func.coalesce(
        Proposal.override_cents, Proposal.estimate_total_cents))).where(*where)).one()
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    cost = func.coalesce(Proposal.override_cents, Proposal.estimate_total_cents)
    supports = participation.support_count_column()
    orders: dict[str, list[Any]] = {
        "newest": [col(Proposal.submitted_at).desc(), col(Proposal.id).desc()],
        "cost_high": [cost.desc(), col(Proposal.id)],
        "cost_low": [cost.asc(), col(Proposal.id)],
        "support": [supports.desc(), col(Proposal.id)],
        "title": [func.lower(Proposal.title), col(Proposal.id)],
    }
    order = orders[sort]
    query = (select(Proposal, Group.name, District.name, District.name_es,  # type: ignore[call-overload]  # sqlmodel: <= 4 columns
                     supports)
             .join(Group, col(Group.id) == Proposal.group_id)
             .outerjoin(District, col(District.id) == Proposal.district_id)
             .where(*where).order_by(*order).offset((page - 1) * per_page).limit(per_page))
    rows = [PublicRow(p.id or 0, p.title, group_name, _chip(chips, p.category_key),
                      localized(district_name, district_es) if district_name else None, p.state,
                      ProposalState(p.state).label, p.final_cents, p.estimate_low_cents, p.estimate_high_cents,
                      int(count or 0), p.submitted_at)
            for p, group_name, district_name, district_es, count in session.exec(query)]
    return PublicPage(
        rows=rows, total=int(total), page=page, pages=pages, total_cents=int(total_cents or 0),
        categories=[Choice(c.key, c.name, c.key == category) for c in chips.values()],
        districts=[Choice(str(d), name, str(d) == district) for d, name in district_rows],
        statuses=[Choice(s, ProposalState(s).label, s == status) for s in PUBLIC_STATES],
        sorts=[Choice(k, label, k == sort) for k, label in SORTS.items()])


# -- one project -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Impact:
    """What the project changes, over the program's collection years."""

    years: int
    pavement_length_m: float = 0.0
    pci_now: float | None = None
    pci_untreated: float | None = None  # if nothing is done
    pci_treated: float | None = None  # if repaved now
    sidewalk_gap_closed_m: float = 0.0
    lights_fixed: int = 0
    ramps_fixed: int = 0

    @property
    def is_empty(self) -> bool:
        return self.pci_now is None and not (self.sidewalk_gap_closed_m or self.lights_fixed or self.ramps_fixed)


@dataclass(frozen=True)
class PublicStatus:
    at: datetime
    from_label: str
    to_label: str
    actor: str
    public_note: str


@dataclass
class PublicProposal:
    proposal: Proposal
    group: str
    category: CategoryChip
    district: str | None
    state_label: str
    estimate: dict[str, Any] | None
    condition: ConditionSummary
    history: list[PublicStatus]
    impact: Impact
    features: dict[str, Any]
    bounds: tuple[float, float, float, float] | None
    supports: int
    map_config: dict[str, Any] = field(default_factory=dict)
    comparison: snapshots.Comparison = field(default_factory=snapshots.Comparison)
    districts: tuple[DistrictShare, ...] = ()  # each district's share, when it spans more than one


def get_public(*, session: Session, proposal_id: int) -> Proposal:
    """The proposal if the public may see it; a draft (or nothing) raises ProposalNotFound."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.state not in PUBLIC_STATES:
        raise ProposalNotFound()
    return proposal


def _collection(proposal: Proposal, assets: list[dict[str, Any]]) -> dict[str, Any]:
    collection = snapshots.feature_collection(assets)
    if proposal.geom is not None:
        collection["features"].insert(0, {"type": "Feature", "id": f"proposal:{proposal.id}",
                                          "geometry": mapping(to_shape(proposal.geom)),
                                          "properties": {"layer": "drawn", "id": proposal.id,
                                                         "label": proposal.title}})
    return collection


def impact_of(*, rows: list[tuple[float, float, str]], years: int, condition: ConditionSummary,
              curves: Curves | None = None) -> Impact:
    """Length-weighted PCI along the project (``rows``: length, PCI, functional class of each rated
    segment) as covered, after ``years`` untouched, and after ``years`` if treated now (the
    deterioration curve); gaps closed, lights and ramps fixed."""
    now = untreated = treated = None
    length = 0.0
    if rows:
        length = sum(m for m, _, _ in rows)
        if length > 0:
            now = sum(m * pci for m, pci, _ in rows) / length
            untreated = sum(m * float(project_pci(float(pci), float(years), fc, curves=curves))
                            for m, pci, fc in rows) / length
            treated = sum(m * float(pci_at_age(float(years), fc, curves=curves)) for m, _, fc in rows) / length
    return Impact(years=years, pavement_length_m=length, pci_now=now, pci_untreated=untreated, pci_treated=treated,
                  sidewalk_gap_closed_m=condition.sidewalk_gap_length_m, lights_fixed=condition.lights_out,
                  ramps_fixed=condition.ramps_poor_or_missing)


def project_page(*, session: Session, proposal_id: int) -> PublicProposal:
    proposal = get_public(session=session, proposal_id=proposal_id)
    assets = snapshots.covered_assets(session=session, proposal=proposal)  # as submitted
    view = programs.program_view(session=session)
    condition = snapshots.condition_summary(assets, view.program.band_scheme if view else None)
    years = view.program.collection_years if view else 5
    group = session.get(Group, proposal.group_id)
    district = session.get(District, proposal.district_id) if proposal.district_id else None
    group_name = group.name if group else ""
    # the public sees the group (not which member clicked) or "City staff"
    history = [PublicStatus(t.at, t.from_state, t.to_state, t.actor if t.actor == "City staff" else group_name,
                            t.public_note)
               for t in states.transitions(session=session, proposal_id=proposal.id or 0, for_staff=False)]
    collection = _collection(proposal, assets)
    shapes = [shape(f["geometry"]) for f in collection["features"] if f.get("geometry")]
    return PublicProposal(
        proposal=proposal, group=group.name if group else "", category=_chip(category_chips(session=session),
                                                                               proposal.category_key),
        district=localized(district.name, district.name_es) if district else None,
        state_label=ProposalState(proposal.state).label,
        estimate=localized_estimate(session=session, estimate=proposal.estimate), condition=condition, history=history,
        impact=impact_of(rows=snapshots.pavement_rows(assets), years=years, condition=condition,
                         curves=impact_curves(session=session)),
        features=collection, bounds=bounds(shapes) if shapes else None,
        supports=participation.support_count(session=session, proposal_id=proposal.id or 0),
        map_config=map_config(session=session, collection=collection,
                              box=bounds(shapes) if shapes else None),
        comparison=snapshots.compare(session=session, assets=assets),
        districts=_localized_shares(session, district_shares(session=session, proposal_ids=[proposal.id or 0])
                                    .get(proposal.id or 0, ())))


def _localized_shares(session: Session, shares: tuple[DistrictShare, ...]) -> tuple[DistrictShare, ...]:
    """The district shares with each district named in the viewer's language."""
    if not shares:
        return shares
    names = district_names.by_id(session=session)
    return tuple(replace(s, name=names.get(s.district_id, s.name)) if s.district_id is not None else s
                 for s in shares)


def map_config(*, session: Session, collection: dict[str, Any], box: Any) -> dict[str, Any]:
    """What static/js/project-map.js draws: the project over the pavement tiles, coloured by band."""
    bands = [{"key": e.key, "colour": e.colour} for e in pavement_entries(pavement_scheme(session=session))]
    has_pavement = any(layer.kind is LayerKind.pavement for layer in loaded_layers(session=session))
    return {"features": collection, "bounds": box, "bands": bands, "unrated": UNRATED.colour,
            "tilejson": "/tiles/pavement.json" if has_pavement else None}


# -- the map ----------------------------------------------------------------------------------

MAX_MAP_FEATURES = 2000


def _geometry_of(session: Session, proposal: Proposal, asset_shapes: dict[int, list[BaseGeometry]]
                 ) -> BaseGeometry | None:
    if proposal.geom is not None:
        return to_shape(proposal.geom)
    parts = asset_shapes.get(proposal.id or 0)
    if not parts:
        return None
    return GeometryCollection(parts)


def map_features(*, session: Session, bbox: tuple[float, float, float, float] | None,
                 category: str = "", status: str = "", district: str = "") -> dict[str, Any]:
    """Public proposals meeting ``bbox`` as GeoJSON (drawn location, else their assets as submitted),
    with the category's colour and name so the map colours them and says what they are in words."""
    chips = category_chips(session=session)
    query = select(Proposal, Group.name).join(Group, col(Group.id) == Proposal.group_id).where(
        col(Proposal.state).in_(PUBLIC_STATES))
    if category:
        query = query.where(col(Proposal.category_key) == category)
    if status:
        query = query.where(col(Proposal.state) == status)
    if district.isdigit():
        query = query.where(col(Proposal.district_id) == int(district))
    found = list(session.exec(query.order_by(col(Proposal.id)).limit(MAX_MAP_FEATURES)))
    asset_shapes: dict[int, list[BaseGeometry]] = {}
    for proposal, _group in found:  # the assets as submitted, whatever the layers hold now
        if proposal.geom is None and proposal.asset_snapshot is not None:
            asset_shapes[proposal.id or 0] = [shape(a["geometry"]) for a in proposal.asset_snapshot.get("assets", [])]
    ids = [p.id or 0 for p, _ in found if p.geom is None and p.asset_snapshot is None]
    if ids:  # submitted before snapshots existed: the assets the layers still have
        links = list(session.exec(select(ProposalAsset).where(col(ProposalAsset.proposal_id).in_(ids),
                                                              col(ProposalAsset.missing).is_(False))))
        by_key: dict[str, list[int]] = {}
        for link in links:
            by_key.setdefault(f"{link.layer}:{link.asset_id}", []).append(link.proposal_id)
        keys = [AssetKey(link.layer, link.asset_id) for link in links]
        for feature in features(session=session, keys=keys)["features"]:
            for pid in by_key.get(feature["id"], []):
                asset_shapes.setdefault(pid, []).append(shape(feature["geometry"]))
    frame = box(*bbox) if bbox else None
    out = []
    for proposal, group_name in found:
        geometry = _geometry_of(session, proposal, asset_shapes)
        if geometry is None or (frame is not None and not geometry.intersects(frame)):
            continue
        chip = _chip(chips, proposal.category_key)
        out.append({"type": "Feature", "id": proposal.id, "geometry": mapping(geometry), "properties": {
            "id": proposal.id, "title": proposal.title, "group": group_name, "category": chip.key,
            "category_name": chip.name, "colour": chip.colour, "state": proposal.state,
            "state_label": ProposalState(proposal.state).label, "cost_cents": proposal.final_cents,
            "url": f"/proposals/{proposal.id}"}})
    return {"type": "FeatureCollection", "features": out}
