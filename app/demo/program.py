"""The demo city's program: the TSPLOST-2023-like draft (``app.program.demo_draft``) with a minimum
share for each demo district, and the shipped cost catalog. Written only when there is no program,
so reloading the demo never overwrites a program staff have edited."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from app import program as programs
from app.costing.catalog import ensure_defaults
from models.accounts import User

DISTRICT_MIN_SHARE_BPS = 300  # 3 % of the list for each district, at least: no district left out
_DAYS_INTO_PROGRAM = 40  # the demo opens in "accepting proposals" (drafting lasts 30 days)


def seed_program(*, session: Session, district_codes: list[str], today: date, actor: User | None = None) -> bool:
    """Write the demo program (and the default cost catalog) unless a program exists; True if written."""
    ensure_defaults(session=session)
    if programs.get_program(session=session) is not None:
        return False
    draft = programs.demo_draft(start=today - timedelta(days=_DAYS_INTO_PROGRAM))
    draft.district_shares = [programs.DistrictShareDraft(code, DISTRICT_MIN_SHARE_BPS) for code in district_codes]
    programs.save_program(session=session, actor=actor, draft=draft)
    return True
