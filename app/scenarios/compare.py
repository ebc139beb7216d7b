"""Two scenarios side by side: totals, spending by category, tier, district and equity quintile,
the proposals in one and not the other, and the projected network-average PCI after the program.

Projection (app.impact.deterioration): over the program's collection years, a pavement segment a
listed proposal covers is treated now (its PCI then follows the curve from new); every other rated
segment keeps deteriorating from its current PCI. The average is weighted by length.
Equity quintile: the census tracts' poverty rates split in five equal-count groups (Q1 lowest
poverty … Q5 highest); a proposal falls in the quintile of its own equity measure.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app import program as programs
from app.impact.deterioration import pci_at_age, project_pci
from app.optimizer import Outcome
from app.pavement_plan.in_use import impact_curves
from app.scenarios import scenarios
from models.layers import CensusTract, PavementSegment
from models.proposals import ProposalAsset


@dataclass(frozen=True)
class Side:
    scenario_id: int
    name: str
    outcome: Outcome
    by_tier: dict[int, int]
    by_quintile: dict[str, int]
    projected_pci: float | None
    violations: list[str]


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side
    only_in_a: list[tuple[str, str]]  # (id, title)
    only_in_b: list[tuple[str, str]]
    baseline_pci: float | None  # no program at all
    categories: list[str]
    districts: list[str]
    quintiles: list[str]
    tiers: list[int]


def quintile_breaks(session: Session) -> list[float]:
    rates = sorted(r for r in session.exec(select(CensusTract.poverty_rate)) if r is not None)
    if not rates:
        return []
    return [rates[min(len(rates) - 1, (len(rates) * k) // 5)] for k in (1, 2, 3, 4)]


def quintile(value: float | None, breaks: list[float]) -> str:
    if value is None or not breaks:
        return "unknown"
    return f"Q{1 + sum(1 for b in breaks if value >= b)}"


def projected_network_pci(session: Session, proposal_ids: list[int]) -> float | None:
    program = programs.get_program(session=session)
    years = float(program.collection_years if program else 5)
    treated = set(session.exec(select(ProposalAsset.asset_id).where(col(ProposalAsset.proposal_id).in_(proposal_ids),
                                                                    ProposalAsset.layer == "pavement"))) \
        if proposal_ids else set()
    curves = impact_curves(session=session)
    weighted, length = 0.0, 0.0
    rows = session.exec(select(PavementSegment.id, PavementSegment.length_m, PavementSegment.pci,
                               PavementSegment.functional_class).where(col(PavementSegment.pci).is_not(None)))
    for sid, seg_length, pci, functional_class in rows:
        if pci is None:  # the query leaves unrated segments out
            continue
        after = pci_at_age(years, functional_class, curves=curves) if sid in treated else project_pci(
            float(pci), years, functional_class, curves=curves)
        weighted += seg_length * float(after)
        length += seg_length
    return weighted / length if length else None


def side(session: Session, scenario_id: int, breaks: list[float]) -> Side:
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    outcome = scenarios.current_outcome(p)
    by_id = {c.id: c for c in p.candidates}
    by_quintile: dict[str, int] = {}
    for placement in outcome.placements:
        c = by_id[placement.id]
        key = quintile(c.equity, breaks)
        by_quintile[key] = by_quintile.get(key, 0) + c.cost_cents
    return Side(scenario_id, p.scenario.name, outcome, {t.number: t.cost_cents for t in outcome.tiers},
                dict(sorted(by_quintile.items())),
                projected_network_pci(session, [int(i) for i in outcome.ids]), [v.message for v in outcome.violations])


def compare(*, session: Session, a_id: int, b_id: int) -> Comparison:
    breaks = quintile_breaks(session)
    a, b = side(session, a_id, breaks), side(session, b_id, breaks)
    titles = {c.id: c.title for c in scenarios.pool(session=session, scenario_id=a_id).candidates}
    return Comparison(
        a, b, [(i, titles.get(i, "")) for i in sorted(a.outcome.ids - b.outcome.ids, key=int)],
        [(i, titles.get(i, "")) for i in sorted(b.outcome.ids - a.outcome.ids, key=int)],
        projected_network_pci(session, []),
        sorted(set(a.outcome.by_category) | set(b.outcome.by_category)),
        sorted(set(a.outcome.by_district) | set(b.outcome.by_district)),
        sorted(set(a.by_quintile) | set(b.by_quintile)), sorted(set(a.by_tier) | set(b.by_tier)))
