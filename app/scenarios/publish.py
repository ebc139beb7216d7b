"""Publishing: one scenario frozen as the ballot list — immutable, versioned, hashed.

The export is canonical JSON: keys sorted, no whitespace (separators "," and ":"), UTF-8, money in
integer cents, scores in integer thousandths of a point; its SHA-256 (hex) is the content hash.
See docs/BALLOT_HASH.md for how anyone recomputes it from /ballot/export.json.

Publishing checks everything first and refuses (writing nothing) when the list breaks a rule
reported by the optimizer's check, when a proposal that will not be selected has no public reason
(its review's public notes), or when a list was already published. It then moves proposals through
the state machine (feasible → shortlisted → on ballot; the others → not selected with their
reason), writes the list, and mails every member of each affected group through the outbox.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from app import audit, mail
from app import program as programs
from app.layers import summary
from app.proposals import snapshots, states
from app.scenarios import ScenarioError, compare, scenarios
from app.settings import Settings
from app.triage import review, scoring
from models.accounts import Group, GroupMembership, User
from models.layers import District
from models.proposals import Proposal, ProposalState
from models.triage import PublishedItem, PublishedList

S = ProposalState
FORMAT = "groundwork-ballot-list/1"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(export_text: str) -> str:
    return hashlib.sha256(export_text.encode("utf-8")).hexdigest()


def latest(*, session: Session) -> PublishedList | None:
    return session.exec(select(PublishedList).order_by(col(PublishedList.version).desc())).first()


def items_of(*, session: Session, published_id: int) -> list[PublishedItem]:
    return list(session.exec(select(PublishedItem).where(PublishedItem.published_list_id == published_id)
                             .order_by(col(PublishedItem.tier), col(PublishedItem.proposal_id))))


@dataclass(frozen=True)
class Readiness:
    problems: list[str]
    missing_reasons: list[Proposal]


def readiness(*, session: Session, scenario_id: int) -> Readiness:
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    problems = []
    already = latest(session=session)
    if already is not None:
        problems.append(f"The ballot list was already published (version {already.version}, "
                        f"{already.published_at:%Y-%m-%d %H:%M} UTC); a published list cannot be changed or "
                        "published again.")
    outcome = scenarios.current_outcome(p)
    if not outcome.placements:
        problems.append("The scenario's list is empty.")
    if p.unpriced:
        problems.append("These feasible proposals have no estimate, so they can be neither listed nor left out: "
                        + ", ".join(f"#{u.id} “{u.title}”" for u in p.unpriced) + ".")
    problems += [f"It breaks a rule: {v.message}" for v in outcome.violations]
    chosen = outcome.ids
    problems += snapshots.lost_problems(session=session, proposals=[p.proposals[k] for k in sorted(chosen, key=int)])
    missing = [prop for key, prop in p.proposals.items() if key not in chosen
               and not review.review_of(session=session, proposal_id=prop.id or 0).public_notes.strip()]
    if missing:
        problems.append("These proposals will not be selected and need a public reason (public notes on their "
                        "review) first: " + ", ".join(f"#{m.id} “{m.title}”" for m in missing) + ".")
    return Readiness(problems, missing)


def publish(*, session: Session, settings: Settings, actor: User, scenario_id: int) -> PublishedList:
    ready = readiness(session=session, scenario_id=scenario_id)
    if ready.problems:
        raise ScenarioError(" ".join(ready.problems))
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    outcome = scenarios.current_outcome(p)
    try:
        return _publish(session, settings, actor, scenario_id, p, outcome)
    except Exception:
        session.rollback()  # all or nothing: no proposal moved, no list written
        raise


def _publish(session: Session, settings: Settings, actor: User, scenario_id: int, p: Any,
             outcome: Any) -> PublishedList:
    selection = outcome.selection
    scores = {c.id: c.score for c in p.candidates}
    costs = {c.id: c.cost_cents for c in p.candidates}
    districts = {d.id: d.name for d in session.exec(select(District))}
    reasons: dict[str, str] = {}
    for key, proposal in p.proposals.items():  # through the state machine, committed together below
        if key in selection:
            if proposal.state == S.feasible:
                proposal = states.shortlist(session=session, proposal_id=proposal.id or 0, actor=actor,
                                            reason=f"scenario {p.scenario.name}", commit=False)
            states.place_on_ballot(session=session, proposal_id=proposal.id or 0, actor=actor,
                                   reason=f"published from scenario {p.scenario.name}", commit=False)
        else:
            reasons[key] = review.review_of(session=session, proposal_id=proposal.id or 0).public_notes.strip()
            states.not_select(session=session, proposal_id=proposal.id or 0, actor=actor, public_note=reasons[key],
                              reason=f"not in scenario {p.scenario.name}", commit=False)
    program = programs.get_program(session=session)
    version = 1
    items = [{"proposal_id": int(key), "title": p.proposals[key].title, "category": p.proposals[key].category_key,
              "district": districts.get(p.proposals[key].district_id) if p.proposals[key].district_id else None,
              "tier": tier, "cost_cents": costs[key], "score_milli": round(scores[key] * 1000)}
             for key, tier in sorted(selection.items(), key=lambda kv: (kv[1], int(kv[0])))]
    document = {
        "format": FORMAT, "version": version, "program": program.name if program else "",
        "scenario": p.scenario.name, "target_share_bps": p.scenario.target_share_bps,
        "total_cents": outcome.total_cost_cents, "items": items,
        "not_selected": [{"proposal_id": int(k), "title": p.proposals[k].title, "reason": r}
                         for k, r in sorted(reasons.items(), key=lambda kv: int(kv[0]))],
    }
    text = canonical_json(document)
    published = PublishedList(version=version, scenario_id=scenario_id, published_by_id=actor.id,
                              content_hash=content_hash(text), export=text, total_cents=outcome.total_cost_cents)
    session.add(published)
    session.flush()
    for item in items:
        session.add(PublishedItem(published_list_id=published.id or 0, proposal_id=item["proposal_id"],
                                  title=item["title"], category_key=item["category"], district=item["district"],
                                  tier=item["tier"], cost_cents=item["cost_cents"],
                                  score=scores[str(item["proposal_id"])],
                                  snapshot=snapshots.for_ballot(session=session,
                                                                proposal=p.proposals[str(item["proposal_id"])])))
    _notify(session, settings, p.proposals, selection, reasons)
    audit.record(session=session, actor=actor, action="ballot.publish", object_type="published_list",
                 object_id=published.id, after={"version": version, "hash": published.content_hash,
                                                "selected": sorted(int(k) for k in selection)})
    session.commit()
    return published


def _notify(session: Session, settings: Settings, proposals: dict[str, Proposal], selection: dict[str, int],
            reasons: dict[str, str]) -> None:
    by_group: dict[int, list[str]] = {}
    for key, proposal in proposals.items():
        line = (f"“{proposal.title}” is on the ballot list (Tier {selection[key]})." if key in selection
                else f"“{proposal.title}” was not selected: {reasons[key]}")
        by_group.setdefault(proposal.group_id, []).append(line)
    for group_id, lines in by_group.items():
        group = session.get(Group, group_id)
        members = session.exec(select(User.email).join(GroupMembership, col(GroupMembership.user_id) == User.id)
                               .where(GroupMembership.group_id == group_id))
        for email in members:
            mail.send(session=session, settings=settings, recipient=email,
                      subject="The ballot list is published",
                      body=f"Hello {group.name if group else ''},\n\n" + "\n".join(lines)
                      + f"\n\nThe list: {settings.base_url}/ballot\n")


def parsed(published: PublishedList) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(published.export)
    return value


@dataclass(frozen=True)
class BallotView:
    published: PublishedList | None
    items: list[PublishedItem]
    totals: dict[str, dict[str, int]]  # category | tier | district → label → cents
    category_names: dict[str, str]
    export: dict[str, Any] | None
    per_resident: list[DistrictSpending] = field(default_factory=list)
    by_poverty_quintile: dict[str, int] = field(default_factory=dict)  # Q1 (least poor) … Q5 → cents
    pci_today: float | None = None
    pci_without: float | None = None  # projected over the collection years with no program
    pci_with: float | None = None  # projected with the listed projects done


@dataclass(frozen=True)
class DistrictSpending:
    district: str
    cents: int
    population: int | None

    @property
    def cents_per_resident(self) -> int | None:
        return self.cents // self.population if self.population else None


def ballot_view(*, session: Session) -> BallotView:
    """The public ballot page: the latest published list with its totals by category, tier and district."""
    published = latest(session=session)
    items = items_of(session=session, published_id=published.id or 0) if published else []
    view = programs.program_view(session=session)
    names = {c.key: c.name for c in view.categories} if view else {}
    totals: dict[str, dict[str, int]] = {"category": {}, "tier": {}, "district": {}}
    for item in items:
        for kind, key in (("category", names.get(item.category_key or "", item.category_key or "—")),
                          ("tier", f"Tier {item.tier}"), ("district", item.district or "Citywide")):
            totals[kind][key] = totals[kind].get(key, 0) + item.cost_cents
    if not published:
        return BallotView(published, items, totals, names, None)
    populations = {d.name: d.population for d in session.exec(select(District))}
    per_resident = [DistrictSpending(name, cents, populations.get(name))
                    for name, cents in sorted(totals["district"].items())]
    proposals = [p for p in (session.get(Proposal, i.proposal_id) for i in items) if p is not None]
    cards = scoring.score_cards(session=session, proposals=proposals)
    breaks = compare.quintile_breaks(session)
    by_quintile: dict[str, int] = {}
    for item in items:
        card = cards.get(item.proposal_id)
        poverty = next((c.raw for c in card.criteria if c.kind == "equity"), None) if card else None
        key = compare.quintile(poverty, breaks)
        by_quintile[key] = by_quintile.get(key, 0) + item.cost_cents
    ids = [i.proposal_id for i in items]
    return BallotView(published, items, totals, names, parsed(published), per_resident,
                      dict(sorted(by_quintile.items())), summary.map_summary(session=session).city.average_pci,
                      compare.projected_network_pci(session, []), compare.projected_network_pci(session, ids))
