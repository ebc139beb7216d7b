"""A group's proposals: the editor (map, selection, live estimate), submit and withdraw, the list
with its budget bar, and the read-only shared list."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import program
from app.costing.arithmetic import dollars, parse_dollars
from app.deps import CurrentUser, SessionDep
from app.i18n import N_
from app.i18n import gettext as _
from app.proposals import (
    ProposalError,
    ProposalNotFound,
    VersionConflict,
    editor,
    history,
    lists,
    snapshots,
    states,
    workbench,
)
from app.proposals.editor import ProposalInput
from app.proposals.selection import parse_asset_keys
from app.web import flash, is_htmx, render, use_viewer_language
from models.proposals import Proposal, ProposalState

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
# parse_dollars' refusals with label="The override", translated when shown (_input_of)
OVERRIDE_PROBLEMS = (N_("The override must be an amount in dollars, such as 1,250.00."),
                     N_("The override must be in dollars and cents (at most two decimals)."),
                     N_("The override must not be negative."), N_("The override is too large."))


@dataclass
class EditorForm:
    """The editor's fields as typed, so a refused or conflicting save comes back as it was sent."""

    version: str = ""
    title: str = ""
    description: str = ""
    category_key: str = ""
    scheduled_year: str = ""
    geometry: str = ""
    assets: str = ""
    override_amount: str = ""
    override_reason: str = ""
    alternate_of_id: str = ""
    errors: dict[str, str] = field(default_factory=dict)


FormText = Annotated[str, Form(max_length=20_000)]
GeometryText = Annotated[str, Form(max_length=500_000)]


def _not_found() -> HTTPException:
    return HTTPException(404, _("There is no such proposal."))


def _input_of(form: EditorForm) -> ProposalInput:
    """Typed input from the form; raises ProposalError naming the field that is wrong."""
    try:
        year = int(form.scheduled_year) if form.scheduled_year.strip() else None
    except ValueError:
        raise ProposalError(_("The year must be a number such as 2027."), field="scheduled_year") from None
    try:
        override = parse_dollars(form.override_amount, label="The override")
    except ValueError as error:
        raise ProposalError(_(str(error)), field="override_amount") from None
    alternate = int(form.alternate_of_id) if form.alternate_of_id.strip().isdigit() else None
    return ProposalInput(title=form.title, description=form.description, category_key=form.category_key or None,
                         scheduled_year=year, geometry=form.geometry or None, assets=parse_asset_keys(form.assets),
                         override_cents=override, override_reason=form.override_reason or None,
                         alternate_of_id=alternate)


def _form_of(session: SessionDep, proposal: Proposal) -> EditorForm:
    data = editor.input_of(session=session, proposal=proposal)
    return EditorForm(
        version=str(proposal.version), title=data.title, description=data.description,
        category_key=data.category_key or "", scheduled_year=str(data.scheduled_year or ""),
        geometry=json.dumps(data.geometry) if data.geometry else "", assets=",".join(str(k) for k in data.assets),
        override_amount=dollars(data.override_cents) if data.override_cents is not None else "",
        override_reason=data.override_reason or "", alternate_of_id=str(data.alternate_of_id or ""))


def _editor_page(request: Request, session: SessionDep, viewer: CurrentUser, proposal: Proposal,
                 form: EditorForm, *, status_code: int = 200) -> HTMLResponse:
    view = program.program_view(session=session)
    template = "proposals/editor.html" if ProposalState(proposal.state).group_may_edit else "proposals/show.html"
    try:
        bench = workbench.build(session=session, proposal=proposal, data=_input_of(form))
    except ProposalError as error:
        bench = workbench.build(session=session, proposal=proposal, data=None, error=str(error),
                                sent_assets=form.assets)
    return render(request, template, {
        "proposal": proposal, "form": form, "bench": bench,
        "categories": view.categories if view else [],
        "alternatives": [r for r in lists.rows(session=session, group_id=proposal.group_id)
                         if r.id != proposal.id and r.alternate_of_id is None],
        "accepting": program.accepting_proposals(session=session),
        "completeness": states.completeness_problems(session, proposal),
        "transitions": states.transitions(session=session, proposal_id=proposal.id or 0),
        "revisions": history.revisions(session=session, proposal_id=proposal.id or 0)[:20],
        "allowed": states.allowed_next(proposal.state, staff=False),
        "map_bounds": workbench.city_bounds(session=session),
        "comparison": snapshots.comparison(session=session, proposal=proposal),
    }, status_code=status_code)


def _load(session: SessionDep, viewer: CurrentUser, group_id: int, proposal_id: int) -> Proposal:
    try:
        return editor.get_for_member(session=session, group_id=group_id, proposal_id=proposal_id, viewer=viewer)
    except ProposalNotFound as error:
        raise _not_found() from error


# -- the list --------------------------------------------------------------------------------

def _list_context(session: SessionDep, group_id: int) -> dict[str, Any]:
    return {"rows": lists.rows(session=session, group_id=group_id),
            "budget": lists.budget(session=session, group_id=group_id)}


@router.get("/groups/{group_id}/list", response_class=HTMLResponse)
def group_list(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int) -> HTMLResponse:
    try:
        group = lists._require_member(session, group_id, viewer)
    except ProposalNotFound as error:
        raise HTTPException(404, _("There is no such group.")) from error
    token = lists.current_share_token(session=session, group_id=group_id)
    return render(request, "proposals/list.html", {
        "group": group, **_list_context(session, group_id), "share_token": token, "read_only": False})


@router.post("/groups/{group_id}/list/move", response_model=None)
def move(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int,
         proposal_id: Annotated[int, Form()], direction: Annotated[str, Form(max_length=10)]) -> Response:
    error_message = None
    try:
        lists.move(session=session, group_id=group_id, proposal_id=proposal_id, actor=viewer, direction=direction)
    except ProposalNotFound as error:
        raise _not_found() from error
    except ProposalError as error:
        error_message = str(error)
    if is_htmx(request):
        return render(request, "proposals/_list_body.html", {
            "group": {"id": group_id}, **_list_context(session, group_id), "read_only": False,
            "list_error": error_message})
    if error_message:
        flash(request, error_message, "error")
    return RedirectResponse(f"/groups/{group_id}/list", status_code=303)


@router.get("/groups/{group_id}/list/budget", response_class=HTMLResponse)
def budget_partial(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int) -> HTMLResponse:
    try:
        lists._require_member(session, group_id, viewer)
    except ProposalNotFound as error:
        raise HTTPException(404, _("There is no such group.")) from error
    return render(request, "proposals/_budget.html", {"budget": lists.budget(session=session, group_id=group_id)})


@router.post("/groups/{group_id}/list/share", response_model=None)
def share(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int,
          stop: Annotated[str, Form()] = "") -> Response:
    try:
        if stop:
            lists.stop_sharing(session=session, group_id=group_id, actor=viewer)
            flash(request, _("The share link no longer works."), "success")
        else:
            lists.share_token(session=session, group_id=group_id, actor=viewer)
            flash(request, _("Anyone with the link can now read this list (not edit it)."), "success")
    except ProposalNotFound as error:
        raise HTTPException(404, _("There is no such group.")) from error
    return RedirectResponse(f"/groups/{group_id}/list", status_code=303)


@router.get("/lists/{token}", response_class=HTMLResponse)
def shared_list(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    try:
        group = lists.shared_group(session=session, token=token)
    except ProposalNotFound as error:
        raise HTTPException(404, _("This share link does not work (any more).")) from error
    return render(request, "proposals/list.html", {
        "group": group, **_list_context(session, group.id or 0), "share_token": None, "read_only": True})


# -- proposals -------------------------------------------------------------------------------

@router.post("/groups/{group_id}/proposals", response_model=None)
def create(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int,
           title: Annotated[str, Form(max_length=1000)]) -> Response:
    try:
        proposal = editor.create_proposal(session=session, group_id=group_id, actor=viewer,
                                          data=ProposalInput(title=title))
    except ProposalNotFound as error:
        raise HTTPException(404, _("There is no such group.")) from error
    except ProposalError as error:
        flash(request, str(error), "error")
        return RedirectResponse(f"/groups/{group_id}/list", status_code=303)
    flash(request, _("Draft created. Select its segments on the map, then save."), "success")
    return RedirectResponse(f"/groups/{group_id}/proposals/{proposal.id}", status_code=303)


@router.get("/groups/{group_id}/proposals/{proposal_id}", response_class=HTMLResponse)
def edit(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int, proposal_id: int) -> HTMLResponse:
    proposal = _load(session, viewer, group_id, proposal_id)
    return _editor_page(request, session, viewer, proposal, _form_of(session, proposal))


def _editor_form(version: str, title: str, description: str, category_key: str, scheduled_year: str,
                 geometry: str, assets: str, override_amount: str, override_reason: str,
                 alternate_of_id: str) -> EditorForm:
    return EditorForm(version=version, title=title, description=description, category_key=category_key,
                      scheduled_year=scheduled_year, geometry=geometry, assets=assets,
                      override_amount=override_amount, override_reason=override_reason,
                      alternate_of_id=alternate_of_id)


@router.post("/groups/{group_id}/proposals/{proposal_id}", response_model=None)
def save(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int, proposal_id: int,
         version: Annotated[str, Form(max_length=12)], title: FormText = "", description: FormText = "",
         category_key: FormText = "", scheduled_year: FormText = "", geometry: GeometryText = "",
         assets: GeometryText = "", override_amount: FormText = "", override_reason: FormText = "",
         alternate_of_id: FormText = "") -> Response:
    proposal = _load(session, viewer, group_id, proposal_id)
    form = _editor_form(version, title, description, category_key, scheduled_year, geometry, assets,
                        override_amount, override_reason, alternate_of_id)
    try:
        expected = int(version)
        editor.update_proposal(session=session, group_id=group_id, proposal_id=proposal_id, actor=viewer,
                               expected_version=expected, data=_input_of(form))
    except ValueError as error:  # ProposalError, VersionConflict, or a tampered version
        session.refresh(proposal)
        message = str(error) if isinstance(error, ProposalError) else _("Reload the page and try again.")
        form.errors = {getattr(error, "field", None) or "form": message}
        if isinstance(error, VersionConflict):
            form.errors = {"form": message}
        return _editor_page(request, session, viewer, proposal, form,
                            status_code=409 if isinstance(error, VersionConflict) else 400)
    flash(request, _("Saved."), "success")
    return RedirectResponse(f"/groups/{group_id}/proposals/{proposal_id}", status_code=303)


@router.post("/groups/{group_id}/proposals/{proposal_id}/preview", response_class=HTMLResponse)
def preview(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int, proposal_id: int,
            version: Annotated[str, Form(max_length=12)] = "", title: FormText = "", description: FormText = "",
            category_key: FormText = "", scheduled_year: FormText = "", geometry: GeometryText = "",
            assets: GeometryText = "", override_amount: FormText = "", override_reason: FormText = "",
            alternate_of_id: FormText = "", take: Annotated[str, Form(max_length=20)] = "",
            take_mode: Annotated[str, Form(max_length=20)] = "add", street: FormText = "", pci_below: FormText = "",
            remove: Annotated[str, Form(max_length=40)] = "") -> HTMLResponse:
    """The live side panel: selection, quantities, condition, estimate and budget — nothing is saved.
    ``take`` adds segments (inside the drawn area, along the drawn line, on a street) or, with
    ``take_mode=replace``, replaces the selection with them; ``remove`` drops one selected asset (the
    side panel's "Remove" buttons). The answer replaces the editor's selection only when the action
    changed it; one that takes nothing leaves it as it was."""
    proposal = _load(session, viewer, group_id, proposal_id)
    form = _editor_form(version, title, description, category_key, scheduled_year, geometry, assets,
                        override_amount, override_reason, alternate_of_id)
    try:
        data = _input_of(form)
        bench = workbench.build(session=session, proposal=proposal, data=data, take=take, take_mode=take_mode,
                                street=street, pci_below=pci_below, remove=remove)
    except ProposalError as error:
        bench = workbench.build(session=session, proposal=proposal, data=None, error=str(error),
                                sent_assets=form.assets)
    return render(request, "proposals/_workbench.html", {"proposal": proposal, "bench": bench, "oob": True})


@router.post("/groups/{group_id}/proposals/{proposal_id}/submit", response_model=None)
def submit(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int, proposal_id: int,
           version: Annotated[str, Form(max_length=12)]) -> Response:
    _load(session, viewer, group_id, proposal_id)
    try:
        result = states.submit(session=session, group_id=group_id, proposal_id=proposal_id, actor=viewer,
                               expected_version=int(version) if version.isdigit() else -1)
    except ProposalNotFound as error:
        raise _not_found() from error
    except ProposalError as error:
        flash(request, str(error), "error")
    else:
        flash(request, _("This proposal was already submitted; nothing changed.") if result.already else
              _("Submitted. City staff will review it; you will see its status and their notes here."), "success")
    return RedirectResponse(f"/groups/{group_id}/proposals/{proposal_id}", status_code=303)


@router.post("/groups/{group_id}/proposals/{proposal_id}/withdraw", response_model=None)
def withdraw(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int, proposal_id: int,
             reason: FormText = "") -> Response:
    _load(session, viewer, group_id, proposal_id)
    try:
        states.withdraw(session=session, group_id=group_id, proposal_id=proposal_id, actor=viewer, reason=reason)
    except ProposalError as error:
        flash(request, str(error), "error")
    else:
        flash(request, _("Withdrawn."), "success")
    return RedirectResponse(f"/groups/{group_id}/proposals/{proposal_id}", status_code=303)


@router.post("/groups/{group_id}/proposals/{proposal_id}/delete", response_model=None)
def delete(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int, proposal_id: int) -> Response:
    _load(session, viewer, group_id, proposal_id)
    try:
        editor.delete_draft(session=session, group_id=group_id, proposal_id=proposal_id, actor=viewer)
    except ProposalError as error:
        flash(request, str(error), "error")
        return RedirectResponse(f"/groups/{group_id}/proposals/{proposal_id}", status_code=303)
    flash(request, _("Draft deleted."), "success")
    return RedirectResponse(f"/groups/{group_id}/list", status_code=303)
