"""The language switcher: remembers the choice in a cookie and on the account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse

from app import accounts, i18n
from app.deps import SessionDep, ViewerDep

router = APIRouter(include_in_schema=False)


@router.post("/language")
def choose_language(session: SessionDep, viewer: ViewerDep, lang: Annotated[str, Form(max_length=8)],
                    next: Annotated[str, Form()] = "/") -> RedirectResponse:
    language = lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    if viewer is not None:
        accounts.set_locale(session=session, user=viewer, locale=language)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(i18n.LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response
