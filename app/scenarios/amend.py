"""Amendments: before the vote, staff (for the commission) publish a new version of the ballot list.

They start from the current version, keep, remove or add projects, change a project's cost or tier,
and give a public reason. Nothing is edited in place: the new version is a new ``published_list``
with its own items and canonical export, which records its predecessor's hash (``previous_hash``),
its version and its reason, so the versions form a chain anyone can verify (app.scenarios.chain).

``prepare`` checks everything and says what will happen (writing nothing); ``amend`` writes, in one
unit of work and in this order: the list's row (the unique version is the lock against a
concurrent publish), its items, then the proposals' moves through the state machine as an
amendment — removed ones to ``not_selected`` with the public reason, added ones to ``on_ballot`` —
which is the one change the database lets a published proposal make (migration 0009), and mail to
the groups whose projects changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlmodel import Session, col, select

from app import audit, groups, optimizer
from app.i18n import gettext as _
from app.i18n import money
from app.proposals import snapshots, states
from app.scenarios import ScenarioError, budget, scenarios
from app.scenarios.chain import Changes, changes
from app.scenarios.publish import FORMAT, PublishConflict, items_of, latest, mailed, parsed, write_list
from app.settings import Settings
from app.triage import overlaps, review, scoring
from models.accounts import User
from models.layers import District
from models.proposals import Proposal, ProposalState
from models.triage import PublishedItem, PublishedList, Scenario

S = ProposalState
ADDABLE = (S.feasible.value, S.shortlisted.value, S.not_selected.value)
MAX_REASON = 4000


@dataclass(frozen=True)
class Line:
    """One project on the amended list: its tier and what it costs on this version."""

    proposal_id: int
    tier: int
    cost_cents: int


@dataclass(frozen=True)
class Addable:
    """A project that could be added: feasible, shortlisted, or not selected before."""

    proposal: Proposal
    cost_cents: int | None
    score: float


@dataclass(frozen=True)
class Start:
    """The amendment form: the current version's projects and those that could be added."""

    current: PublishedList
    items: list[dict[str, Any]]
    candidates: list[Addable]
    tiers: list[int]


@dataclass(frozen=True)
class Prepared:
    base: PublishedList
    document: dict[str, Any]
    changes: Changes
    lines: list[Line]
    groups: int  # groups mailed
    recipients: int


def _current(session: Session) -> PublishedList:
    current = latest(session=session)
    if current is None:
        raise ScenarioError(_("No ballot list has been published yet: publish one from a scenario first."))
    return current


def _tiers(session: Session, document: dict[str, Any]) -> optimizer.Rules:
    return scenarios.rules_of(session, Scenario(name="", target_share_bps=int(document.get("target_share_bps",
                                                                                          10_000))))


def start(*, session: Session) -> Start:
    current = _current(session)
    document = parsed(current)
    listed = {i["proposal_id"] for i in document["items"]}
    proposals = [p for p in session.exec(select(Proposal).where(col(Proposal.state).in_(ADDABLE))
                                         .order_by(col(Proposal.id))) if p.id not in listed]
    totals = review.latest_staff_totals(session=session, proposal_ids=[p.id or 0 for p in proposals])
    cards = scoring.score_cards(session=session, proposals=proposals, staff_totals=totals)
    candidates = [Addable(p, scoring.cost_of(p, totals), cards[p.id or 0].total) for p in proposals]
    return Start(current, document["items"], candidates, [t.number for t in _tiers(session, document).tiers])


def prepare(*, session: Session, base_version: int, lines: list[Line], reason: str) -> Prepared:
    """Check the amendment and build the new version's export; ``ScenarioError`` (nothing written)
    names every problem."""
    base = _current(session)
    if base.version != base_version:
        raise PublishConflict(_("Version {version} of the ballot list was published after you started from version "
                                "{started}; nothing was written. Start again from version {version}.")
                              .format(version=base.version, started=base_version))
    reason = reason.strip()
    previous = parsed(base)
    old = {i["proposal_id"]: i for i in previous["items"]}
    problems = []
    if not reason:
        problems.append(_("Give the public reason for the amendment; residents read it beside the new version."))
    if len(reason) > MAX_REASON:
        problems.append(_("Keep the reason under 4,000 characters."))
    if not lines:
        problems.append(_("An amended list needs at least one project."))
    ids = [line.proposal_id for line in lines]
    if len(set(ids)) != len(ids):
        problems.append(_("A project is on the list twice."))
    rules = _tiers(session, previous)
    numbers = {t.number for t in rules.tiers}
    proposals = {p.id or 0: p for p in session.exec(select(Proposal).where(col(Proposal.id).in_(ids)))}
    for line in lines:
        p = proposals.get(line.proposal_id)
        if p is None:
            problems.append(_("There is no proposal #{id}.").format(id=line.proposal_id))
        elif line.proposal_id not in old and p.state not in ADDABLE:
            problems.append(_("#{id} “{title}” is “{state}”: only feasible, shortlisted or previously not selected "
                              "proposals can be added.").format(id=p.id, title=p.title, state=_(S(p.state).label)))
        if line.tier not in numbers:
            problems.append(_("There is no Tier {tier}.").format(tier=line.tier))
        if line.cost_cents < 0:
            problems.append(_("#{id}: a cost cannot be negative.").format(id=line.proposal_id))
    if not problems:
        problems += snapshots.lost_problems(session=session, proposals=[proposals[i] for i in ids if i not in old])
    if problems:
        raise ScenarioError(" ".join(problems))
    document = _document(session, base, previous, lines, proposals, reason)
    found = changes(previous, document)
    if not found.any:
        raise ScenarioError(_("The amended list is the same as version {version}: change a project, its cost or its "
                              "tier.").format(version=base.version))
    breaks = _broken_rules(session, rules, document)
    if breaks:
        raise ScenarioError(" ".join(_("It breaks a rule: {rule}").format(rule=message) for message in breaks))
    touched = {i["proposal_id"] for i in found.added + found.removed}
    touched |= {c.proposal_id for c in found.cost_changes} | {b["proposal_id"] for _a, b in found.tier_changes}
    groups, recipients = mailed(session, {p.group_id for p in session.exec(
        select(Proposal).where(col(Proposal.id).in_(sorted(touched))))})
    return Prepared(base, document, found, lines, groups, recipients)


def _document(session: Session, base: PublishedList, previous: dict[str, Any], lines: list[Line],
              proposals: dict[int, Proposal], reason: str) -> dict[str, Any]:
    old = {i["proposal_id"]: i for i in previous["items"]}
    added = [proposals[line.proposal_id] for line in lines if line.proposal_id not in old]
    cards = scoring.score_cards(session=session, proposals=added)
    districts = {d.id: d.name for d in session.exec(select(District))}
    items = []
    for line in sorted(lines, key=lambda x: (x.tier, x.proposal_id)):
        p = proposals[line.proposal_id]
        if line.proposal_id in old:
            item = {**old[line.proposal_id]}
        else:
            item = {"proposal_id": line.proposal_id, "title": p.title, "category": p.category_key,
                    "district": districts.get(p.district_id) if p.district_id else None,
                    "score_milli": round(cards[line.proposal_id].total * 1000)}
        items.append({**item, "tier": line.tier, "cost_cents": line.cost_cents})
    listed = {line.proposal_id for line in lines}
    not_selected = [n for n in previous.get("not_selected", []) if n["proposal_id"] not in listed]
    not_selected += [{"proposal_id": i["proposal_id"], "title": i["title"], "reason": reason}
                     for i in previous["items"] if i["proposal_id"] not in listed]
    return {
        "format": FORMAT, "version": base.version + 1, "program": previous.get("program", ""),
        "scenario": previous.get("scenario", ""), "target_share_bps": previous.get("target_share_bps", 10_000),
        "total_cents": sum(i["cost_cents"] for i in items), "items": items,
        "budget": budget.to_publish(session=session),  # the program as it is now, as publishing does
        "not_selected": sorted(not_selected, key=lambda n: n["proposal_id"]),
        "previous_hash": base.content_hash, "reason": reason,
    }


def _broken_rules(session: Session, rules: optimizer.Rules, document: dict[str, Any]) -> list[str]:
    """The tier budgets, category caps and floors and alternates the amended list would break.
    (District minimum shares are the scenario's business: the amendment names its reason instead.)"""
    alternates = overlaps.alternate_groups(session=session)
    candidates = [optimizer.Candidate(id=str(i["proposal_id"]), cost_cents=i["cost_cents"],
                                      score=i["score_milli"] / 1000, category=i["category"] or "uncategorized",
                                      alternate_group=alternates.get(i["proposal_id"]), title=i["title"])
                  for i in document["items"]]
    selection = {str(i["proposal_id"]): i["tier"] for i in document["items"]}
    return [v.message for v in optimizer.check(selection, candidates, replace(rules, district_minimums=()))]


def amend(*, session: Session, settings: Settings, actor: User, base_version: int, lines: list[Line],
          reason: str) -> PublishedList:
    """Publish the amended list as the next version; all or nothing."""
    prepared = prepare(session=session, base_version=base_version, lines=lines, reason=reason)
    try:
        return _amend(session, settings, actor, prepared)
    except Exception:
        session.rollback()  # no version written, no proposal moved, no mail queued
        raise


def _amend(session: Session, settings: Settings, actor: User, prepared: Prepared) -> PublishedList:
    document, found = prepared.document, prepared.changes
    published = write_list(session=session, actor=actor, document=document,
                           scenario_id=prepared.base.scenario_id)
    from app.scenarios import ballot_cash  # here: it reads published lists through publish

    before = {i.proposal_id: i for i in items_of(session=session, published_id=prepared.base.id or 0)}
    rows = []
    for item in document["items"]:
        kept = before.get(item["proposal_id"])  # a kept project keeps its snapshot (and year) as first published
        snapshot = kept.snapshot if kept else snapshots.for_ballot(session=session,
                                                                   proposal=_proposal(session, item["proposal_id"]))
        rows.append(PublishedItem(published_list_id=published.id or 0, proposal_id=item["proposal_id"],
                                  title=item["title"], category_key=item["category"], district=item["district"],
                                  tier=item["tier"], cost_cents=item["cost_cents"],
                                  score=kept.score if kept else item["score_milli"] / 1000, snapshot=snapshot))
    ballot_cash.freeze_years(session=session, scenario_id=prepared.base.scenario_id, items=rows)
    for row in rows:
        session.add(row)
    session.flush()  # the new version's items first: the database lets the proposals follow them
    note = f"Ballot list version {published.version}: {found.reason}"
    for item in found.removed:
        states.transition(session=session, proposal=_proposal(session, item["proposal_id"]), to=S.not_selected,
                          actor=actor, public_note=note, reason=f"removed by amendment {published.version}",
                          commit=False, amending=True)
    for item in found.added:
        states.transition(session=session, proposal=_proposal(session, item["proposal_id"]), to=S.on_ballot,
                          actor=actor, public_note=note, reason=f"added by amendment {published.version}",
                          commit=False, amending=True)
    _notify(session, settings, published.version, found)
    audit.record(session=session, actor=actor, action="ballot.amend", object_type="published_list",
                 object_id=published.id, after={"version": published.version, "hash": published.content_hash,
                                                "previous_hash": document["previous_hash"], "reason": found.reason,
                                                "added": [i["proposal_id"] for i in found.added],
                                                "removed": [i["proposal_id"] for i in found.removed]})
    session.commit()
    return published


def _proposal(session: Session, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise ScenarioError(f"There is no proposal #{proposal_id}.")
    return proposal


def _notify(session: Session, settings: Settings, version: int, found: Changes) -> None:
    lines: dict[int, list[str]] = {}

    def say(proposal_id: int, text: str) -> None:
        proposal = session.get(Proposal, proposal_id)
        if proposal is not None:
            lines.setdefault(proposal.group_id, []).append(text)

    for item in found.added:
        say(item["proposal_id"], f"“{item['title']}” was added (Tier {item['tier']}, {money(item['cost_cents'])}).")
    for item in found.removed:
        say(item["proposal_id"], f"“{item['title']}” was removed from the list.")
    for change in found.cost_changes:
        say(change.proposal_id, f"“{change.title}” now costs {money(change.after_cents)} on the list "
                                f"(was {money(change.before_cents)}).")
    for old, new in found.tier_changes:
        say(new["proposal_id"], f"“{new['title']}” moved from Tier {old['tier']} to Tier {new['tier']}.")
    groups.mail_members(session=session, settings=settings, lines_by_group=lines,
                        subject=f"The ballot list was amended (version {version})",
                        opening=f"The ballot list was amended: {found.reason}\n\n",
                        closing=f"\n\nThe list and what changed: {settings.base_url}/ballot\n")


__all__ = ["Addable", "Line", "Prepared", "Start", "amend", "prepare", "start"]
