"""Following delivery without an account: Atom feeds of the public updates (/projects.atom, the
program's newest; /projects/{id}/updates.atom, one project's), and the one-click unsubscribe link
every follow mail carries (/unsubscribe/{token}: GET confirms, POST stops the mail — RFC 8058).

A feed's words are in the language its address names (``?lang=es``: the Spanish pages link their feeds
so, since a feed reader sends no cookie and seldom a language), else the viewer's, as on the pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app import i18n
from app.delivery import feeds, records, unsubscribe, vote
from app.deps import SessionDep, SettingsDep
from app.i18n import gettext as _
from app.web import render, use_viewer_language, viewer_language

router = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
FEED_HEADERS = {"Cache-Control": "public, max-age=300", "Vary": "Accept-Language, Cookie"}  # words: cookie, account
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}  # the token is a credential


@dataclass(frozen=True)
class FeedLanguage:
    code: str
    named: bool  # the feed's address names it (?lang=), so the feed's own link keeps it


async def feed_language(request: Request, lang: str | None = None) -> FeedLanguage:
    """The language the address names, else the viewer's (an unknown ``lang`` is as if not given).
    Async, like ``use_viewer_language`` (which it overrides), so the choice reaches the endpoint."""
    language = FeedLanguage(lang, named=True) if lang is not None and lang in i18n.LANGUAGES \
        else FeedLanguage(viewer_language(request), named=False)
    i18n.activate(language.code)
    return language


FeedLanguageDep = Annotated[FeedLanguage, Depends(feed_language)]


def _feed(language: FeedLanguage, settings: SettingsDep, entries: list[records.FeedEntry], title: str,
          page: str, feed: str, empty_updated: datetime) -> Response:
    document = feeds.atom(entries=entries, base_url=settings.base_url, site_name=settings.site_name, title=title,
                          page=page, feed=f"{feed}?lang={language.code}" if language.named else feed,
                          language=language.code, empty_updated=empty_updated)
    return Response(document, media_type=f"{feeds.MEDIA_TYPE}; charset=utf-8", headers=FEED_HEADERS)


@router.get("/projects.atom")
def program_feed(session: SessionDep, settings: SettingsDep, language: FeedLanguageDep) -> Response:
    result = vote.current(session=session)
    return _feed(language, settings, records.feed_entries(session=session),
                 _("{site}: delivering the ballot projects").format(site=settings.site_name), "/projects",
                 "/projects.atom", result.recorded_at if result else datetime(2000, 1, 1, tzinfo=UTC))


@router.get("/projects/{proposal_id}/updates.atom")
def project_feed(session: SessionDep, settings: SettingsDep, language: FeedLanguageDep,
                 proposal_id: int) -> Response:
    try:
        entries = records.feed_entries(session=session, proposal_id=proposal_id)
        record = records.record(session=session, proposal_id=proposal_id)
    except LookupError:
        raise HTTPException(404, _("This project is not being delivered.")) from None
    return _feed(language, settings, entries, _("Updates on “{title}”").format(title=record.title),
                 f"/projects/{proposal_id}", f"/projects/{proposal_id}/updates.atom", record.updated_at)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def confirm_unsubscribe(request: Request, session: SessionDep, settings: SettingsDep, token: str) -> HTMLResponse:
    try:
        subscription = unsubscribe.read(session=session, settings=settings, token=token)
    except unsubscribe.UnsubscribeError as error:
        return render(request, "delivery/unsubscribe.html", {"error": str(error)}, status_code=400,
                      headers=NO_STORE)
    return render(request, "delivery/unsubscribe.html", {"s": subscription, "token": token}, headers=NO_STORE)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_now(request: Request, session: SessionDep, settings: SettingsDep, token: str) -> HTMLResponse:
    """From the confirmation page, or a mail client's one-click POST (``List-Unsubscribe=One-Click``,
    no cookie: ``app.web`` lets it through without a CSRF token only when the token is signed)."""
    try:
        subscription, stopped = unsubscribe.unsubscribe(session=session, settings=settings, token=token)
    except unsubscribe.UnsubscribeError as error:
        return render(request, "delivery/unsubscribe.html", {"error": str(error)}, status_code=400,
                      headers=NO_STORE)
    return render(request, "delivery/unsubscribe.html", {"s": subscription, "done": True, "stopped": stopped},
                  headers=NO_STORE)
