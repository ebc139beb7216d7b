"""Admin pages: users and their roles, the audit log (browse and export); and for staff, recent sign-in attempts."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from sqlmodel import col, select

from app import accounts, audit
from app.deps import AdminUser, SessionDep, SettingsDep, StaffUser
from app.i18n import gettext as _
from app.navigation import NavEntry
from app.spreadsheet import safe_cell
from app.web import flash, render, use_viewer_language
from models.accounts import Role, User

# The viewer's language: what these pages say, flashes and errors included (the CSV export keeps English columns).
router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
NAV = [NavEntry("Sign-ins", "/staff/sign-ins", "staff", order=88),
       NavEntry("Audit log", "/staff/audit", "admin", order=90),
       NavEntry("Users", "/admin/users", "admin", order=95)]


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, session: SessionDep, admin: AdminUser) -> HTMLResponse:
    people = list(session.exec(select(User).order_by(col(User.email))))
    return render(request, "admin/users.html", {"users": people, "roles": [r.value for r in Role]})


@router.post("/admin/users/{user_id}/role")
def change_role(request: Request, session: SessionDep, admin: AdminUser, user_id: int,
                role: Annotated[Role, Form()]) -> RedirectResponse:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(404, _("There is no such user."))
    if user.id == admin.id and role is not Role.admin:
        flash(request, _("You cannot remove your own admin role; ask another admin."), "error")
        return RedirectResponse("/admin/users", status_code=303)
    accounts.set_role(session=session, user=user, role=role, actor=admin)
    flash(request, _("{email} is now {role}; their sessions ended, so they sign in again.").format(
        email=user.email, role=_(role.value)), "success")
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/staff/sign-ins", response_class=HTMLResponse)
def sign_ins(request: Request, session: SessionDep, settings: SettingsDep, staff: StaffUser) -> HTMLResponse:
    """Recent sign-in attempts, and which addresses are being made to wait."""
    attempts = accounts.recent_attempts(session=session)
    pairs = {(a.email, a.ip) for a in attempts if not a.succeeded}
    waiting = {(email, ip): accounts.signin_wait_s(session=session, settings=settings, email=email, ip=ip)
               for email, ip in pairs}
    return render(request, "admin/sign_ins.html", {"attempts": attempts, "waiting": waiting})


@router.get("/staff/audit", response_class=HTMLResponse)
def audit_log(request: Request, session: SessionDep, admin: AdminUser, page: int = 1, action: str = "") -> HTMLResponse:
    page = max(page, 1)
    entries = audit.entries(session=session, limit=101, offset=(page - 1) * 100, action=action or None)
    return render(request, "admin/audit.html",
                  {"entries": entries[:100], "page": page, "has_next": len(entries) > 100, "action": action,
                   "actions": audit.actions(session=session)})


@router.get("/staff/audit.csv")
def audit_export(session: SessionDep, admin: AdminUser) -> StreamingResponse:
    def rows() -> object:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["at", "actor_id", "who", "action", "object_type", "object_id", "object", "before", "after",
                         "ip"])
        offset = 0
        while batch := audit.recent(session=session, limit=1000, offset=offset):
            readable = audit.entries(session=session, limit=1000, offset=offset)
            for e, entry in zip(batch, readable, strict=False):
                writer.writerow([safe_cell(v) for v in (
                    e.at.isoformat(), e.actor_id, entry.who, e.action, e.object_type, e.object_id, entry.object_label,
                    json.dumps(e.before) if e.before else "", json.dumps(e.after) if e.after else "", e.ip or "")])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            offset += len(batch)

    return StreamingResponse(rows(), media_type="text/csv",  # type: ignore[arg-type]
                             headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
