"""The editor's live side panel: the selection (with area, line and street-filter additions, and
removals from its list of selected assets — the keyboard's way to deselect), its quantities,
condition and districts, the estimate, and the list's budget with this proposal's unsaved changes —
computed without writing anything.

A take adds to the selection, or replaces it when the member chose to; a take that finds nothing
raises and leaves the selection exactly as sent — never replaced by an empty or the saved one. The
panel says whether its action changed the selection (``Workbench.changed``) and what it was before
(``sent_value``), so the editor takes the new selection only then, and can undo it."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, func, select

from app import program
from app.costing.catalog import localized_estimate
from app.i18n import gettext as _
from app.i18n import ngettext
from app.proposals import ProposalError, editor, lists
from app.proposals.editor import ProposalInput
from app.proposals.selection import (
    ASSET_TABLES,
    AssetKey,
    ConditionSummary,
    DistrictShare,
    assets_along,
    assets_inside,
    condition_summary,
    existing_assets,
    features,
    gone_message,
    parse_asset_keys,
    parse_geometry,
    segments_on_street,
    shares_of,
)
from models.layers import Layer
from models.proposals import Proposal


@dataclass(frozen=True)
class SelectedAsset:
    """One selected asset as the side panel lists it, with its street when it has one."""

    key: AssetKey
    street: str | None


@dataclass
class Workbench:
    keys: list[AssetKey]
    features_json: str
    summary: ConditionSummary
    estimate: dict[str, Any] | None
    estimate_note: str | None
    budget: lists.BudgetView
    final_cents: int | None
    message: str | None = None
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    selected: list[SelectedAsset] = field(default_factory=list)
    sent_value: str = ""  # the selection as the editor sent it, before this answer's action
    districts: tuple[DistrictShare, ...] = ()

    @property
    def assets_value(self) -> str:
        return ",".join(str(k) for k in self.keys)

    @property
    def changed(self) -> bool:
        """The answer changed the selection (a take or a removal): the editor takes the new one and
        can undo back to ``sent_value``. Otherwise the editor's own selection field is left alone."""
        return self.assets_value != self.sent_value


def asset_name(key: AssetKey) -> str:
    """"pavement 12", in the reader's language."""
    layers = {"pavement": _("pavement"), "sidewalk": _("sidewalk"), "ramp": _("ramp"), "streetlight": _("streetlight")}
    return f"{layers.get(key.layer, key.layer)} {key.id}"


TAKE_MODES = ("add", "replace")  # what "take" does with the segments found: add them, or replace the selection


def _found(session: Session, data: ProposalInput, take: str, street: str, pci_below: str) -> list[AssetKey]:
    """The segments an area, a line or the street filter takes; ``ProposalError`` when it takes none."""
    if take == "inside":
        area = parse_geometry(data.geometry)
        if area is None:
            raise ProposalError(_("Draw an area (a polygon) first, then take the segments inside it."),
                                field="geometry")
        return assets_inside(session=session, area=area)
    if take == "along":
        line = parse_geometry(data.geometry)
        if line is None:
            raise ProposalError(_("Draw a line first, then take the segments along it."), field="geometry")
        return assets_along(session=session, line=line)
    if take == "street":
        try:
            below = float(pci_below) if pci_below.strip() else None
        except ValueError:
            raise ProposalError(_("PCI must be a number between 0 and 100."), field="pci_below") from None
        return segments_on_street(session=session, street=street, pci_below=below)
    raise ProposalError(_("Choose how to add segments."), field="take")


def _taken(take: str, count: int, street: str, *, replaced: bool) -> str:
    """What a take did, e.g. "Added 2 segments along the line."."""
    if replaced:
        if take == "inside":
            text = ngettext("Replaced the selection with {count} segment inside the area.",
                            "Replaced the selection with {count} segments inside the area.", count)
        elif take == "along":
            text = ngettext("Replaced the selection with {count} segment along the line.",
                            "Replaced the selection with {count} segments along the line.", count)
        else:
            text = ngettext("Replaced the selection with {count} segment on {street}.",
                            "Replaced the selection with {count} segments on {street}.", count)
    elif take == "inside":
        text = ngettext("Added {count} segment inside the area.", "Added {count} segments inside the area.", count)
    elif take == "along":
        text = ngettext("Added {count} segment along the line.", "Added {count} segments along the line.", count)
    else:
        text = ngettext("Added {count} segment on {street}.", "Added {count} segments on {street}.", count)
    return text.format(count=count, street=" ".join(street.split()))


def _apply(session: Session, data: ProposalInput, keys: list[AssetKey], *, take: str, take_mode: str, street: str,
           pci_below: str, remove: str) -> tuple[list[AssetKey], str | None]:
    """The selection after one action (a removal or a take) and what it did. An action that takes
    nothing raises ``ProposalError`` and the caller keeps the selection as it was: never replaced
    by an empty one."""
    message = None
    if remove:
        gone = set(parse_asset_keys(remove)) & set(keys)
        if gone:
            message = _("Removed {asset}.").format(asset=", ".join(asset_name(k) for k in sorted(gone)))
        keys = [k for k in keys if k not in gone]
    if take:
        if take_mode not in TAKE_MODES:
            raise ProposalError(_("Choose whether to add the segments to the selection or replace it."),
                                field="take_mode")
        found = _found(session, data, take, street, pci_below)
        if take_mode == "replace":
            return found, _taken(take, len(found), street, replaced=True)
        new = [k for k in found if k not in set(keys)]
        if not new:
            return keys, ngettext("The {count} segment it takes is already selected; your selection is unchanged.",
                                  "The {count} segments it takes are already selected; your selection is unchanged.",
                                  len(found)).format(count=len(found))
        keys, message = keys + new, _taken(take, len(new), street, replaced=False)
    return keys, message


def build(*, session: Session, proposal: Proposal, data: ProposalInput | None, take: str = "", take_mode: str = "add",
          street: str = "", pci_below: str = "", remove: str = "", error: str | None = None,
          sent_assets: str | None = None) -> Workbench:
    """The side panel for the editor's input after one optional action (``remove``, or ``take``
    with ``take_mode``). Without input (``data`` None: the form could not be read), the stored
    proposal, with the selection as sent (``sent_assets``) when it can be read."""
    message = None
    if data is None:
        data = editor.input_of(session=session, proposal=proposal)
        with contextlib.suppress(ProposalError):  # unreadable: the stored selection is shown, the field left alone
            data.assets = parse_asset_keys(sent_assets) if sent_assets is not None else data.assets
    sent = list(dict.fromkeys(data.assets))
    keys = existing_assets(session=session, keys=sent)
    if len(keys) < len(sent):
        error = error or gone_message([k for k in sent if k not in set(keys)])
    try:
        keys, message = _apply(session, data, keys, take=take, take_mode=take_mode, street=street,
                               pci_below=pci_below, remove=remove)
    except ProposalError as problem:
        error, message = str(problem), None
    view = program.program_view(session=session)
    summary = condition_summary(session=session, keys=keys, band_scheme=view.program.band_scheme if view else None)
    estimate, note, override_ok = None, None, True
    try:
        priced = editor.price(session=session, keys=keys, scheduled_year=data.scheduled_year,
                              override=editor.override_of(data))
        estimate, note = localized_estimate(session=session, estimate=priced.estimate), priced.note
    except ProposalError as problem:
        error, override_ok = error or str(problem), False
    try:
        drawn = parse_geometry(data.geometry)
    except ProposalError:
        drawn = None
    projected = Proposal(
        id=proposal.id, group_id=proposal.group_id, title=proposal.title, state=proposal.state,
        category_key=data.category_key or None, alternate_of_id=data.alternate_of_id,
        estimate_total_cents=estimate["total_cents"] if estimate else None,
        override_cents=data.override_cents if override_ok else None)
    counts: dict[str, int] = {}
    for key in keys:
        counts[key.layer] = counts.get(key.layer, 0) + 1
    collection = features(session=session, keys=keys)
    streets = {f["id"]: f["properties"]["street"] for f in collection["features"]}
    return Workbench(keys=keys, features_json=json.dumps(collection), summary=summary,
                     estimate=estimate, estimate_note=note,
                     budget=lists.budget(session=session, group_id=proposal.group_id, projected=projected),
                     final_cents=projected.final_cents, message=message, error=error, counts=counts,
                     selected=[SelectedAsset(k, streets.get(str(k))) for k in keys],
                     sent_value=",".join(str(k) for k in sent),
                     districts=shares_of(session=session, geometry=drawn, keys=keys))


def city_bounds(*, session: Session) -> list[float] | None:
    """The extent [west, south, east, north] of the loaded assets (else of every layer), for the editor's map."""
    extent = select(func.min(Layer.min_lon), func.min(Layer.min_lat), func.max(Layer.max_lon),
                    func.max(Layer.max_lat)).where(col(Layer.min_lon).is_not(None))
    for query in (extent.where(col(Layer.kind).in_(list(ASSET_TABLES))), extent):
        row = session.exec(query).one()
        if row and None not in row:
            return [float(v) for v in row if v is not None]
    return None
