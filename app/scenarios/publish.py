"""Publishing: one scenario frozen as the ballot list — immutable, versioned, hashed.

The export is canonical JSON: keys sorted, no whitespace (separators "," and ":"), UTF-8, money in
integer cents, scores in integer thousandths of a point; its SHA-256 (hex) is the content hash.
See docs/BALLOT_HASH.md for how anyone recomputes it from /ballot/export.json.

Publishing checks everything first and refuses (writing nothing) when the list breaks a rule
reported by the optimizer's check, when a proposal that will not be selected has no public reason
(its review's public notes), or when a list was already published (it then changes only by an
amendment, app.scenarios.amend). Staff see what it will do first (``plan``: projects, total, the
groups mailed) and confirm. It writes the list's row first — the unique version is the lock, so a
second publish at the same moment is a ``PublishConflict``, never half a list —, then moves
proposals through the state machine (feasible → shortlisted → on ballot; the others → not selected
with their reason), writes the items, and mails every member of each affected group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from app import audit, groups
from app import program as programs
from app.i18n import gettext, localized
from app.i18n import gettext as _
from app.layers import summary
from app.proposals import snapshots, states
from app.scenarios import ScenarioError, budget, compare, scenarios
from app.scenarios.chain import FORMAT, Changes, canonical_json, changes, content_hash
from app.settings import Settings
from app.triage import review, scoring
from models.accounts import GroupMembership, User
from models.layers import District
from models.proposals import Proposal, ProposalState
from models.triage import PublishedItem, PublishedList

S = ProposalState


class PublishConflict(ScenarioError):
    """Someone else published (or amended) the list at the same moment; nothing of this one was written."""


def latest(*, session: Session) -> PublishedList | None:
    return session.exec(select(PublishedList).order_by(col(PublishedList.version).desc())).first()


def version_of(*, session: Session, number: int) -> PublishedList | None:
    return session.exec(select(PublishedList).where(PublishedList.version == number)).first()


def all_versions(*, session: Session) -> list[PublishedList]:
    return list(session.exec(select(PublishedList).order_by(col(PublishedList.version))))


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
        problems.append(_("The ballot list was already published (version {version}, {when} UTC); a published list "
                          "cannot be changed or published again. To change it, amend it: a new version with a public "
                          "reason (Ballot list → Amend).")
                        .format(version=already.version, when=f"{already.published_at:%Y-%m-%d %H:%M}"))
    outcome = scenarios.current_outcome(p)
    if not outcome.placements:
        problems.append(_("The scenario's list is empty."))
    if p.unpriced:
        problems.append(_("These feasible proposals have no estimate, so they can be neither listed nor left out: "
                          "{proposals}.").format(proposals=_named(p.unpriced)))
    problems += [_("It breaks a rule: {rule}").format(rule=v.message) for v in outcome.violations]
    chosen = outcome.ids
    problems += snapshots.lost_problems(session=session, proposals=[p.proposals[k] for k in sorted(chosen, key=int)])
    missing = [prop for key, prop in p.proposals.items() if key not in chosen
               and not review.review_of(session=session, proposal_id=prop.id or 0).public_notes.strip()]
    if missing:
        problems.append(_("These proposals will not be selected and need a public reason (public notes on their "
                          "review) first: {proposals}.").format(proposals=_named(missing)))
    return Readiness(problems, missing)


def _named(proposals: list[Proposal]) -> str:
    return ", ".join(f"#{p.id} “{p.title}”" for p in proposals)


@dataclass(frozen=True)
class Plan:
    """What publishing will do, for the confirmation step."""

    version: int
    projects: int
    total_cents: int
    not_selected: int
    groups: int  # groups whose members are mailed
    recipients: int
    scenario_version: int  # the scenario as reviewed; a later edit makes the confirmation stale


def mailed(session: Session, group_ids: set[int]) -> tuple[int, int]:
    """How many of these groups get mail, and how many people in all."""
    if not group_ids:
        return 0, 0
    rows = session.exec(select(GroupMembership.group_id, GroupMembership.user_id)
                        .where(col(GroupMembership.group_id).in_(sorted(group_ids)))).all()
    return len({g for g, _ in rows}), len({u for _, u in rows})


def plan(*, session: Session, scenario_id: int) -> Plan:
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    outcome = scenarios.current_outcome(p)
    groups, recipients = mailed(session, {prop.group_id for prop in p.proposals.values()})
    already = latest(session=session)
    return Plan((already.version + 1) if already else 1, len(outcome.selection), outcome.total_cost_cents,
                len(p.proposals) - len(outcome.selection), groups, recipients, p.scenario.version)


def publish(*, session: Session, settings: Settings, actor: User, scenario_id: int,
            scenario_version: int | None = None) -> PublishedList:
    """Publish the scenario as version 1 of the ballot list. ``scenario_version`` is the version
    staff confirmed; if the scenario changed since, nothing is written (they confirm again)."""
    ready = readiness(session=session, scenario_id=scenario_id)
    if ready.problems:
        raise ScenarioError(" ".join(ready.problems))
    p = scenarios.pool(session=session, scenario_id=scenario_id)
    if scenario_version is not None and p.scenario.version != scenario_version:
        raise ScenarioError(_("The scenario changed after you reviewed it; nothing was published. Review what "
                              "will be published again, then confirm."))
    outcome = scenarios.current_outcome(p)
    try:
        return _publish(session, settings, actor, scenario_id, p, outcome)
    except Exception:
        session.rollback()  # all or nothing: no proposal moved, no list written
        raise


def write_list(*, session: Session, actor: User, document: dict[str, Any], scenario_id: int | None) -> PublishedList:
    """Write the list's row first, before any proposal moves: the version is unique, so of two
    publishes (or amendments) at the same moment one writes it and the other is refused here —
    PostgreSQL holds the second insert until the first commits, SQLite refuses a write from a
    transaction begun deferred that read before the other's commit (a request's begins immediate,
    app.db, so the second publish there waits and then finds the list published). The caller's unit
    of work continues."""
    text = canonical_json(document)
    published = PublishedList(version=document["version"], scenario_id=scenario_id, published_by_id=actor.id,
                              content_hash=content_hash(text), export=text, total_cents=document["total_cents"])
    try:
        with session.begin_nested():
            session.add(published)
    except (IntegrityError, OperationalError) as error:
        session.rollback()
        winner = latest(session=session)
        if winner is None:
            raise PublishConflict(_("Another publish of the ballot list was being written at the same moment, so "
                                    "nothing was written. Reload the ballot list, then try again.")) from error
        raise PublishConflict(_("Someone else published version {version} of the ballot list at {when} UTC, at the "
                                "same moment; nothing of yours was written. Look at the ballot list as it is now.")
                              .format(version=winner.version, when=f"{winner.published_at:%Y-%m-%d %H:%M}")) from error
    return published


def _publish(session: Session, settings: Settings, actor: User, scenario_id: int, p: Any,
             outcome: Any) -> PublishedList:
    selection = outcome.selection
    scores = {c.id: c.score for c in p.candidates}
    costs = {c.id: c.cost_cents for c in p.candidates}
    districts = {d.id: d.name for d in session.exec(select(District))}
    reasons = {key: review.review_of(session=session, proposal_id=proposal.id or 0).public_notes.strip()
               for key, proposal in p.proposals.items() if key not in selection}
    program = programs.get_program(session=session)
    version = 1
    items = [{"proposal_id": int(key), "title": p.proposals[key].title, "category": p.proposals[key].category_key,
              "district": districts.get(p.proposals[key].district_id) if p.proposals[key].district_id else None,
              "tier": tier, "cost_cents": costs[key], "score_milli": round(scores[key] * 1000)}
             for key, tier in sorted(selection.items(), key=lambda kv: (kv[1], int(kv[0])))]
    document = {
        "format": FORMAT, "version": version, "program": program.name if program else "",
        "scenario": p.scenario.name, "target_share_bps": p.scenario.target_share_bps,
        "total_cents": outcome.total_cost_cents, "items": items, "budget": budget.to_publish(session=session),
        "not_selected": [{"proposal_id": int(k), "title": p.proposals[k].title, "reason": r}
                         for k, r in sorted(reasons.items(), key=lambda kv: int(kv[0]))],
    }
    published = write_list(session=session, actor=actor, document=document, scenario_id=scenario_id)
    for key, proposal in p.proposals.items():  # through the state machine, committed together below
        if key in selection:
            if proposal.state == S.feasible:
                proposal = states.shortlist(session=session, proposal_id=proposal.id or 0, actor=actor,
                                            reason=f"scenario {p.scenario.name}", commit=False)
            states.place_on_ballot(session=session, proposal_id=proposal.id or 0, actor=actor,
                                   reason=f"published from scenario {p.scenario.name}", commit=False)
        else:
            states.not_select(session=session, proposal_id=proposal.id or 0, actor=actor, public_note=reasons[key],
                              reason=f"not in scenario {p.scenario.name}", commit=False)
    from app.scenarios import ballot_cash  # here: it reads published lists through this module

    rows = [PublishedItem(published_list_id=published.id or 0, proposal_id=item["proposal_id"],
                          title=item["title"], category_key=item["category"], district=item["district"],
                          tier=item["tier"], cost_cents=item["cost_cents"], score=scores[str(item["proposal_id"])],
                          snapshot=snapshots.for_ballot(session=session,
                                                        proposal=p.proposals[str(item["proposal_id"])]))
            for item in items]
    ballot_cash.freeze_years(session=session, scenario_id=scenario_id, items=rows)  # kept: rows never change
    for row in rows:  # after the moves: from here on the database keeps these proposals as they are
        session.add(row)
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
    groups.mail_members(session=session, settings=settings, lines_by_group=by_group,
                        subject="The ballot list is published", opening="",
                        closing=f"\n\nThe list: {settings.base_url}/ballot\n")


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
    current_version: int | None = None  # the newest version (the one on the ballot)
    versions: list[PublishedList] = field(default_factory=list)
    changes: Changes | None = None  # what changed since the version before this one
    district_names: dict[str, str] = field(default_factory=dict)  # as published (English) → the viewer's language


@dataclass(frozen=True)
class DistrictSpending:
    district: str
    cents: int
    population: int | None

    @property
    def cents_per_resident(self) -> int | None:
        return self.cents // self.population if self.population else None


def ballot_view(*, session: Session, version: int | None = None) -> BallotView:
    """The public ballot page: the latest published list (or an earlier ``version``, LookupError if
    there is none) with its totals by category, tier and district, and what changed since the
    version before it."""
    published = latest(session=session) if version is None else version_of(session=session, number=version)
    if version is not None and published is None:
        raise LookupError(version)
    items = items_of(session=session, published_id=published.id or 0) if published else []
    view = programs.program_view(session=session)
    names = programs.category_names(view)
    districts = list(session.exec(select(District)))
    shown = {d.name: localized(d.name, d.name_es) for d in districts}
    totals: dict[str, dict[str, int]] = {"category": {}, "tier": {}, "district": {}}
    for item in items:
        district = shown.get(item.district, item.district) if item.district else gettext("Citywide")
        for kind, key in (("category", names.get(item.category_key or "", item.category_key or "—")),
                          ("tier", f"{gettext('Tier')} {item.tier}"), ("district", district)):
            totals[kind][key] = totals[kind].get(key, 0) + item.cost_cents
    if not published:
        return BallotView(published, items, totals, names, None, district_names=shown)
    populations = {shown[d.name]: d.population for d in districts}
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
    versions = all_versions(session=session)
    previous = next((v for v in versions if v.version == published.version - 1), None)
    export = parsed(published)
    return BallotView(published, items, totals, names, export, per_resident,
                      dict(sorted(by_quintile.items())), summary.map_summary(session=session).city.average_pci,
                      compare.projected_network_pci(session, []), compare.projected_network_pci(session, ids),
                      versions[-1].version, versions, changes(parsed(previous), export) if previous else None,
                      shown)
