"""Staff triage: the board (/staff/triage), a proposal's review page, overlaps and the rubric."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.costing.arithmetic import parse_dollars
from app.deps import PostedForm, SessionDep, StaffUser
from app.i18n import gettext as _
from app.i18n import ngettext
from app.navigation import NavEntry
from app.proposals import ProposalError, ProposalNotFound, snapshots
from app.triage import ReviewConflict, TriageError, board, overlaps, review, scoring
from app.web import flash, is_htmx, render, use_viewer_language
from models.proposals import ProposalState

# The viewer's language: the pages, their flashes and errors, and the names staff keep in both languages (treatments).
router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("Triage", "/staff/triage", "staff", order=62)]


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not text.lstrip("-").isdigit():
        raise HTTPException(400, _("“{text}” is not a whole number.").format(text=text))
    return int(text)


def _filters(request: Request) -> board.Filters:
    q = request.query_params
    try:
        min_cents = parse_dollars(q.get("min_cost", ""), label=_("The lowest cost"))
        max_cents = parse_dollars(q.get("max_cost", ""), label=_("The highest cost"))
        min_score = float(q["min_score"]) if q.get("min_score", "").strip() else None
    except ValueError as error:
        raise HTTPException(400, str(error)) from error
    return board.Filters(state=q.get("state", ""), category=q.get("category", ""),
                         district_id=_int(q.get("district")), min_cents=min_cents, max_cents=max_cents,
                         min_score=min_score, reviewer_id=_int(q.get("reviewer")), sort=q.get("sort", "id"),
                         descending=q.get("dir") == "desc")


@router.get("/staff/triage", response_class=HTMLResponse)
def triage_board(request: Request, session: SessionDep, viewer: StaffUser) -> Response:
    filters = _filters(request)
    if filters.state and filters.state not in {s.value for s in ProposalState}:
        raise HTTPException(400, _("“{state}” is not a proposal state.").format(state=filters.state))
    try:
        found = board.board(session=session, filters=filters)
    except TriageError as error:
        raise HTTPException(400, str(error)) from error
    context = {"board": found, "states": [s for s in ProposalState if s is not ProposalState.draft],
               "districts": board.districts(session=session), "reviewers": review.staff_members(session=session),
               "query": request.query_params}
    template = "triage/_rows.html" if is_htmx(request) else "triage/board.html"
    return render(request, template, context)


@router.post("/staff/triage/bulk", response_model=None)
def triage_bulk(request: Request, form: PostedForm, session: SessionDep, viewer: StaffUser) -> Response:
    ids = [_int(v) or 0 for v in form.getlist("ids")]
    action = str(form.get("action", ""))
    back = str(form.get("back", "/staff/triage"))
    if not back.startswith("/staff/triage"):
        back = "/staff/triage"
    try:
        if action == "assign":
            count = review.assign_reviewer(session=session, actor=viewer, proposal_ids=ids,
                                           reviewer_id=_int(form.get("reviewer_id")))
            flash(request, ngettext("Reviewer assigned to {count} proposal.", "Reviewer assigned to {count} proposals.",
                                    count).format(count=count), "success")
        elif action == "move":
            to = str(form.get("to", ""))
            if to not in {s.value for s in ProposalState}:
                raise TriageError(_("Choose the state to move them to."), field="to")
            count = board.bulk_move(session=session, actor=viewer, proposal_ids=ids, to=ProposalState(to),
                                    reason=str(form.get("reason", "")), public_note=str(form.get("public_note", "")))
            moved = ngettext("{count} proposal now “{state}”.", "{count} proposals now “{state}”.", count)
            flash(request, moved.format(count=count, state=_(ProposalState(to).label)), "success")
        else:
            raise HTTPException(400, _("Choose an action: assign a reviewer or change the state."))
    except (TriageError, ProposalError) as error:
        flash(request, str(error), "error")
        return RedirectResponse(back, status_code=303) if not is_htmx(request) else Response(
            str(error), status_code=422)
    except ProposalNotFound as error:
        raise HTTPException(404, _("One of the chosen proposals does not exist.")) from error
    return RedirectResponse(back, status_code=303)


def _review_context(session: SessionDep, proposal_id: int, **extra: Any) -> dict[str, Any]:
    try:
        page = review.review_page(session=session, proposal_id=proposal_id)
    except ProposalNotFound as error:
        raise HTTPException(404, _("There is no submitted proposal with that number.")) from error
    shape, bounds = review.map_shape(session=session, proposal=page.proposal)
    card = scoring.score_cards(session=session, proposals=[page.proposal])[proposal_id]
    criteria = scoring.rubric(session=session)
    return {"page": page, "geojson": json.dumps(shape), "bounds": json.dumps(bounds), "card": card,
            "criteria": criteria, "reviewers": review.staff_members(session=session),
            "merged_into": overlaps.merged_into(session=session, proposal_id=proposal_id),
            "links": snapshots.link_status(session=session, proposal=page.proposal),
            "notes_form": None, "conflict": None, **extra}


@router.get("/staff/triage/rubric", response_class=HTMLResponse)
def rubric_page(request: Request, session: SessionDep, viewer: StaffUser) -> Response:
    return render(request, "triage/rubric.html", {"criteria": scoring.rubric(session=session),
                                                  "kinds": [k.value for k in scoring.CriterionKind]})


@router.post("/staff/triage/rubric", response_model=None)
def rubric_save(request: Request, form: PostedForm, session: SessionDep, viewer: StaffUser) -> Response:
    drafts = []
    for key, name, kind, weight, scale in zip(form.getlist("key"), form.getlist("name"), form.getlist("kind"),
                                              form.getlist("weight"), form.getlist("scale_max"), strict=False):
        if not str(key).strip() and not str(name).strip():
            continue
        drafts.append(scoring.CriterionDraft(str(key), str(name), str(kind), _int(weight) or 0, _int(scale) or 5))
    try:
        scoring.save_rubric(session=session, actor=viewer, criteria=drafts)
    except TriageError as error:
        return render(request, "triage/rubric.html", {"criteria": drafts, "error": str(error),
                                                      "kinds": [k.value for k in scoring.CriterionKind]},
                      status_code=422)
    flash(request, _("Rubric saved; scores are recomputed from it."), "success")
    return RedirectResponse("/staff/triage/rubric", status_code=303)


@router.get("/staff/triage/overlaps", response_class=HTMLResponse)
def overlaps_page(request: Request, session: SessionDep, viewer: StaffUser) -> Response:
    return render(request, "triage/overlaps.html", {"groups": overlaps.overlap_groups(session=session)})


@router.post("/staff/triage/overlaps/merge", response_model=None)
def overlaps_merge(request: Request, form: PostedForm, session: SessionDep, viewer: StaffUser) -> Response:
    try:
        keep = overlaps.merge(session=session, actor=viewer, keep_id=_int(form.get("keep_id")) or 0,
                              merged_id=_int(form.get("merged_id")) or 0, public_note=str(form.get("public_note", "")))
    except TriageError as error:
        flash(request, str(error), "error")
        return RedirectResponse("/staff/triage/overlaps", status_code=303)
    flash(request, _("Merged into #{id} “{title}”.").format(id=keep.id, title=keep.title), "success")
    return RedirectResponse("/staff/triage/overlaps", status_code=303)


@router.post("/staff/triage/overlaps/alternates", response_model=None)
def overlaps_alternates(request: Request, form: PostedForm, session: SessionDep, viewer: StaffUser) -> Response:
    try:
        ids = [_int(v) or 0 for v in form.getlist("ids")]
        overlaps.mark_alternates(session=session, actor=viewer, proposal_ids=ids)
    except TriageError as error:
        flash(request, str(error), "error")
        return RedirectResponse("/staff/triage/overlaps", status_code=303)
    flash(request, _("Marked as alternates: at most one of them can be on a list."), "success")
    return RedirectResponse("/staff/triage/overlaps", status_code=303)


@router.get("/staff/triage/{proposal_id}", response_class=HTMLResponse)
def review_view(request: Request, proposal_id: int, session: SessionDep, viewer: StaffUser) -> Response:
    return render(request, "triage/review.html", _review_context(session, proposal_id))


@router.post("/staff/triage/{proposal_id}/notes", response_model=None)
def review_notes(request: Request, form: PostedForm, proposal_id: int, session: SessionDep,
                 viewer: StaffUser) -> Response:
    internal, public = str(form.get("internal_notes", "")), str(form.get("public_notes", ""))
    try:
        review.save_review(session=session, actor=viewer, proposal_id=proposal_id,
                           expected_version=_int(form.get("version")) or 0, internal_notes=internal,
                           public_notes=public)
    except ReviewConflict as error:
        context = _review_context(session, proposal_id, conflict=error,
                                  notes_form={"internal_notes": internal, "public_notes": public,
                                              "version": error.current_version})
        return render(request, "triage/review.html", context, status_code=409)
    except TriageError as error:
        flash(request, str(error), "error")
    except ProposalNotFound as error:
        raise HTTPException(404, _("There is no submitted proposal with that number.")) from error
    else:
        flash(request, _("Review notes saved."), "success")
    return RedirectResponse(f"/staff/triage/{proposal_id}", status_code=303)


@router.post("/staff/triage/{proposal_id}/decision", response_model=None)
def review_decision(request: Request, form: PostedForm, proposal_id: int, session: SessionDep,
                    viewer: StaffUser) -> Response:
    to = str(form.get("to", ""))
    if to not in {s.value for s in ProposalState}:
        raise HTTPException(400, _("Choose a decision."))
    try:
        proposal = review.decide(session=session, actor=viewer, proposal_id=proposal_id, to=ProposalState(to),
                                 reason=str(form.get("reason", "")), public_note=str(form.get("public_note", "")),
                                 expected_version=_int(form.get("version")))
    except ProposalNotFound as error:
        raise HTTPException(404, _("There is no submitted proposal with that number.")) from error
    except ProposalError as error:
        flash(request, str(error), "error")
        return RedirectResponse(f"/staff/triage/{proposal_id}", status_code=303)
    flash(request, _("The proposal is now “{state}”.").format(state=_(ProposalState(proposal.state).label)), "success")
    return RedirectResponse(f"/staff/triage/{proposal_id}", status_code=303)


@router.post("/staff/triage/{proposal_id}/estimate", response_model=None)
def review_estimate(request: Request, form: PostedForm, proposal_id: int, session: SessionDep,
                    viewer: StaffUser) -> Response:
    revisions = []
    try:
        for index, quantity, unit in zip(form.getlist("line"), form.getlist("quantity"), form.getlist("unit_cost"),
                                         strict=False):
            cents = parse_dollars(str(unit), label=_("The unit cost"))
            revisions.append(review.LineRevision(_int(index) or 0, str(quantity), cents or 0))
        review.revise_estimate(session=session, actor=viewer, proposal_id=proposal_id, revisions=revisions,
                               reason=str(form.get("reason", "")))
    except (TriageError, ValueError) as error:
        flash(request, str(error), "error")
    except ProposalNotFound as error:
        raise HTTPException(404, _("There is no submitted proposal with that number.")) from error
    else:
        flash(request, _("Staff estimate saved."), "success")
    return RedirectResponse(f"/staff/triage/{proposal_id}", status_code=303)


@router.post("/staff/triage/{proposal_id}/score", response_model=None)
def review_score(request: Request, form: PostedForm, proposal_id: int, session: SessionDep,
                 viewer: StaffUser) -> Response:
    try:
        scoring.score_manual(session=session, actor=viewer, proposal_id=proposal_id,
                             criterion_key=str(form.get("criterion", "")), value=_int(form.get("value")) or 0)
    except TriageError as error:
        flash(request, str(error), "error")
    else:
        flash(request, _("Score saved."), "success")
    return RedirectResponse(f"/staff/triage/{proposal_id}", status_code=303)
