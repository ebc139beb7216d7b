"""The scoring rubric: criteria with weights and scales; data criteria computed, manual ones averaged.

Each criterion gives a value in 0…1; a proposal's score is 100 × Σ weight × value / Σ weight.

- condition need: pavement 1 − PCI/100 (length-weighted over the covered rated segments); for
  sidewalks the share of length that is a gap or poor; for lights the share out. The largest applies.
- equity: the poverty rate of the census tracts under the project, weighted by covered length
  (points count once each).
- cost-effectiveness: condition gained per dollar — Σ length × (PCI after treatment − PCI untreated)
  after the program's collection years on the deterioration curve (app.impact), per $1M;
  scaled by the best proposal among those scored (the best scores 1).
- support: resident supports (app.participation), scaled by the most-supported proposal among those
  scored (it scores 1; a proposal nobody supports scores 0).
- manual: the reviewers' average on the criterion's 0…scale_max scale; the spread is max − min.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app import audit, participation
from app import program as programs
from app.i18n import gettext as _
from app.impact.deterioration import Curves, pci_at_age, project_pci
from app.pavement_plan.in_use import impact_curves
from app.triage import TriageError
from models.accounts import User
from models.layers import CensusTract, PavementSegment, SidewalkSegment, Streetlight
from models.proposals import Proposal, ProposalAsset
from models.triage import CriterionKind, ReviewerScore, RubricCriterion

DEFAULT_RUBRIC = (
    ("condition_need", "Condition need", CriterionKind.condition_need, 3, 5),
    ("equity", "Equity (poverty rate)", CriterionKind.equity, 2, 5),
    ("cost_effectiveness", "Condition gained per dollar", CriterionKind.cost_effectiveness, 2, 5),
    ("support", "Resident support", CriterionKind.support, 1, 5),
    ("community_benefit", "Community benefit (reviewers)", CriterionKind.manual, 2, 5),
)


@dataclass(frozen=True)
class CriterionScore:
    key: str
    name: str
    kind: str
    weight: int
    value: float  # 0…1
    raw: float | None  # the measure before scaling (PCI need, poverty rate, PCI·m per $1M, average score)
    spread: float | None = None  # manual: max − min of the reviewers' scores
    reviewers: int = 0


@dataclass(frozen=True)
class ScoreCard:
    proposal_id: int
    total: float  # 0…100
    criteria: list[CriterionScore] = field(default_factory=list)

    def raw(self, key: str) -> float | None:
        return next((c.raw for c in self.criteria if c.key == key), None)


def rubric(*, session: Session) -> list[RubricCriterion]:
    rows = list(session.exec(select(RubricCriterion).order_by(col(RubricCriterion.sort_order),
                                                             col(RubricCriterion.id))))
    if rows:
        return rows
    return [RubricCriterion(key=k, name=n, kind=kind.value, weight=w, scale_max=s, sort_order=i)
            for i, (k, n, kind, w, s) in enumerate(DEFAULT_RUBRIC)]


@dataclass(frozen=True)
class CriterionDraft:
    key: str
    name: str
    kind: str
    weight: int
    scale_max: int = 5


def save_rubric(*, session: Session, actor: User, criteria: list[CriterionDraft]) -> list[RubricCriterion]:
    """Replace the rubric (keeping reviewers' scores of criteria whose key stays)."""
    problems = []
    keys = [c.key.strip() for c in criteria]
    if not criteria:
        problems.append(_("The rubric needs at least one criterion."))
    if len(set(keys)) != len(keys) or any(not k for k in keys):
        problems.append(_("Each criterion needs its own key."))
    for c in criteria:
        if c.kind not in {k.value for k in CriterionKind}:
            problems.append(_("“{kind}” is not a kind of criterion.").format(kind=c.kind))
        if not 0 <= c.weight <= 100:
            problems.append(_("The weight of {criterion} must be between 0 and 100.").format(criterion=c.name or c.key))
        if not 1 <= c.scale_max <= 100:
            problems.append(_("The scale of {criterion} must run from 0 to between 1 and 100.")
                            .format(criterion=c.name or c.key))
        if not c.name.strip():
            problems.append(_("Criterion {key} needs a name.").format(key=c.key))
    if criteria and sum(c.weight for c in criteria) == 0:
        problems.append(_("At least one weight must be above 0."))
    if problems:
        raise TriageError(" ".join(problems), field="rubric")
    existing = {r.key: r for r in session.exec(select(RubricCriterion))}
    before = [{"key": r.key, "weight": r.weight, "kind": r.kind} for r in existing.values()]
    for key, row in existing.items():
        if key not in keys:
            session.delete(row)
    rows = []
    for i, c in enumerate(criteria):
        row = existing.get(c.key.strip()) or RubricCriterion(key=c.key.strip(), name="", kind=c.kind)
        row.name, row.kind, row.weight, row.scale_max, row.sort_order = (c.name.strip(), c.kind, c.weight,
                                                                         c.scale_max, i)
        session.add(row)
        rows.append(row)
    audit.record(session=session, actor=actor, action="rubric.save", object_type="rubric", before={"criteria": before},
                 after={"criteria": [{"key": c.key, "weight": c.weight, "kind": c.kind} for c in criteria]})
    session.commit()
    return rows


def _stored_rubric(session: Session) -> list[RubricCriterion]:
    """The rubric, written to the database the first time a reviewer scores against it."""
    rows = list(session.exec(select(RubricCriterion)))
    if not rows:
        rows = rubric(session=session)
        for row in rows:
            session.add(row)
        session.flush()
    return rows


def score_manual(*, session: Session, actor: User, proposal_id: int, criterion_key: str, value: int) -> None:
    """A reviewer's score on a manual criterion (their earlier score on it is replaced)."""
    criteria = {c.key: c for c in _stored_rubric(session)}
    criterion = criteria.get(criterion_key)
    if criterion is None or criterion.kind != CriterionKind.manual:
        raise TriageError(_("Only manual criteria are scored by reviewers."), field="criterion")
    if not 0 <= value <= criterion.scale_max:
        raise TriageError(_("Score {criterion} from 0 to {most}.").format(criterion=criterion.name,
                                                                         most=criterion.scale_max), field="criterion")
    if session.get(Proposal, proposal_id) is None:
        raise TriageError(_("No such proposal."))
    row = session.exec(select(ReviewerScore).where(ReviewerScore.proposal_id == proposal_id,
                                                   ReviewerScore.criterion_id == criterion.id,
                                                   ReviewerScore.reviewer_id == actor.id)).first()
    before = {"value": row.value} if row else None
    if row is None:
        row = ReviewerScore(proposal_id=proposal_id, criterion_id=criterion.id or 0, reviewer_id=actor.id or 0,
                            value=value)
    row.value = value
    session.add(row)
    audit.record(session=session, actor=actor, action="proposal.score", object_type="proposal",
                 object_id=proposal_id, before=before, after={"criterion": criterion_key, "value": value})
    session.commit()


# -- computed criteria -----------------------------------------------------------------------

def _assets(session: Session, ids: list[int]) -> dict[int, dict[str, list[int]]]:
    found: dict[int, dict[str, list[int]]] = {i: {} for i in ids}
    rows = session.exec(select(ProposalAsset).where(col(ProposalAsset.proposal_id).in_(ids)))
    for row in rows:
        found[row.proposal_id].setdefault(row.layer, []).append(row.asset_id)
    return found


def _horizon(session: Session) -> int:
    program = programs.get_program(session=session)
    return program.collection_years if program else 5


@dataclass
class AssetData:
    """The covered assets' condition and tract poverty rate, read in a few queries for all proposals."""

    pavement: dict[int, tuple[float, float | None, str | None, float | None]] = field(default_factory=dict)
    sidewalk: dict[int, tuple[float, bool, str | None, float | None]] = field(default_factory=dict)
    streetlight: dict[int, tuple[str, float | None]] = field(default_factory=dict)


CHUNK = 900  # SQLite's parameter limit is generous, but keep each IN list modest


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def load_assets(session: Session, assets: dict[int, dict[str, list[int]]]) -> AssetData:
    wanted: dict[str, set[int]] = {}
    for per_layer in assets.values():
        for layer, ids in per_layer.items():
            wanted.setdefault(layer, set()).update(ids)
    data = AssetData()
    for chunk in _chunks(sorted(wanted.get("pavement", ()))):
        for sid, length, pci, fclass, rate in session.exec(
                select(PavementSegment.id, PavementSegment.length_m, PavementSegment.pci,  # type: ignore[call-overload]
                       PavementSegment.functional_class, CensusTract.poverty_rate)
                .outerjoin(CensusTract, col(CensusTract.id) == PavementSegment.tract_id)
                .where(col(PavementSegment.id).in_(chunk))):
            data.pavement[sid or 0] = (length, pci, fclass, rate)
    for chunk in _chunks(sorted(wanted.get("sidewalk", ()))):
        for sid, length, gap, condition, rate in session.exec(
                select(SidewalkSegment.id, SidewalkSegment.length_m, SidewalkSegment.is_gap,  # type: ignore[call-overload]
                       SidewalkSegment.condition, CensusTract.poverty_rate)
                .outerjoin(CensusTract, col(CensusTract.id) == SidewalkSegment.tract_id)
                .where(col(SidewalkSegment.id).in_(chunk))):
            data.sidewalk[sid or 0] = (length, bool(gap), condition, rate)
    for chunk in _chunks(sorted(wanted.get("streetlight", ()))):
        for lid, status, rate in session.exec(
                select(Streetlight.id, Streetlight.status, CensusTract.poverty_rate)
                .outerjoin(CensusTract, col(CensusTract.id) == Streetlight.tract_id)
                .where(col(Streetlight.id).in_(chunk))):
            data.streetlight[lid or 0] = (status, rate)
    return data


def condition_need(data: AssetData, assets: dict[str, list[int]]) -> float | None:
    needs = []
    rated = [data.pavement[i] for i in assets.get("pavement", []) if i in data.pavement]
    rated = [r for r in rated if r[1] is not None]
    length = sum(r[0] for r in rated)
    if length > 0:
        needs.append(sum(r[0] * (100 - (r[1] or 0)) for r in rated) / length / 100)
    walks = [data.sidewalk[i] for i in assets.get("sidewalk", []) if i in data.sidewalk]
    length = sum(r[0] for r in walks)
    if length > 0:
        needs.append(sum(r[0] for r in walks if r[1] or (r[2] or "").lower() == "poor") / length)
    lights = [data.streetlight[i] for i in assets.get("streetlight", []) if i in data.streetlight]
    if lights:
        needs.append(sum(1 for status, _ in lights if status in ("out", "reported")) / len(lights))
    return max(needs) if needs else None


def equity(data: AssetData, assets: dict[str, list[int]]) -> float | None:
    weighted, weight = 0.0, 0.0
    for sid in assets.get("pavement", []):
        length, _, _, rate = data.pavement.get(sid, (0.0, None, None, None))
        if rate is not None:
            weighted, weight = weighted + length * rate, weight + length
    for sid in assets.get("sidewalk", []):
        length, _, _, rate = data.sidewalk.get(sid, (0.0, False, None, None))
        if rate is not None:
            weighted, weight = weighted + length * rate, weight + length
    for lid in assets.get("streetlight", []):
        _, rate = data.streetlight.get(lid, ("", None))
        if rate is not None:
            weighted, weight = weighted + rate, weight + 1
    return weighted / weight if weight else None


def condition_gain(data: AssetData, assets: dict[str, list[int]], years: int,
                   curves: Curves | None = None) -> float:
    """Σ length × (PCI after `years` if treated now − PCI after `years` untreated), in PCI·m."""
    gain = 0.0
    for sid in assets.get("pavement", []):
        if sid not in data.pavement:
            continue
        length, pci, functional_class, _ = data.pavement[sid]
        if pci is None:
            continue
        treated = float(pci_at_age(float(years), functional_class, curves=curves))
        untreated = float(project_pci(float(pci), float(years), functional_class, curves=curves))
        gain += length * max(treated - untreated, 0.0)
    return gain


def cost_of(proposal: Proposal, staff_totals: dict[int, int]) -> int | None:
    """What the proposal costs for scoring and the optimizer: staff's revision, else the group's estimate."""
    return staff_totals.get(proposal.id or 0, proposal.final_cents)


def score_cards(*, session: Session, proposals: Iterable[Proposal],
                staff_totals: dict[int, int] | None = None) -> dict[int, ScoreCard]:
    from app.triage.review import latest_staff_totals  # the review module prices; scoring only reads

    proposals = list(proposals)
    ids = [p.id or 0 for p in proposals]
    if not ids:
        return {}
    staff_totals = latest_staff_totals(session=session, proposal_ids=ids) if staff_totals is None else staff_totals
    criteria = rubric(session=session)
    assets = _assets(session, ids)
    data = load_assets(session, assets)
    years = _horizon(session)
    manual: dict[tuple[int, int], list[int]] = {}
    for row in session.exec(select(ReviewerScore).where(col(ReviewerScore.proposal_id).in_(ids))):
        manual.setdefault((row.proposal_id, row.criterion_id), []).append(row.value)
    per_million: dict[int, float] = {}
    curves = impact_curves(session=session)
    for p in proposals:
        cost = cost_of(p, staff_totals)
        gain = condition_gain(data, assets[p.id or 0], years, curves)
        per_million[p.id or 0] = gain / (cost / 100_000_000) if cost else 0.0
    best = max(per_million.values(), default=0.0)
    supports = participation.support_counts(session=session, proposal_ids=ids)
    most_supported = max(supports.values(), default=0)
    cards = {}
    for p in proposals:
        pid = p.id or 0
        scores = []
        for c in criteria:
            kind = CriterionKind(c.kind)
            raw: float | None
            spread, count = None, 0
            if kind is CriterionKind.condition_need:
                raw = condition_need(data, assets[pid])
                value = raw or 0.0
            elif kind is CriterionKind.equity:
                raw = equity(data, assets[pid])
                value = min(max(raw or 0.0, 0.0), 1.0)
            elif kind is CriterionKind.cost_effectiveness:
                raw = per_million[pid]
                value = raw / best if best > 0 else 0.0
            elif kind is CriterionKind.support:
                raw = float(supports.get(pid, 0))
                value = raw / most_supported if most_supported else 0.0
            else:
                values = manual.get((pid, c.id or -1), [])
                count = len(values)
                raw = statistics.fmean(values) if values else None
                spread = float(max(values) - min(values)) if values else None
                value = (raw or 0.0) / c.scale_max
            scores.append(CriterionScore(c.key, c.name, c.kind, c.weight, value, raw, spread, count))
        total_weight = sum(s.weight for s in scores)
        total = 100 * sum(s.weight * s.value for s in scores) / total_weight if total_weight else 0.0
        cards[pid] = ScoreCard(pid, round(total, 3), scores)
    return cards
