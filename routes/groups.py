"""Community groups' pages: my groups, a group (members, invitations), joining by link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import groups
from app.deps import CurrentUser, SessionDep, SettingsDep, ViewerDep
from app.groups import GroupError, GroupNotFound
from app.i18n import gettext as _
from app.navigation import NavEntry
from app.proposals import lists
from app.web import flash, render, use_viewer_language
from models.accounts import GroupRole

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("My groups", "/groups", "signed_in", order=30)]


def _group_page(request: Request, session: SessionDep, group_id: int, viewer: CurrentUser, *,
                invite_link: str | None = None, errors: dict[str, str] | None = None,
                status_code: int = 200) -> HTMLResponse:
    try:
        group = groups.require_member(session=session, group_id=group_id, user=viewer)
    except GroupNotFound as error:
        raise HTTPException(404, _("There is no such group.")) from error
    member = groups.membership(session=session, group_id=group_id, user=viewer)
    return render(request, "groups/show.html", {
        "group": group, "members": groups.members(session=session, group_id=group_id),
        "is_owner": member is not None and member.role == GroupRole.owner,
        "rows": lists.rows(session=session, group_id=group_id), "invite_link": invite_link,
        "errors": errors or {}}, status_code=status_code)


@router.get("/groups", response_class=HTMLResponse)
def my_groups(request: Request, session: SessionDep, viewer: CurrentUser) -> HTMLResponse:
    return render(request, "groups/index.html", {"groups": groups.groups_of(session=session, user=viewer),
                                                 "form": {}, "errors": {}})


@router.post("/groups", response_model=None)
def create_group(request: Request, session: SessionDep, viewer: CurrentUser,
                 name: Annotated[str, Form(max_length=400)],
                 description: Annotated[str, Form(max_length=8000)] = "") -> Response:
    try:
        group = groups.create_group(session=session, creator=viewer, name=name, description=description)
    except GroupError as error:
        return render(request, "groups/index.html", {
            "groups": groups.groups_of(session=session, user=viewer),
            "form": {"name": name, "description": description}, "errors": {error.field or "form": str(error)}},
            status_code=400)
    flash(request, _("Group “{group}” created. Invite members, then draft proposals.").format(group=group.name),
          "success")
    return RedirectResponse(f"/groups/{group.id}", status_code=303)


@router.get("/groups/{group_id}", response_class=HTMLResponse)
def group_page(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int) -> HTMLResponse:
    return _group_page(request, session, group_id, viewer)


@router.post("/groups/{group_id}/invites", response_class=HTMLResponse)
def invite(request: Request, session: SessionDep, settings: SettingsDep, viewer: CurrentUser, group_id: int,
           email: Annotated[str, Form(max_length=320)] = "") -> HTMLResponse:
    try:
        created = groups.invite(session=session, settings=settings, group_id=group_id, actor=viewer, email=email)
    except GroupNotFound as error:
        raise HTTPException(404, _("There is no such group.")) from error
    except GroupError as error:
        return _group_page(request, session, group_id, viewer, errors={error.field or "invite": str(error)},
                           status_code=400)
    return _group_page(request, session, group_id, viewer, invite_link=created.link)


@router.get("/groups/join/{token}", response_class=HTMLResponse)
def join_page(request: Request, session: SessionDep, viewer: ViewerDep, token: str) -> HTMLResponse:
    try:
        group = groups.invited_group(session=session, token=token)
    except GroupError as error:
        return render(request, "groups/join.html", {"group": None, "error": str(error), "token": token},
                      status_code=404)
    return render(request, "groups/join.html", {"group": group, "error": None, "token": token})


@router.post("/groups/join/{token}", response_model=None)
def join(request: Request, session: SessionDep, viewer: CurrentUser, token: str) -> Response:
    try:
        group = groups.accept_invite(session=session, token=token, user=viewer)
    except GroupError as error:
        return render(request, "groups/join.html", {"group": None, "error": str(error), "token": token},
                      status_code=400)
    flash(request, _("Welcome to {group}.").format(group=group.name), "success")
    return RedirectResponse(f"/groups/{group.id}", status_code=303)


@router.post("/groups/{group_id}/leave", response_model=None)
def leave(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int) -> Response:
    try:
        groups.leave(session=session, group_id=group_id, user=viewer)
    except GroupNotFound as error:
        raise HTTPException(404, _("There is no such group.")) from error
    except GroupError as error:
        return _group_page(request, session, group_id, viewer, errors={"members": str(error)}, status_code=400)
    flash(request, _("You left the group."), "success")
    return RedirectResponse("/groups", status_code=303)


@router.post("/groups/{group_id}/members/{user_id}/remove", response_model=None)
def remove_member(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int,
                  user_id: int) -> Response:
    try:
        groups.remove_member(session=session, group_id=group_id, actor=viewer, user_id=user_id)
    except GroupNotFound as error:
        raise HTTPException(404, _("There is no such group.")) from error
    except GroupError as error:
        return _group_page(request, session, group_id, viewer, errors={"members": str(error)}, status_code=400)
    flash(request, _("Member removed."), "success")
    return RedirectResponse(f"/groups/{group_id}", status_code=303)


@router.post("/groups/{group_id}/members/{user_id}/role", response_model=None)
def set_role(request: Request, session: SessionDep, viewer: CurrentUser, group_id: int, user_id: int,
             role: Annotated[GroupRole, Form()]) -> Response:
    try:
        groups.set_member_role(session=session, group_id=group_id, actor=viewer, user_id=user_id, role=role)
    except GroupNotFound as error:
        raise HTTPException(404, _("There is no such group.")) from error
    except GroupError as error:
        return _group_page(request, session, group_id, viewer, errors={"members": str(error)}, status_code=400)
    flash(request, _("Role changed."), "success")
    return RedirectResponse(f"/groups/{group_id}", status_code=303)
