"""Create, save, price and preview a group's proposals.

Saving is optimistic: the editor sends the version it loaded, and the save is
``UPDATE proposal … WHERE id = ? AND version = ?``. If another member saved first, nothing is
written and ``VersionConflict`` names who changed it and when; the route shows the person's own
input again, so nothing they typed is lost. Every save writes a revision (edit history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from app import groups, program
from app.costing.estimate import CostingError, Override, check_override
from app.costing.service import AssetRef, price_assets
from app.groups import GroupNotFound
from app.i18n import N_, number
from app.i18n import gettext as _
from app.proposals import ProposalError, ProposalNotFound, VersionConflict, history, links
from app.proposals.frozen import refuse_if_published
from app.proposals.selection import (
    AssetKey,
    check_assets_exist,
    check_in_city,
    district_for,
    geometry_geojson,
    parse_geometry,
    storable,
)
from models.accounts import Group, User
from models.base import utcnow
from models.proposals import Proposal, ProposalAsset, ProposalState

EDITABLE_STATES = [s.value for s in ProposalState if s.group_may_edit]
MIN_YEAR, MAX_YEARS_AHEAD = 2000, 30
TEXT_PROBLEMS = {  # field: (when it is missing, when it is too long)
    "title": (N_("Give the proposal a title."), N_("Keep the title under {limit} characters.")),
    "description": (N_("Give the proposal a description."), N_("Keep the description under {limit} characters.")),
}


@dataclass
class ProposalInput:
    """What the group writes in the editor (or sends to the API)."""

    title: str
    description: str = ""
    category_key: str | None = None
    scheduled_year: int | None = None
    geometry: str | dict[str, Any] | None = None
    assets: list[AssetKey] = field(default_factory=list)
    override_cents: int | None = None
    override_reason: str | None = None
    alternate_of_id: int | None = None


@dataclass
class Priced:
    estimate: dict[str, Any] | None
    note: str | None


@dataclass
class Prepared:
    values: dict[str, Any]
    keys: list[AssetKey]
    geometry: BaseGeometry | None
    priced: Priced


# -- reading ---------------------------------------------------------------------------------

def get_for_member(*, session: Session, group_id: int, proposal_id: int, viewer: User | None) -> Proposal:
    """The proposal, if it belongs to the group and the viewer is a member; else ``ProposalNotFound``."""
    try:
        groups.require_member(session=session, group_id=group_id, user=viewer)
    except GroupNotFound as error:
        raise ProposalNotFound() from error
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.group_id != group_id:
        raise ProposalNotFound()
    return proposal


def asset_keys(*, session: Session, proposal_id: int) -> list[AssetKey]:
    rows = session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == proposal_id,
                                                    col(ProposalAsset.missing).is_(False))
                        .order_by(col(ProposalAsset.id)))
    return [AssetKey(r.layer, r.asset_id) for r in rows]


def input_of(*, session: Session, proposal: Proposal) -> ProposalInput:
    """The stored proposal as editor input (for the form and for re-pricing)."""
    geometry = geometry_geojson(proposal.geom)
    return ProposalInput(
        title=proposal.title, description=proposal.description, category_key=proposal.category_key,
        scheduled_year=proposal.scheduled_year, geometry=geometry,
        assets=asset_keys(session=session, proposal_id=proposal.id or 0), override_cents=proposal.override_cents,
        override_reason=proposal.override_reason, alternate_of_id=proposal.alternate_of_id)


# -- validation and pricing ------------------------------------------------------------------

def _text(value: str | None, *, name: str, limit: int, required: bool = False) -> str:
    text = (value or "").strip()
    missing, too_long = TEXT_PROBLEMS[name]
    if required and not text:
        raise ProposalError(_(missing), field=name)
    if len(text) > limit:
        raise ProposalError(_(too_long).format(limit=number(limit)), field=name)
    return text


def _category(session: Session, key: str | None) -> str | None:
    key = (key or "").strip() or None
    if key is None:
        return None
    view = program.program_view(session=session)
    keys = [c.key for c in view.categories] if view else []
    if keys and key not in keys:
        raise ProposalError(_("“{key}” is not a category of the program.").format(key=key[:40]),
                            field="category_key")
    if len(key) > 40:
        raise ProposalError(_("That category key is too long."), field="category_key")
    return key


def _year(year: int | None) -> int | None:
    if year is None:
        return None
    latest = date.today().year + MAX_YEARS_AHEAD
    if not MIN_YEAR <= year <= latest:
        raise ProposalError(_("Schedule the work between {first} and {last}.").format(first=MIN_YEAR, last=latest),
                            field="scheduled_year")
    return year


def _alternate(session: Session, group_id: int, proposal_id: int | None, alternate_of_id: int | None) -> int | None:
    if alternate_of_id is None:
        return None
    if alternate_of_id == proposal_id:
        raise ProposalError(_("A proposal cannot be an alternate of itself."), field="alternate_of_id")
    primary = session.get(Proposal, alternate_of_id)
    if primary is None or primary.group_id != group_id:
        raise ProposalError(_("Choose one of the group's own proposals as the one this is an alternate of."),
                            field="alternate_of_id")
    if primary.alternate_of_id is not None:
        raise ProposalError(_("“{title}” is itself an alternate; choose the main project.").format(title=primary.title),
                            field="alternate_of_id")
    if proposal_id is not None and session.exec(
            select(Proposal.id).where(Proposal.alternate_of_id == proposal_id)).first() is not None:
        raise ProposalError(_("This proposal has alternates of its own, so it cannot be an alternate."),
                            field="alternate_of_id")
    return alternate_of_id


def override_of(data: ProposalInput) -> Override | None:
    amount, reason = data.override_cents, (data.override_reason or "").strip()
    if amount is None and not reason:
        return None
    if amount is None:
        raise ProposalError(_("Give the override amount, or clear its reason."), field="override_amount")
    return Override(amount, reason)


def price(*, session: Session, keys: list[AssetKey], scheduled_year: int | None,
          override: Override | None) -> Priced:
    """The estimate for the selection (with the current catalog), or a note why there is none.
    An override that is negative, absurd or without a reason raises ``ProposalError``."""
    try:
        if not keys:
            if override is not None:
                check_override(override, total_cents=0)
            return Priced(None, _("Select assets on the map to get an estimate."))
        if scheduled_year is None:
            if override is not None:
                check_override(override, total_cents=0)
            return Priced(None, _("Choose the year the work is scheduled for to price it."))
        result = price_assets(session=session, refs=[AssetRef(k.layer, k.id) for k in keys],
                              scheduled_year=scheduled_year, override=override)
    except CostingError as error:
        if error.field == "catalog_version":
            return Priced(None, str(error))
        raise ProposalError(str(error), field=error.field) from error
    return Priced(result.to_dict(), None)


def prepare(*, session: Session, group_id: int, proposal_id: int | None, data: ProposalInput) -> Prepared:
    """Validate the input and compute what a save would store (reads only)."""
    title = _text(data.title, name="title", limit=200, required=True)
    description = _text(data.description, name="description", limit=10_000)
    category_key = _category(session, data.category_key)
    year = _year(data.scheduled_year)
    geometry = parse_geometry(data.geometry)
    if geometry is not None:
        check_in_city(session=session, geometry=geometry)
    keys = list(dict.fromkeys(data.assets))
    if keys:
        check_assets_exist(session=session, keys=keys)
    alternate_of_id = _alternate(session, group_id, proposal_id, data.alternate_of_id)
    override = override_of(data)
    priced = price(session=session, keys=keys, scheduled_year=year, override=override)
    estimate = priced.estimate
    values: dict[str, Any] = {
        "title": title, "description": description, "category_key": category_key, "scheduled_year": year,
        "geom": storable(geometry), "district_id": district_for(session=session, geometry=geometry, keys=keys),
        "alternate_of_id": alternate_of_id,
        "estimate": estimate,
        "estimate_catalog_version_id": estimate["catalog_version_id"] if estimate else None,
        "estimate_total_cents": estimate["total_cents"] if estimate else None,
        "estimate_low_cents": estimate["low_cents"] if estimate else None,
        "estimate_high_cents": estimate["high_cents"] if estimate else None,
        "override_cents": override.amount_cents if override else None,
        "override_reason": override.reason.strip() if override else None,
    }
    return Prepared(values, keys, geometry, priced)


# -- commands --------------------------------------------------------------------------------

def create_proposal(*, session: Session, group_id: int, actor: User, data: ProposalInput) -> Proposal:
    """A new draft at the end of the group's list."""
    try:
        groups.require_member(session=session, group_id=group_id, user=actor)
    except GroupNotFound as error:
        raise ProposalNotFound() from error
    prepared = prepare(session=session, group_id=group_id, proposal_id=None, data=data)
    # One creation at a time per group (a row lock on PostGIS; SQLite has one writer anyway), so two
    # new drafts never take the same place; uq_proposal_group_position is the backstop.
    session.exec(select(Group.id).where(Group.id == group_id).with_for_update())
    last = session.exec(select(func.max(Proposal.position)).where(Proposal.group_id == group_id)).one()
    proposal = Proposal(group_id=group_id, position=(last or 0) + 1, created_by_id=actor.id, updated_by_id=actor.id,
                        **prepared.values)
    session.add(proposal)
    session.flush()
    _replace_assets(session, proposal.id or 0, prepared.keys)
    history.record(session=session, proposal=proposal, keys=prepared.keys, actor=actor, geometry=prepared.geometry)
    session.commit()
    return proposal


def _replace_assets(session: Session, proposal_id: int, keys: list[AssetKey]) -> None:
    session.execute(delete(ProposalAsset).where(col(ProposalAsset.proposal_id) == proposal_id))
    session.add_all(links.new_links(session=session, proposal_id=proposal_id, keys=keys))


def not_editable_message(proposal: Proposal) -> str:
    state = ProposalState(proposal.state)
    if state is ProposalState.withdrawn:
        return _("This proposal was withdrawn; it can no longer be edited.")
    if proposal.submitted_at:
        return _("This proposal was submitted on {date} and is now “{state}”, so it can no longer be edited. "
                 "If staff need more information they will reopen it for editing.").format(
            date=f"{proposal.submitted_at:%Y-%m-%d}", state=_(state.label))
    return _("This proposal was submitted and is now “{state}”, so it can no longer be edited. "
             "If staff need more information they will reopen it for editing.").format(state=_(state.label))


def check_editable(proposal: Proposal) -> None:
    if not ProposalState(proposal.state).group_may_edit:
        raise ProposalError(not_editable_message(proposal), field="state")


def conflict(session: Session, proposal_id: int) -> ProposalError:
    """Why a versioned write matched no row: a newer version (who, when) or a state that forbids it."""
    current = session.get(Proposal, proposal_id)
    if current is None:
        return ProposalError(_("This proposal no longer exists."))
    session.refresh(current)
    if not ProposalState(current.state).group_may_edit:
        return ProposalError(not_editable_message(current), field="state")
    who = session.get(User, current.updated_by_id) if current.updated_by_id else None
    return VersionConflict(current_version=current.version, changed_by=who.display_name if who else _("Someone"),
                           changed_at=current.updated_at)


def update_proposal(*, session: Session, group_id: int, proposal_id: int, actor: User, expected_version: int,
                    data: ProposalInput) -> Proposal:
    """Save the group's changes if nobody saved since ``expected_version``; else ``VersionConflict``."""
    proposal = get_for_member(session=session, group_id=group_id, proposal_id=proposal_id, viewer=actor)
    refuse_if_published(session=session, proposal_ids=[proposal_id])
    check_editable(proposal)
    prepared = prepare(session=session, group_id=group_id, proposal_id=proposal_id, data=data)
    result = session.exec(
        update(Proposal)
        .where(col(Proposal.id) == proposal_id, col(Proposal.version) == expected_version,
               col(Proposal.state).in_(EDITABLE_STATES))
        .values(**prepared.values, version=expected_version + 1, updated_by_id=actor.id, updated_at=utcnow()))
    if result.rowcount != 1:
        session.rollback()
        raise conflict(session, proposal_id)
    _replace_assets(session, proposal_id, prepared.keys)
    session.flush()
    session.refresh(proposal)
    history.record(session=session, proposal=proposal, keys=prepared.keys, actor=actor, geometry=prepared.geometry)
    session.commit()
    return proposal


def delete_draft(*, session: Session, group_id: int, proposal_id: int, actor: User) -> None:
    proposal = get_for_member(session=session, group_id=group_id, proposal_id=proposal_id, viewer=actor)
    refuse_if_published(session=session, proposal_ids=[proposal_id])
    if proposal.state != ProposalState.draft:
        raise ProposalError(_("Only drafts can be deleted; withdraw a submitted proposal instead."), field="state")
    session.execute(update(Proposal).where(col(Proposal.alternate_of_id) == proposal_id).values(alternate_of_id=None))
    session.delete(proposal)
    session.commit()
