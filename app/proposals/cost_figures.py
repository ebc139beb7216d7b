"""Every figure a project's cost has had, for its public page, so the page agrees with itself: the
estimate computed from the city's catalog (its items, markups and range), the group's own figure
when it replaces the estimate, and staff's revised estimate — each with its basis and range, and the
one the budget uses marked (staff's revision, else the group's figure, else the computed estimate,
as ``scoring.cost_of`` prices it for the optimizer)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlmodel import Session, col, select

from app.costing.arithmetic import round_half_up
from models.proposals import Proposal
from models.triage import StaffEstimate


def _(text: str) -> str:
    """Marks labels for the translation catalogue; the template translates them."""
    return text


@dataclass(frozen=True)
class CostFigure:
    kind: str  # "computed", "group" or "staff"
    label: str
    total_cents: int
    low_cents: int | None  # None: a single figure, no range stated
    high_cents: int | None
    basis: str  # what the figure rests on (the group's or staff's reason, or the catalog)
    used: bool = False


def _scaled(value: int | None, total: int, estimate: int | None) -> int | None:
    """The computed range's spread carried over to another total (the same uncertainty)."""
    if value is None or not estimate:
        return None
    return round_half_up(Fraction(value * total, estimate))


def cost_figures(*, session: Session, proposal: Proposal) -> list[CostFigure]:
    """The figures in the order they were made; exactly one is ``used`` when there is any."""
    figures: list[CostFigure] = []
    estimate = proposal.estimate_total_cents
    if estimate is not None:
        figures.append(CostFigure("computed", _("Computed estimate"), estimate, proposal.estimate_low_cents,
                                  proposal.estimate_high_cents,
                                  _("The city's unit costs for the streets and assets it covers, with design, "
                                    "contingency and price rises (the items below).")))
    if proposal.override_cents is not None:
        figures.append(CostFigure("group", _("The group's own figure"), proposal.override_cents, None, None,
                                  proposal.override_reason or ""))
    staff = session.exec(select(StaffEstimate).where(StaffEstimate.proposal_id == (proposal.id or 0))
                         .order_by(col(StaffEstimate.id).desc())).first()
    if staff is not None:
        figures.append(CostFigure("staff", _("City staff's revised estimate"), staff.total_cents,
                                  _scaled(proposal.estimate_low_cents, staff.total_cents, estimate),
                                  _scaled(proposal.estimate_high_cents, staff.total_cents, estimate), staff.reason))
    if figures:
        used = next((f for f in reversed(figures) if f.kind != "computed"), figures[0])
        figures = [CostFigure(f.kind, f.label, f.total_cents, f.low_cents, f.high_cents, f.basis, used=f is used)
                   for f in figures]
    return figures
