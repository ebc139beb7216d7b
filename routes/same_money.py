"""The published ballot list against "do nothing" and the pavement plan with the same money: a public
page (/plan/same-money) and its JSON (/api/v1/network/same-money). Thin: app.scenarios.pavement."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from app.deps import SessionDep
from app.i18n import gettext as _
from app.pavement_plan.service import PlanError
from app.scenarios import pavement
from app.web import render, use_viewer_language

router = APIRouter()
pages = APIRouter(include_in_schema=False, dependencies=[Depends(use_viewer_language)])
api = APIRouter(prefix="/api/v1/network", tags=["pavement plan"])
HEADERS = {"Cache-Control": "private, max-age=60", "Vary": "Cookie, Accept-Language"}


def _ballot(session: SessionDep) -> pavement.SameMoneyView:
    try:
        found = pavement.compare_ballot(session=session)
    except PlanError as error:
        raise HTTPException(409, str(error)) from None
    if found is None:
        raise HTTPException(404, _("No list has been published yet."))
    return found


@pages.get("/plan/same-money", response_class=HTMLResponse)
def same_money_page(request: Request, session: SessionDep) -> HTMLResponse:
    found = _ballot(session)
    return render(request, "plan/same_money.html", {"found": found}, headers=HEADERS)


class SameMoneyYearOut(BaseModel):
    year: int = Field(description="Year 0 is today; then each collection year.")
    do_nothing_pci: float | None
    list_pci: float | None
    plan_pci: float | None = Field(description="The pavement plan spending the list's money, year by year.")
    list_cents: int = Field(description="The list's spending scheduled this year.")
    plan_cents: int = Field(description="What the pavement plan spent this year (unused money carries over).")


class SameMoneyOut(BaseModel):
    ballot_version: str
    catalog_version: int | None
    policy: str
    list_segments: int = Field(description="Rated pavement segments the list treats.")
    rows: list[SameMoneyYearOut]


def _number(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@api.get("/same-money", response_model=SameMoneyOut)
def api_same_money(session: SessionDep) -> SameMoneyOut:
    """The published list against doing nothing and the pavement plan with the same money: network PCI by year."""
    found = _ballot(session)
    return SameMoneyOut(
        ballot_version=found.name, catalog_version=found.catalog_version, policy=found.result.policy,
        list_segments=found.result.list_segments,
        rows=[SameMoneyYearOut(year=r.year, do_nothing_pci=_number(r.nothing_pci), list_pci=_number(r.list_pci),
                               plan_pci=_number(r.plan_pci), list_cents=r.list_cents, plan_cents=r.plan_cents)
              for r in found.result.rows])


router.include_router(pages)
router.include_router(api)
