"""The editor's live side panel: the selection (with area, line and street-filter additions, and
removals from its list of selected assets — the keyboard's way to deselect), its quantities and
condition, the estimate, and the list's budget with this proposal's unsaved changes — computed
without writing anything."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, func, select

from app import program
from app.i18n import gettext as _
from app.i18n import ngettext
from app.proposals import ProposalError, editor, lists
from app.proposals.editor import ProposalInput
from app.proposals.selection import (
    ASSET_TABLES,
    AssetKey,
    ConditionSummary,
    assets_along,
    assets_inside,
    check_assets_exist,
    condition_summary,
    features,
    parse_asset_keys,
    parse_geometry,
    segments_on_street,
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

    @property
    def assets_value(self) -> str:
        return ",".join(str(k) for k in self.keys)


def asset_name(key: AssetKey) -> str:
    """"pavement 12", in the reader's language."""
    layers = {"pavement": _("pavement"), "sidewalk": _("sidewalk"), "ramp": _("ramp"), "streetlight": _("streetlight")}
    return f"{layers.get(key.layer, key.layer)} {key.id}"


def _take(session: Session, data: ProposalInput, take: str, street: str, pci_below: str) -> tuple[list[AssetKey], str]:
    if take == "inside":
        area = parse_geometry(data.geometry)
        if area is None:
            raise ProposalError(_("Draw an area (a polygon) first, then take the segments inside it."),
                                field="geometry")
        found = assets_inside(session=session, area=area)
        return found, ngettext("Added {count} segment inside the area.", "Added {count} segments inside the area.",
                               len(found)).format(count=len(found))
    if take == "along":
        line = parse_geometry(data.geometry)
        if line is None:
            raise ProposalError(_("Draw a line first, then take the segments along it."), field="geometry")
        found = assets_along(session=session, line=line)
        return found, ngettext("Added {count} segment along the line.", "Added {count} segments along the line.",
                               len(found)).format(count=len(found))
    if take == "street":
        try:
            below = float(pci_below) if pci_below.strip() else None
        except ValueError:
            raise ProposalError(_("PCI must be a number between 0 and 100."), field="pci_below") from None
        found = segments_on_street(session=session, street=street, pci_below=below)
        return found, ngettext("Added {count} segment on {street}.", "Added {count} segments on {street}.",
                               len(found)).format(count=len(found), street=street.strip())
    raise ProposalError(_("Choose how to add segments."), field="take")


def build(*, session: Session, proposal: Proposal, data: ProposalInput | None, take: str = "", street: str = "",
          pci_below: str = "", remove: str = "", error: str | None = None) -> Workbench:
    message = None
    if data is None:
        data = editor.input_of(session=session, proposal=proposal)
    keys = list(dict.fromkeys(data.assets))
    try:
        if remove:
            gone = set(parse_asset_keys(remove))
            if gone & set(keys):
                message = _("Removed {asset}.").format(asset=", ".join(asset_name(k) for k in sorted(gone & set(keys))))
            keys = [k for k in keys if k not in gone]
        if take:
            found, message = _take(session, data, take, street, pci_below)
            keys = list(dict.fromkeys(keys + found))
        check_assets_exist(session=session, keys=keys)
    except ProposalError as problem:
        error, message = str(problem), None
        keys = [k for k in keys if k in set(editor.asset_keys(session=session, proposal_id=proposal.id or 0))]
    view = program.program_view(session=session)
    summary = condition_summary(session=session, keys=keys, band_scheme=view.program.band_scheme if view else None)
    estimate, note, override_ok = None, None, True
    try:
        priced = editor.price(session=session, keys=keys, scheduled_year=data.scheduled_year,
                              override=editor.override_of(data))
        estimate, note = priced.estimate, priced.note
    except ProposalError as problem:
        error, override_ok = error or str(problem), False
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
                     selected=[SelectedAsset(k, streets.get(str(k))) for k in keys])


def city_bounds(*, session: Session) -> list[float] | None:
    """The extent [west, south, east, north] of the loaded assets (else of every layer), for the editor's map."""
    extent = select(func.min(Layer.min_lon), func.min(Layer.min_lat), func.max(Layer.max_lon),
                    func.max(Layer.max_lat)).where(col(Layer.min_lon).is_not(None))
    for query in (extent.where(col(Layer.kind).in_(list(ASSET_TABLES))), extent):
        row = session.exec(query).one()
        if row and None not in row:
            return [float(v) for v in row]
    return None
