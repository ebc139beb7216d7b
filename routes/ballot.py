"""The published ballot list: /ballot (the current version, with what changed since the one before),
/ballot/v/{n} (any version), their canonical exports, /ballot/versions.json and /ballot/verify
(every version's hash recomputed and the chain checked), and staff's amendment (/staff/ballot/amend)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app.costing.arithmetic import parse_dollars
from app.delivery import vote
from app.deps import PostedForm, SessionDep, SettingsDep, StaffUser
from app.i18n import gettext as _
from app.navigation import NavEntry
from app.scenarios import ScenarioError, amend, ballot_page, publish, verify
from app.web import flash, render, use_viewer_language

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("Ballot list", "/ballot", "everyone", order=30)]


def _page(request: Request, view: publish.BallotView, session: SessionDep) -> Response:
    return render(request, "ballot/index.html", {"published": view.published, "items": view.items,
                                                 "totals": view.totals, "names": view.category_names,
                                                 "district_names": view.district_names,
                                                 "export": view.export, "view": view,
                                                 "vote_result": vote.result_view(session=session),
                                                 "page": _filtered(request, session, view)})


def _filtered(request: Request, session: SessionDep, view: publish.BallotView) -> ballot_page.BallotPage:
    """The list's filters (?category=…&district=…&tier=…) and its map."""
    q = request.query_params
    return ballot_page.ballot_page(session=session, view=view, category=q.get("category", ""),
                                   district=q.get("district", ""), tier=q.get("tier", ""))


@router.get("/ballot", response_class=HTMLResponse)
def ballot(request: Request, session: SessionDep) -> Response:
    return _page(request, publish.ballot_view(session=session), session)


@router.get("/ballot/v/{version}", response_class=HTMLResponse)
def ballot_version(request: Request, version: int, session: SessionDep) -> Response:
    try:
        return _page(request, publish.ballot_view(session=session, version=version), session)
    except LookupError as error:
        raise HTTPException(404, "There is no such version of the ballot list.") from error


def _export(published: publish.PublishedList | None) -> Response:
    if published is None:
        raise HTTPException(404, "No such version of the ballot list has been published.")
    return Response(published.export.encode("utf-8"), media_type="application/json",
                    headers={"X-Content-SHA256": published.content_hash,
                             "Content-Disposition": f'inline; filename="ballot-list-v{published.version}.json"'})


@router.get("/ballot/export.json")
def ballot_export(session: SessionDep) -> Response:
    return _export(publish.latest(session=session))


@router.get("/ballot/v/{version}/export.json")
def ballot_version_export(version: int, session: SessionDep) -> Response:
    return _export(publish.version_of(session=session, number=version))


@router.get("/ballot/versions.json")
def ballot_versions(session: SessionDep) -> Response:
    """Every version, oldest first, with the hash it is published under and where its export is."""
    return JSONResponse([{"version": v.version, "published_at": v.published_at.isoformat(),
                          "content_hash": v.content_hash, "export": f"/ballot/v/{v.version}/export.json"}
                         for v in publish.all_versions(session=session)])


@router.get("/ballot/verify", response_class=HTMLResponse)
def ballot_verify(request: Request, session: SessionDep) -> Response:
    return render(request, "ballot/verify.html", {"report": verify.database(session=session)})


# -- staff: amending the list ------------------------------------------------------------------

def _lines(form: Any) -> list[amend.Line]:
    """The projects ticked on the amendment form, each with its tier and cost in dollars."""
    lines = []
    for value in form.getlist("listed"):
        text = str(value).strip()
        if not text.isdigit():
            raise ScenarioError(_("“{text}” is not a proposal number.").format(text=text))
        tier = str(form.get(f"tier_{text}", "")).strip()
        if not tier.isdigit():
            raise ScenarioError(_("Choose a tier for #{id}.").format(id=text))
        try:
            cents = parse_dollars(str(form.get(f"cost_{text}", "")), label=_("The cost of #{id}").format(id=text))
        except ValueError as error:
            raise ScenarioError(str(error)) from error
        if cents is None:
            raise ScenarioError(_("Give the cost of #{id} on the amended list.").format(id=text))
        lines.append(amend.Line(int(text), int(tier), cents))
    return lines


def _amend_page(request: Request, session: SessionDep, form: Any = None, error: str | None = None,
                status_code: int = 200) -> Response:
    try:
        start = amend.start(session=session)
    except ScenarioError as problem:
        flash(request, str(problem), "error")
        return RedirectResponse("/staff/scenarios", status_code=303)
    return render(request, "ballot/amend.html", {"start": start, "form": form, "error": error},
                  status_code=status_code)


@router.get("/staff/ballot/amend", response_class=HTMLResponse)
def amend_form(request: Request, session: SessionDep, viewer: StaffUser) -> Response:
    return _amend_page(request, session)


@router.post("/staff/ballot/amend", response_model=None)
def amend_submit(request: Request, form: PostedForm, session: SessionDep, settings: SettingsDep,
                 viewer: StaffUser) -> Response:
    """First post: what the amendment will do (nothing written). With ``confirm=yes``: publish it."""
    base = str(form.get("base_version", "")).strip()
    reason = str(form.get("reason", ""))
    try:
        if not base.isdigit():
            raise ScenarioError(_("Start from the current version of the ballot list."))
        lines = _lines(form)
        if form.get("confirm") != "yes":
            prepared = amend.prepare(session=session, base_version=int(base), lines=lines, reason=reason)
            return render(request, "ballot/amend_confirm.html", {"prepared": prepared, "form": form})
        published = amend.amend(session=session, settings=settings, actor=viewer, base_version=int(base),
                                lines=lines, reason=reason)
    except publish.PublishConflict as error:
        return _amend_page(request, session, form, str(error), status_code=409)
    except ScenarioError as error:
        return _amend_page(request, session, form, str(error), status_code=422)
    flash(request, _("Published ballot list version {version}; hash {hash}.").format(
        version=published.version, hash=published.content_hash), "success")
    return RedirectResponse("/ballot", status_code=303)
