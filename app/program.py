"""The referendum program: read it, validate and save it, and the phase rules.

``save_program`` replaces the whole program (its categories, tiers, district shares and phases)
from a ``ProgramDraft`` in one unit of work, after checking the rules below; on bad input it
raises ``ProgramError`` listing every problem and writes nothing. ``current_phase`` and
``accepting_proposals`` are what proposals use to decide whether groups may submit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from sqlmodel import Session, col, delete, select

from app import audit
from app.i18n import gettext as _
from app.i18n import localized
from models.accounts import User
from models.base import utcnow
from models.layers import District
from models.program import (
    BPS_WHOLE,
    Category,
    CategoryPublic,
    DistrictShare,
    DistrictSharePublic,
    Phase,
    PhaseKey,
    PhasePublic,
    Program,
    ProgramPublic,
    Tier,
    TierPublic,
)

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")
MAX_REVENUE_CENTS = 10**15  # $10 trillion: anything above is a typo


class ProgramError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class StaleProgram(ProgramError):
    """Someone saved the program after this form was loaded."""


@dataclass
class CategoryDraft:
    key: str
    name: str
    cap_cents: int | None = None
    floor_cents: int | None = None
    name_es: str | None = None  # optional; Spanish viewers see the English name without it


@dataclass
class TierDraft:
    number: int
    name: str
    share_bps: int
    funded_only_if_revenue_exceeds: bool = False


@dataclass
class DistrictShareDraft:
    district: str
    min_share_bps: int


@dataclass
class PhaseDraft:
    key: str
    starts_on: date
    ends_on: date


@dataclass
class ProgramDraft:
    name: str
    expected_revenue_cents: int
    collection_years: int
    program_management_bps: int
    band_scheme: str = "astm7"
    categories: list[CategoryDraft] = field(default_factory=list)
    tiers: list[TierDraft] = field(default_factory=list)
    district_shares: list[DistrictShareDraft] = field(default_factory=list)
    phases: list[PhaseDraft] = field(default_factory=list)

    @property
    def budget_cents(self) -> int:
        """Expected revenue less the program-management share (rounded down to the cent)."""
        return budget_cents(self.expected_revenue_cents, self.program_management_bps)


@dataclass(frozen=True)
class ProgramView:
    """The program with its parts, in display order."""

    program: Program
    categories: list[Category]
    tiers: list[Tier]
    district_shares: list[DistrictShare]
    phases: list[Phase]

    @property
    def budget_cents(self) -> int:
        return budget_cents(self.program.expected_revenue_cents, self.program.program_management_bps)

    def tier_amount_cents(self, tier: Tier) -> int:
        """A tier's share of the budget (rounded down to the cent)."""
        return self.budget_cents * tier.share_bps // BPS_WHOLE


def budget_cents(revenue_cents: int, management_bps: int) -> int:
    return revenue_cents - revenue_cents * management_bps // BPS_WHOLE


# -- reading ---------------------------------------------------------------------------------

def get_program(*, session: Session) -> Program | None:
    return session.exec(select(Program).order_by(col(Program.id))).first()


def program_view(*, session: Session) -> ProgramView | None:
    program = get_program(session=session)
    if program is None:
        return None
    return ProgramView(
        program=program,
        categories=list(session.exec(select(Category).where(Category.program_id == program.id)
                                     .order_by(col(Category.sort_order), col(Category.id)))),
        tiers=list(session.exec(select(Tier).where(Tier.program_id == program.id).order_by(col(Tier.number)))),
        district_shares=list(session.exec(select(DistrictShare).where(DistrictShare.program_id == program.id)
                                          .order_by(col(DistrictShare.district)))),
        phases=sorted(session.exec(select(Phase).where(Phase.program_id == program.id)),
                      key=lambda p: _PHASE_ORDER.get(p.key, 99)),
    )


def draft_of(view: ProgramView) -> ProgramDraft:
    p = view.program
    return ProgramDraft(
        name=p.name, expected_revenue_cents=p.expected_revenue_cents, collection_years=p.collection_years,
        program_management_bps=p.program_management_bps, band_scheme=p.band_scheme,
        categories=[CategoryDraft(c.key, c.name, c.cap_cents, c.floor_cents, c.name_es) for c in view.categories],
        tiers=[TierDraft(t.number, t.name, t.share_bps, t.funded_only_if_revenue_exceeds) for t in view.tiers],
        district_shares=[DistrictShareDraft(d.district, d.min_share_bps) for d in view.district_shares],
        phases=[PhaseDraft(ph.key, ph.starts_on, ph.ends_on) for ph in view.phases])


def district_choices(*, session: Session) -> list[str]:
    """Names (and codes) of the loaded districts, to suggest in the district-share editor."""
    rows = session.exec(select(District.name, District.code).order_by(col(District.name))).all()
    return sorted({value for row in rows for value in row if value})


def ensure_demo_program(*, session: Session, start: date) -> Program:
    """The program, creating the TSPLOST-like demo program (phases from ``start``) if there is none."""
    return get_program(session=session) or save_program(session=session, actor=None, draft=demo_draft(start=start))


# -- phases ----------------------------------------------------------------------------------

_PHASE_ORDER = {key.value: number for number, key in enumerate(PhaseKey)}


class _Dated(Protocol):
    key: str
    starts_on: date
    ends_on: date


def current_phase(phases: Iterable[_Dated] | ProgramView, today: date) -> PhaseKey | None:
    """The phase whose dates (inclusive) contain ``today``; None before, between or after them."""
    items = phases.phases if isinstance(phases, ProgramView) else phases
    for phase in items:
        if phase.starts_on <= today <= phase.ends_on:
            return PhaseKey(phase.key)
    return None


def accepting_proposals(*, session: Session, today: date | None = None) -> bool:
    """Whether groups may submit today (the program is in its ``accepting_proposals`` phase)."""
    view = program_view(session=session)
    if view is None:
        return False
    return current_phase(view, today or date.today()) is PhaseKey.accepting_proposals


def phase_today(*, session: Session, today: date | None = None) -> PhaseKey | None:
    view = program_view(session=session)
    return None if view is None else current_phase(view, today or date.today())


# -- validation and saving -------------------------------------------------------------------

def validate(draft: ProgramDraft) -> list[str]:
    problems: list[str] = []
    if not draft.name.strip() or len(draft.name) > 200:
        problems.append(_("Give the program a name (200 characters at most)."))
    if not 0 < draft.expected_revenue_cents <= MAX_REVENUE_CENTS:
        problems.append(_("The expected revenue must be more than $0."))
    if not 1 <= draft.collection_years <= 50:
        problems.append(_("The collection period must be between 1 and 50 years."))
    if not 0 <= draft.program_management_bps < BPS_WHOLE:
        problems.append(_("The program-management share must be between 0 % and 100 %."))
    budget = draft.budget_cents
    problems.extend(_category_problems(draft.categories, budget))
    problems.extend(_tier_problems(draft.tiers))
    problems.extend(_district_problems(draft.district_shares))
    problems.extend(_phase_problems(draft.phases))
    return problems


def _category_problems(categories: list[CategoryDraft], budget: int) -> list[str]:
    problems = []
    keys: set[str] = set()
    for c in categories:
        label = localized(c.name.strip(), c.name_es) or c.key or _("A category")
        if not KEY_RE.match(c.key):
            problems.append(_("{category}: the key must be lower-case letters, digits, _ or - (40 at most).").format(
                category=label))
        if c.key in keys:
            problems.append(_("{category}: the key {key} is used twice.").format(category=label, key=repr(c.key)))
        keys.add(c.key)
        if not c.name.strip() or len(c.name) > 200:
            problems.append(_("{category}: give the category a name.").format(category=label))
        if len(c.name_es or "") > 200:
            problems.append(_("{category}: keep the Spanish name to 200 characters at most.").format(category=label))
        if c.cap_cents is not None and not 0 <= c.cap_cents <= MAX_REVENUE_CENTS:
            problems.append(_("{category}: the cap must not be negative.").format(category=label))
        if c.floor_cents is not None and not 0 <= c.floor_cents <= MAX_REVENUE_CENTS:
            problems.append(_("{category}: the floor must not be negative.").format(category=label))
        if c.cap_cents is not None and c.floor_cents is not None and c.floor_cents > c.cap_cents:
            problems.append(_("{category}: the floor is above the cap.").format(category=label))
        if c.cap_cents is not None and c.cap_cents > budget:
            problems.append(_("{category}: the cap is above the program's budget.").format(category=label))
    floors = sum(c.floor_cents or 0 for c in categories)
    if floors > budget:
        problems.append(_("The categories' floors add up to more than the program's budget "
                          "(expected revenue less program management)."))
    return problems


def _tier_problems(tiers: list[TierDraft]) -> list[str]:
    problems: list[str] = []
    if not tiers:
        return problems
    numbers = [t.number for t in tiers]
    if len(set(numbers)) != len(numbers) or any(n < 1 for n in numbers):
        problems.append(_("Number the tiers 1, 2, … without repeating a number."))
    for t in tiers:
        if not t.name.strip():
            problems.append(_("Tier {number}: give it a name.").format(number=t.number))
        if not 0 < t.share_bps <= BPS_WHOLE:
            problems.append(_("Tier {number}: its share must be more than 0 % and at most 100 %.").format(
                number=t.number))
    if sum(t.share_bps for t in tiers) != BPS_WHOLE:
        problems.append(_("The tiers' shares must add up to 100 % (they add up to {total} %).").format(
            total=f"{sum(t.share_bps for t in tiers) / 100:g}"))
    first = min(tiers, key=lambda t: t.number)
    if first.funded_only_if_revenue_exceeds:
        problems.append(_("Tier {number} is funded from expected revenue; only later tiers can depend on "
                          "revenue exceeding the forecast.").format(number=first.number))
    return problems


def _district_problems(shares: list[DistrictShareDraft]) -> list[str]:
    problems = []
    seen: set[str] = set()
    for s in shares:
        name = s.district.strip()
        if not name or len(name) > 200:
            problems.append(_("Name each district with a minimum share (its code or name)."))
        if name.lower() in seen:
            problems.append(_("District {district}: listed twice.").format(district=name))
        seen.add(name.lower())
        if not 0 <= s.min_share_bps <= BPS_WHOLE:
            problems.append(_("District {district}: the minimum share must be between 0 % and 100 %.").format(
                district=name))
    if sum(s.min_share_bps for s in shares) > BPS_WHOLE:
        problems.append(_("The districts' minimum shares add up to more than 100 %."))
    return problems


def _phase_problems(phases: list[PhaseDraft]) -> list[str]:
    problems = []
    seen: set[str] = set()
    for p in phases:
        if p.key not in _PHASE_ORDER:
            problems.append(_("{key} is not a phase ({phases}).").format(key=repr(p.key),
                                                                          phases=", ".join(k.value for k in PhaseKey)))
            continue
        if p.key in seen:
            problems.append(_("{phase}: listed twice.").format(phase=_(PhaseKey(p.key).label)))
        seen.add(p.key)
        if p.ends_on < p.starts_on:
            problems.append(_("{phase}: it ends before it starts.").format(phase=_(PhaseKey(p.key).label)))
    ordered = sorted((p for p in phases if p.key in _PHASE_ORDER), key=lambda p: _PHASE_ORDER[p.key])
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.starts_on <= before.ends_on:
            problems.append(_("{phase} must start after {earlier} ends.").format(phase=_(PhaseKey(after.key).label),
                                                                       earlier=_(PhaseKey(before.key).label)))
    return problems


def save_program(*, session: Session, actor: User | None, draft: ProgramDraft,
                 expected_revision: int | None = None) -> Program:
    """Create or replace the program. One unit of work; audited."""
    problems = validate(draft)
    if problems:
        raise ProgramError(problems)
    program = get_program(session=session)
    before = _summary(draft_of(program_view(session=session))) if program else None  # type: ignore[arg-type]
    if program is not None and expected_revision is not None and program.revision != expected_revision:
        raise StaleProgram([_("Someone else saved the program while you were editing it; "
                              "reload the page to see their changes, then make yours again.")])
    if program is None:
        program = Program(name=draft.name, revision=0)
    program.name = draft.name.strip()
    program.expected_revenue_cents = draft.expected_revenue_cents
    program.collection_years = draft.collection_years
    program.program_management_bps = draft.program_management_bps
    program.band_scheme = draft.band_scheme
    program.updated_at = utcnow()
    program.revision += 1
    session.add(program)
    session.flush()
    assert program.id is not None
    for table in (Category, Tier, DistrictShare, Phase):
        session.execute(delete(table).where(col(table.program_id) == program.id))
    for order, c in enumerate(draft.categories):
        session.add(Category(program_id=program.id, key=c.key, name=c.name.strip(),
                             name_es=(c.name_es or "").strip() or None, cap_cents=c.cap_cents,
                             floor_cents=c.floor_cents, sort_order=order))
    for t in draft.tiers:
        session.add(Tier(program_id=program.id, number=t.number, name=t.name.strip(), share_bps=t.share_bps,
                         funded_only_if_revenue_exceeds=t.funded_only_if_revenue_exceeds))
    for s in draft.district_shares:
        session.add(DistrictShare(program_id=program.id, district=s.district.strip(), min_share_bps=s.min_share_bps))
    for p in draft.phases:
        session.add(Phase(program_id=program.id, key=p.key, starts_on=p.starts_on, ends_on=p.ends_on))
    audit.record(session=session, actor=actor, action="program.saved", object_type="program",
                 object_id=program.id, before=before, after=_summary(draft))
    session.commit()
    return program


def _summary(draft: ProgramDraft) -> dict[str, Any]:
    data = asdict(draft)
    for phase in data["phases"]:
        phase["starts_on"], phase["ends_on"] = str(phase["starts_on"]), str(phase["ends_on"])
    return data


# The demo program's categories in Spanish (migration 0015 gives them to programs made before it).
DEMO_SPANISH_NAMES = {"pavement": "Pavimento y puentes", "sidewalks": "Aceras y senderos",
                      "streetlights": "Alumbrado público", "corridors": "Corredores", "transit": "Transporte público"}


def category_names(view: ProgramView | None) -> dict[str, str]:
    """Category key → its name in the viewer's language (English where no Spanish name is given)."""
    return {c.key: localized(c.name, c.name_es) for c in view.categories} if view else {}


def demo_draft(*, start: date) -> ProgramDraft:
    """A program modelled on Athens-Clarke County's TSPLOST 2023 ($144.5M over five years)."""

    def span(offset_days: int, days: int) -> tuple[date, date]:
        first = start + timedelta(days=offset_days)
        return first, first + timedelta(days=days - 1)

    phases = []
    offset = 0
    for key, days in ((PhaseKey.drafting, 30), (PhaseKey.accepting_proposals, 60), (PhaseKey.staff_review, 45),
                      (PhaseKey.whittling, 45), (PhaseKey.published, 60), (PhaseKey.vote, 1)):
        phases.append(PhaseDraft(key.value, *span(offset, days)))
        offset += days
    return ProgramDraft(
        name="Transportation sales tax (TSPLOST) 2023", expected_revenue_cents=14_450_000_000,
        collection_years=5, program_management_bps=300,
        categories=[CategoryDraft("pavement", "Pavement & bridges", floor_cents=4_000_000_000,
                                  name_es=DEMO_SPANISH_NAMES["pavement"]),
                    CategoryDraft("sidewalks", "Sidewalks & trails", floor_cents=2_000_000_000,
                                  name_es=DEMO_SPANISH_NAMES["sidewalks"]),
                    CategoryDraft("streetlights", "Streetlights", cap_cents=1_000_000_000,
                                  name_es=DEMO_SPANISH_NAMES["streetlights"]),
                    CategoryDraft("corridors", "Corridors", name_es=DEMO_SPANISH_NAMES["corridors"]),
                    CategoryDraft("transit", "Transit", cap_cents=2_500_000_000,
                                  name_es=DEMO_SPANISH_NAMES["transit"])],
        tiers=[TierDraft(1, "Tier 1", 8500), TierDraft(2, "Tier 2", 1500, funded_only_if_revenue_exceeds=True)],
        phases=phases)


def program_public(view: ProgramView, *, today: date) -> ProgramPublic:
    """The program in the API's shape."""
    p = view.program
    phase = current_phase(view, today)
    return ProgramPublic(
        name=p.name, expected_revenue_cents=p.expected_revenue_cents, program_management_bps=p.program_management_bps,
        budget_cents=view.budget_cents, collection_years=p.collection_years, band_scheme=p.band_scheme,
        revision=p.revision, current_phase=phase, accepting_proposals=phase is PhaseKey.accepting_proposals,
        categories=[CategoryPublic(key=c.key, name=c.name, name_es=c.name_es, cap_cents=c.cap_cents,
                                   floor_cents=c.floor_cents)
                    for c in view.categories],
        tiers=[TierPublic(number=t.number, name=t.name, share_bps=t.share_bps, amount_cents=view.tier_amount_cents(t),
                          funded_only_if_revenue_exceeds=t.funded_only_if_revenue_exceeds) for t in view.tiers],
        district_shares=[DistrictSharePublic(district=d.district, min_share_bps=d.min_share_bps)
                         for d in view.district_shares],
        phases=[PhasePublic(key=PhaseKey(ph.key), starts_on=ph.starts_on, ends_on=ph.ends_on) for ph in view.phases])
