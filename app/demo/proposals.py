"""Sample community groups, accounts and proposals for the demo city.

``seed_demo_proposals`` runs after ``load_demo_city``. It finds or creates the demo accounts (every
one with ``DEMO_PASSWORD``) and the demo groups (by name), then **replaces** the demo groups'
proposals: loading the city rewrites every layer, so asset ids change and the old selections would
point at nothing. Running it again therefore leaves the same groups, accounts and proposals (same
titles, assets, estimates and states; new ids). Accounts and groups that already exist are left as
they are; proposals of other groups are never touched.

Assets are chosen by queries over the loaded city (the streets with the most poor segments, a
district's high-pressure sodium lights, …), ordered by their source ids, so the same seed and scale
give the same proposals. Every proposal is priced by the real costing service and moved through the
real state machine: group members submit and withdraw; ``staff@city.example`` reviews. Where the
triage and participation services are available, reviewers, notes, scores and resident supports
are added too.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app import accounts, participation, program
from app.proposals import ProposalError, states
from app.proposals.editor import ProposalInput, create_proposal, input_of, price, update_proposal
from app.proposals.selection import AssetKey, segments_on_street
from app.security import hash_password
from app.settings import Settings
from app.triage import review, scoring
from models.accounts import Group, GroupMembership, GroupRole, Role, User
from models.base import saved_id, utcnow
from models.layers import CurbRamp, District, LayerKind, PavementSegment, SidewalkSegment, Streetlight
from models.program import PhaseKey
from models.proposals import Proposal, ProposalRevision, ProposalState, ProposalTransition
from models.triage import PublishedList

S = ProposalState
DEMO_PASSWORD = "groundwork-demo"  # noqa: S105 — public on purpose: printed by `groundwork demo`; documented in the README
STAFF_EMAIL, ADMIN_EMAIL = "staff@city.example", "admin@city.example"
POOR_PCI = 55.0  # "poor or worse" in the default band scheme
LOCAL_PCI = 75.0  # local streets repaved by a district-wide contract
MAX_ASSETS = 1_500  # below the editor's limit per proposal


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class GroupSpec:
    key: str
    name: str
    description: str
    people: tuple[Person, ...]  # the first is the owner


GROUPS = (
    GroupSpec("eastside", "Eastside Safe Streets",
              "Neighbours east of downtown working for safe walking routes, curb ramps and slower traffic.",
              (Person("owner@eastside.example", "Dana Whitfield"), Person("marcus@eastside.example", "Marcus Bell"),
               Person("ana@eastside.example", "Ana Morales"))),
    GroupSpec("downtown", "Downtown Merchants Association",
              "Shop and restaurant owners downtown: lighting, corridors and streets customers can reach.",
              (Person("owner@downtown.example", "Priya Natarajan"), Person("lee@downtown.example", "Lee Chandler"))),
    GroupSpec("oakpark", "Oak Park Neighbors",
              "A neighbourhood association on the west side; our streets were last paved in the 1990s.",
              (Person("owner@oakpark.example", "Tom Haskins"), Person("ruth@oakpark.example", "Ruth Okafor"),
               Person("sam@oakpark.example", "Sam Delgado"), Person("june@oakpark.example", "June Park"))),
    GroupSpec("walk", "Walk Cedar Hill",
              "Walkers, runners and wheelchair users mapping broken sidewalks and missing links.",
              (Person("owner@walkcedarhill.example", "Grace Liu"),
               Person("omar@walkcedarhill.example", "Omar Haddad"))),
    GroupSpec("riders", "Northside Transit Riders",
              "Bus riders asking for stops you can walk to and routes that keep moving.",
              (Person("owner@riders.example", "Keisha Moore"), Person("ben@riders.example", "Ben Alvarez"),
               Person("ivy@riders.example", "Ivy Chen"))),
    GroupSpec("pta", "Pinecrest Elementary PTA",
              "Parents and teachers for safe routes to school: sidewalks, crossings and lights.",
              (Person("owner@pinecrestpta.example", "Laura Simmons"), Person("dev@pinecrestpta.example",
                                                                              "Dev Patel"))),
)
RESIDENTS = tuple(Person(f"{name.split()[0].lower()}@residents.example", name) for name in (
    "Alex Rivera", "Brooke Tan", "Carmen Diaz", "Darnell Hughes", "Elena Popescu", "Farid Khan", "Gwen Carter",
    "Hector Ruiz"))
STAFF = (Person(STAFF_EMAIL, "Casey Morgan (city staff)"), Person(ADMIN_EMAIL, "Robin Ellis (city admin)"))

# states handed out over the proposals (in this proportion, shuffled by the seed)
STATE_BAG = ((S.draft, 4), (S.submitted, 9), (S.under_review, 5), (S.needs_info, 3), (S.feasible, 6),
             (S.not_feasible, 2), (S.shortlisted, 3), (S.withdrawn, 2))
INFO_REQUESTS = (
    "Which side of the street do you mean? Please mark the stretch you want on the map.",
    "Could you confirm the limits of the project? The selection includes segments past the school.",
    "Please tell us which stops riders use most; we need that to size the work.",
    "Is the cost of the crossings included? Add the crossings or say they are out of scope.",
)
NOT_FEASIBLE = (
    ("State route: GDOT owns this road; the county cannot fund work on it.",
     "This road belongs to the state (GDOT), so the program cannot fund it. We have passed it to GDOT."),
    ("Utility-owned poles; the conversion is already in Georgia Power's 2027 plan.",
     "The utility already plans this conversion, so it does not need program money."),
    ("Right of way too narrow for the proposed width without taking land.",
     "There is not enough public right of way here for the work as proposed."),
)
WITHDRAW_NOTES = ("We folded this into our larger corridor proposal.",
                  "Our members chose to focus on one project this round.")
EDITS = (" Neighbours at our last meeting asked us to include the whole block.",
         " We walked it again on Saturday and photographed every problem spot.",
         " Updated after talking with the district's commissioner.")
ANSWERS = " (Answered staff's question: the limits are now marked on the map and listed above.)"
REVIEW_NOTES = ("Site visit booked; check drainage at the low point.",
                "Cost looks right against the 2026 bid tabs.",
                "Overlaps with a utility project in 2027; coordinate the schedule.",
                "Strong support at the district meeting.")


@dataclass(frozen=True)
class Idea:
    group: str  # a GroupSpec key
    category: str
    title: str
    description: str
    keys: list[AssetKey]
    alternate_of: str | None = None  # the title of the proposal this is a cheaper alternate of
    override: tuple[int, str] | None = None  # (times the computed estimate, why): work the catalog does not price


@dataclass
class DemoProposals:
    groups: int = 0
    users_created: int = 0
    proposals: int = 0
    replaced: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    total_cents: int = 0
    supports: int = 0
    reviewed: int = 0
    sign_ins: list[tuple[str, str]] = field(default_factory=list)  # (email, what the account is)
    skipped: str | None = None  # why nothing was written


# -- accounts and groups ----------------------------------------------------------------------

@functools.cache
def _demo_password_hash() -> str:
    """One Argon2 hash for every sample account: they share a public password, and hashing it 26 times
    took most of the demo's seeding time."""
    return hash_password(DEMO_PASSWORD)


def _user(session: Session, settings: Settings, person: Person, role: Role, summary: DemoProposals) -> User:
    user = accounts.find_by_email(session=session, email=person.email)
    if user is None:
        user = accounts.create_user(session=session, settings=settings, email=person.email, password=DEMO_PASSWORD,
                                    display_name=person.name, role=role, password_hash=_demo_password_hash())
        summary.users_created += 1
    return user


def _group(session: Session, spec: GroupSpec, people: list[User]) -> Group:
    group = session.exec(select(Group).where(Group.name == spec.name)).first()
    if group is None:
        group = Group(name=spec.name, description=spec.description)
        session.add(group)
        session.flush()
    for i, user in enumerate(people):
        member = session.exec(select(GroupMembership).where(GroupMembership.group_id == group.id,
                                                            GroupMembership.user_id == user.id)).first()
        if member is None:
            session.add(GroupMembership(group_id=saved_id(group.id), user_id=saved_id(user.id),
                                        role=GroupRole.owner if i == 0 else GroupRole.member))
    session.commit()
    return group


# -- choosing assets --------------------------------------------------------------------------

def _keys(layer: LayerKind, ids: list[int]) -> list[AssetKey]:
    return [AssetKey(layer.value, i) for i in ids[:MAX_ASSETS]]


def _ids(session: Session, table: Any, *conditions: Any) -> list[int]:
    query = select(table.id).where(*conditions).order_by(col(table.source_id), col(table.id))
    return list(session.exec(query))


def _district_ids(session: Session) -> dict[str, int]:
    rows = session.exec(select(District.name, District.id).order_by(col(District.source_id), col(District.id)))
    return {name: saved_id(i) for name, i in rows}


def _streets_by_poor(session: Session, classes: tuple[str, ...]) -> list[str]:
    """Streets of these classes, the most poor segments first."""
    rows = session.exec(select(PavementSegment.street_name, PavementSegment.pci)
                        .where(col(PavementSegment.functional_class).in_(classes),
                               col(PavementSegment.street_name).is_not(None)))
    counts: dict[str, int] = {}
    for name, pci in rows:
        if name is None:  # the query leaves streets without a name out
            continue
        counts[name] = counts.get(name, 0) + (1 if pci is not None and pci < POOR_PCI else 0)
    return [name for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if n > 0]


def _streets_by(session: Session, table: Any, condition: Any) -> list[str]:
    """Street names with the most assets meeting ``condition`` first."""
    n = func.count()
    query = (select(table.street_name, n).where(condition, col(table.street_name).is_not(None))
             .group_by(table.street_name).order_by(n.desc(), table.street_name))
    return [name for name, _ in session.exec(query)]


def _pick(names: list[str], used: set[str], count: int) -> list[str]:
    chosen = [n for n in names if n not in used][:count]
    used.update(chosen)
    return chosen


def _school(street: str) -> str:
    return f"{street.split()[0] if street.split()[0] not in ('N', 'S', 'E', 'W', 'Old') else street.split()[1]} " \
           "Elementary"


def _ideas(session: Session) -> list[Idea]:
    """What the groups propose, from the loaded city (skipping any idea the city has no assets for)."""
    ideas: list[Idea] = []
    used: set[str] = set()
    districts = _district_ids(session)
    main_roads = ("arterial", "collector")

    def add(group: str, category: str, title: str, description: str, keys: list[AssetKey],
            alternate_of: str | None = None, override: tuple[int, str] | None = None) -> None:
        if keys:
            ideas.append(Idea(group, category, title, description, keys, alternate_of, override))

    # corridors (with a cheaper alternate for the first two)
    corridor_streets = _pick(_streets_by_poor(session, ("arterial",)), used, 3)
    for i, street in enumerate(corridor_streets):
        on = col(SidewalkSegment.street_name) == street
        sidewalks = _ids(session, SidewalkSegment, on, (col(SidewalkSegment.is_gap))
                         | col(SidewalkSegment.condition).in_(["poor", "fair"]))
        ramps = _ids(session, CurbRamp, col(CurbRamp.street_name) == street,
                     col(CurbRamp.condition).in_(["poor", "fair"]))
        lights = _ids(session, Streetlight, col(Streetlight.street_name) == street,
                      func.upper(func.coalesce(Streetlight.lamp_type, "")) != "LED")
        pavement = segments_on_street(session=session, street=street, pci_below=None)
        title = f"{street} complete-streets corridor"
        group = ("downtown", "eastside", "riders")[i]
        add(group, "corridors", title,
            f"Rebuild {street} as a complete street: repave end to end, rebuild the sidewalks on both sides, "
            "fill every gap, bring the curb ramps up to ADA standards and convert the lights to LED.",
            pavement + _keys(LayerKind.sidewalk, sidewalks) + _keys(LayerKind.ramp, ramps)
            + _keys(LayerKind.streetlight, lights),
            override=((4, 3, 3)[i], "Adds new signals, drainage and right-of-way purchases, which the catalog "
                                    "does not price; the amount is from the county engineer's planning estimate."))
        if i < 2:
            gaps = _ids(session, SidewalkSegment, on, col(SidewalkSegment.is_gap))
            add(group, "corridors", f"{street} corridor, phase 1: repave and fill the gaps",
                f"A cheaper alternate to the full {street} corridor: only the poor pavement and the missing "
                "sidewalk. Fund one or the other, not both.",
                segments_on_street(session=session, street=street, pci_below=POOR_PCI)
                + _keys(LayerKind.sidewalk, gaps), alternate_of=title)

    # resurfacing the poor stretches of main streets
    for i, street in enumerate(_pick(_streets_by_poor(session, main_roads), used, 6)):
        add(("oakpark", "downtown", "walk", "oakpark", "riders", "eastside")[i], "pavement",
            f"Resurface the poor stretches of {street}",
            f"Mill and overlay (or rebuild where it has failed) every segment of {street} with a PCI below "
            f"{POOR_PCI:g}. Potholes here damage cars and buses and make cycling dangerous.",
            segments_on_street(session=session, street=street, pci_below=POOR_PCI))
    # rebuilding a whole street
    for i, street in enumerate(_pick(_streets_by_poor(session, ("collector",)), used, 2)):
        add(("oakpark", "walk")[i], "pavement", f"Rebuild {street} end to end",
            f"Reconstruct the whole of {street}, base and surface, rather than patching it again.",
            segments_on_street(session=session, street=street, pci_below=None))
    # local streets in the districts with the most poor ones
    local_poor = (select(PavementSegment.district_id, func.count())
                  .where(col(PavementSegment.functional_class) == "local", col(PavementSegment.pci) < POOR_PCI,
                         col(PavementSegment.district_id).is_not(None))
                  .group_by(col(PavementSegment.district_id))
                  .order_by(func.count().desc(), col(PavementSegment.district_id)))
    names = {i: name for name, i in districts.items()}
    for i, (district_id, _) in enumerate(session.exec(local_poor)):
        if district_id is None:  # the query leaves segments outside every district out
            continue
        ids = _ids(session, PavementSegment, col(PavementSegment.functional_class) == "local",
                   col(PavementSegment.pci) < LOCAL_PCI, PavementSegment.district_id == district_id)
        add(("oakpark", "eastside", "walk", "pta", "downtown", "riders")[i % 6], "pavement",
            f"Repave the worst local streets in {names[district_id]}",
            f"Every local street in {names[district_id]} with a PCI below {LOCAL_PCI:g}, repaved in one contract.",
            _keys(LayerKind.pavement, ids))

    # sidewalk gaps near schools
    for i, street in enumerate(_pick(_streets_by(session, SidewalkSegment, col(SidewalkSegment.is_gap)), used, 4)):
        gaps = _ids(session, SidewalkSegment, col(SidewalkSegment.street_name) == street, col(SidewalkSegment.is_gap))
        ramps = _ids(session, CurbRamp, col(CurbRamp.street_name) == street, col(CurbRamp.condition) == "poor")
        school = _school(street)
        add(("pta", "eastside", "pta", "walk")[i], "sidewalks", f"Fill the sidewalk gaps on {street} near {school}",
            f"Children walking to {school} step into the road where the sidewalk on {street} stops. Build the "
            "missing sidewalk and fix the curb ramps at the crossings.",
            _keys(LayerKind.sidewalk, gaps) + _keys(LayerKind.ramp, ramps))
    district_names = list(districts)
    # broken sidewalks and curb ramps by district
    for i, name in enumerate(district_names[:2]):
        ids = _ids(session, SidewalkSegment, SidewalkSegment.district_id == districts[name],
                   col(SidewalkSegment.condition) == "poor")
        add(("walk", "eastside")[i], "sidewalks", f"Fix the broken sidewalks in {name}",
            f"Replace the sidewalk panels rated poor across {name}: heaved slabs, trip hazards and missing pieces.",
            _keys(LayerKind.sidewalk, ids))
    for i, name in enumerate(district_names[2:4]):
        ids = _ids(session, CurbRamp, CurbRamp.district_id == districts[name], col(CurbRamp.condition) == "poor")
        add(("eastside", "walk")[i], "sidewalks", f"ADA curb ramps across {name}",
            f"Rebuild every curb ramp in {name} rated poor so wheelchairs, strollers and walkers can cross.",
            _keys(LayerKind.ramp, ids))
    trail = _pick(_streets_by(session, SidewalkSegment, col(SidewalkSegment.condition).in_(["poor", "fair"])), used, 1)
    for street in trail:
        ids = _ids(session, SidewalkSegment, col(SidewalkSegment.street_name) == street)
        add("walk", "sidewalks", f"{street} multi-use path",
            f"Widen and rebuild the sidewalks along {street} into a shared path for walking and cycling.",
            _keys(LayerKind.sidewalk, ids),
            override=(4, "A 10-foot concrete path with a planted buffer, priced per foot from the 2025 greenway "
                         "master plan; the catalog prices a 5-foot sidewalk."))
    for i, name in enumerate(district_names[-2:]):
        gaps = _ids(session, SidewalkSegment, SidewalkSegment.district_id == districts[name],
                    col(SidewalkSegment.is_gap))
        add(("walk", "pta")[i], "sidewalks", f"{('Sandy Creek', 'Trail Creek')[i]} greenway through {name}",
            f"A paved 12-foot trail along the creek through {name}, joining the missing sidewalk links to it.",
            _keys(LayerKind.sidewalk, gaps),
            override=(5, "Trail, two boardwalks and a pedestrian bridge, from the greenway master plan's cost "
                         "estimate; the catalog prices only the sidewalk links."))

    # streetlights: LED conversion by district, and dark stretches of street
    for i, name in enumerate(district_names[4:7]):
        ids = _ids(session, Streetlight, Streetlight.district_id == districts[name],
                   func.upper(func.coalesce(Streetlight.lamp_type, "")) != "LED")
        add(("downtown", "pta", "oakpark")[i], "streetlights", f"LED conversion of {name}'s streetlights",
            f"Replace the high-pressure sodium and metal halide fixtures in {name} with LED: brighter, whiter "
            "light and lower power bills.", _keys(LayerKind.streetlight, ids))
    dark = _streets_by(session, Streetlight, col(Streetlight.status).in_(["out", "reported"]))
    for i, street in enumerate(_pick(dark, used, 2)):
        ids = _ids(session, Streetlight, col(Streetlight.street_name) == street)
        add(("downtown", "riders")[i], "streetlights", f"Relight {street}",
            f"Lights along {street} are out or failing; replace the poles' fixtures along the whole street.",
            _keys(LayerKind.streetlight, ids))

    # transit: rapid bus (priced by the agency, hence an override), stop access
    bus_streets = _pick(_streets_by(session, PavementSegment, col(PavementSegment.functional_class).in_(main_roads)),
                        used, 4)
    for i, street in enumerate(bus_streets):
        sidewalks = _ids(session, SidewalkSegment, col(SidewalkSegment.street_name) == street,
                         (col(SidewalkSegment.is_gap)) | (col(SidewalkSegment.condition) == "poor"))
        ramps = _ids(session, CurbRamp, col(CurbRamp.street_name) == street,
                     col(CurbRamp.condition).in_(["poor", "fair"]))
        if i < 2:
            add("riders", "transit", f"Rapid bus line on {street}",
                f"Bus lanes, raised stations every half mile and signal priority along {street}, with the street "
                "rebuilt under the lanes and sidewalks to every station.",
                segments_on_street(session=session, street=street, pci_below=None)
                + _keys(LayerKind.sidewalk, sidewalks) + _keys(LayerKind.ramp, ramps),
                override=(9 - 2 * i, "Stations, signal priority and vehicles are priced by the transit agency's "
                                     "consultant; the catalog covers only the street work."))
        else:
            add(("riders", "downtown")[i - 2], "transit", f"Bus stop access on {street}",
                f"Sidewalks and curb ramps to every bus stop on {street}, so riders are not waiting in the grass.",
                _keys(LayerKind.sidewalk, sidewalks) + _keys(LayerKind.ramp, ramps))
    # a bridge (the catalog prices the deck's pavement; the structure is the engineer's estimate)
    for i, street in enumerate(_pick(_streets_by_poor(session, ("collector", "local")), used, 2)):
        worst = segments_on_street(session=session, street=street, pci_below=POOR_PCI)[:2]
        add(("oakpark", "eastside")[i], "pavement",
            f"Replace the {street} bridge over {('Sandy Creek', 'the North Oconee River')[i]}",
            f"The {street} bridge is posted for reduced loads; school buses detour two miles. Replace the "
            "structure and the approaches.", worst,
            override=(9, "The structure is priced from the GDOT bridge inspection report; the catalog prices only "
                         "the approaches' pavement."))
    return ideas


# -- moving through the states ----------------------------------------------------------------

def _state_plan(rng: random.Random, count: int) -> list[ProposalState]:
    """``count`` states in about ``STATE_BAG``'s proportions, every state at least once (from 8), shuffled."""
    left = dict(STATE_BAG)
    plan: list[ProposalState] = []
    while len(plan) < count:
        for state, _ in STATE_BAG:
            if left[state] > 0 and len(plan) < count:
                plan.append(state)
                left[state] -= 1
        if not any(left.values()):
            left = dict(STATE_BAG)
    rng.shuffle(plan)
    return plan


def _accepting_start(session: Session) -> date | None:
    view = program.program_view(session=session)
    phase = next((p for p in view.phases if p.key == PhaseKey.accepting_proposals.value), None) if view else None
    return phase.starts_on if phase else None


def _submission_day(session: Session) -> date | None:
    """A day the program accepts proposals: today if it does, else the phase's first day."""
    view = program.program_view(session=session)
    if view is None:
        return None
    phase = next((p for p in view.phases if p.key == PhaseKey.accepting_proposals.value), None)
    if phase is None:
        return None
    today = date.today()
    return today if phase.starts_on <= today <= phase.ends_on else phase.starts_on


def _edit(session: Session, proposal: Proposal, member: User, addition: str) -> None:
    """A member's later save (the edit history then shows who changed what)."""
    data = input_of(session=session, proposal=proposal)
    data.description = (data.description + addition)[:10_000]
    update_proposal(session=session, group_id=proposal.group_id, proposal_id=proposal.id or 0, actor=member,
                    expected_version=proposal.version, data=data)
    session.refresh(proposal)


def _move(session: Session, proposal: Proposal, to: ProposalState, *, member: User, editor: User, staff: User,
          day: date, rng: random.Random) -> None:
    """Take a new draft to ``to`` the way people would."""
    if rng.random() < 0.4:
        _edit(session, proposal, editor, rng.choice(EDITS))
    if to is S.draft:
        return
    pid, gid = proposal.id or 0, proposal.group_id
    states.submit(session=session, group_id=gid, proposal_id=pid, actor=member, expected_version=proposal.version,
                  today=day)
    if to is S.submitted:
        return
    if to is S.withdrawn:
        states.withdraw(session=session, group_id=gid, proposal_id=pid, actor=member,
                        reason=rng.choice(WITHDRAW_NOTES), today=day)
        return
    states.start_review(session=session, proposal_id=pid, actor=staff)
    if to is S.under_review:
        return
    if to is S.needs_info or rng.random() < 0.3:  # some were asked a question and answered it
        states.request_info(session=session, proposal_id=pid, actor=staff, public_note=rng.choice(INFO_REQUESTS),
                            reason="Scope unclear from the map.")
        if to is S.needs_info:
            return
        session.refresh(proposal)
        _edit(session, proposal, member, ANSWERS)
        states.submit(session=session, group_id=gid, proposal_id=pid, actor=member,
                      expected_version=proposal.version, today=day)
    if to is S.not_feasible:
        reason, note = rng.choice(NOT_FEASIBLE)
        states.mark_not_feasible(session=session, proposal_id=pid, actor=staff, reason=reason, public_note=note)
        return
    states.mark_feasible(session=session, proposal_id=pid, actor=staff,
                         public_note="Feasible as proposed; the estimate matches our unit costs.")
    if to is S.shortlisted:
        states.shortlist(session=session, proposal_id=pid, actor=staff, reason="High need and strong support.")


def _submitted_times(rng: random.Random, count: int, submit_at: int, created: datetime, submitted: datetime,
                     end: datetime) -> list[datetime]:
    """Edits between ``created`` and ``submitted``, the submission, then the review's moves until ``end``."""
    before = sorted(rng.uniform(0, 0.9) for _ in range(submit_at - 1))
    after = sorted(rng.uniform(0, 1) for _ in range(count - submit_at - 1))
    return ([created] + [created + (submitted - created) * f for f in before] + [submitted]
            + [submitted + (end - submitted) * f for f in after])


def _backdate(session: Session, proposal: Proposal, rng: random.Random, accepting_since: datetime) -> None:
    """Spread the proposal's saves and moves over the weeks before now, as if they happened one by one:
    drafted during the drafting phase, submitted while the program accepts proposals, reviewed since."""
    now = utcnow()
    revisions = list(session.exec(select(ProposalRevision).where(ProposalRevision.proposal_id == proposal.id)))
    moves = list(session.exec(select(ProposalTransition).where(ProposalTransition.proposal_id == proposal.id)))
    events: list[ProposalRevision | ProposalTransition] = sorted(
        [*revisions, *moves], key=lambda e: (e.at, isinstance(e, ProposalTransition), e.id or 0))
    if not events:
        return
    submit_at = next((i for i, e in enumerate(events) if isinstance(e, ProposalTransition)
                      and e.from_state == S.draft), len(events) - 1)
    created = accepting_since - timedelta(days=rng.uniform(2, 25))
    submitted = accepting_since + (now - accepting_since) * rng.uniform(0.05, 0.45)
    end = submitted + (now - submitted) * rng.uniform(0.7, 0.98)
    if proposal.submitted_at is None or submit_at == 0:  # still a draft: saved now and then
        fractions = sorted(rng.uniform(0, 1) for _ in range(len(events) - 1))
        times = [created] + [created + (end - created) * f for f in fractions]
    else:
        times = _submitted_times(rng, len(events), submit_at, created, submitted, end)
    for event, at in zip(events, times, strict=True):
        event.at = at
        session.add(event)
    proposal.created_at, proposal.updated_at = times[0], times[-1]
    group_submits = [at for e, at in zip(events, times, strict=True) if isinstance(e, ProposalTransition)
                     and (e.from_state, e.to_state) in ((S.draft, S.submitted), (S.needs_info, S.under_review))]
    if proposal.submitted_at is not None and group_submits:
        proposal.submitted_at = group_submits[-1]
    session.add(proposal)


def _triage(session: Session, proposals: list[Proposal], reviewers: list[User], rng: random.Random,
            summary: DemoProposals) -> None:
    """Reviewers, notes and community-benefit scores on the proposals staff have opened."""
    reviewed = [p for p in proposals if p.state in (S.under_review, S.needs_info, S.feasible, S.not_feasible,
                                                   S.shortlisted)]
    for i, proposal in enumerate(reviewed):
        reviewer = reviewers[i % len(reviewers)]
        review.assign_reviewer(session=session, actor=reviewers[0], proposal_ids=[proposal.id or 0],
                               reviewer_id=reviewer.id)
        if rng.random() < 0.5:
            current = review.review_of(session=session, proposal_id=proposal.id or 0)
            review.save_review(session=session, actor=reviewer, proposal_id=proposal.id or 0,
                               expected_version=current.version, internal_notes=rng.choice(REVIEW_NOTES),
                               public_notes="")
        if proposal.state in (S.feasible, S.shortlisted):
            scoring.score_manual(session=session, actor=reviewer, proposal_id=proposal.id or 0,
                                 criterion_key="community_benefit", value=rng.randint(2, 5))
        summary.reviewed += 1


def _supports(session: Session, proposals: list[Proposal], people: list[User], rng: random.Random,
              summary: DemoProposals) -> None:
    if participation.supports_closed_at(session=session) is not None:  # a published list: supports are final
        return
    for proposal in proposals:
        if proposal.state in (S.draft, S.withdrawn):
            continue
        for user in rng.sample(people, rng.randint(0, len(people))):
            if participation.support(session=session, proposal_id=proposal.id or 0, user=user):
                summary.supports += 1


# -- the command ------------------------------------------------------------------------------

def _ready_for_whittling(session: Session, proposals: list[Proposal], staff: User) -> None:
    """Staff have reviewed enough that a ballot list exists: feasible projects can meet each category's
    floor (with a margin) and every district with a minimum share has some. Otherwise the demo's first
    "Optimize" would only name the conflict — right, but not what a person trying Groundwork expects."""
    view = program.program_view(session=session)
    if view is None:
        return
    district_keys = {d.id: (d.code, d.name) for d in session.exec(select(District))}
    waiting = sorted((p for p in proposals if p.state in (S.submitted, S.under_review)),
                     key=lambda p: (p.state != S.submitted, p.id or 0))

    def ready(match: Callable[[Proposal], bool]) -> int:
        return sum(p.final_cents or 0 for p in proposals if p.state in (S.feasible, S.shortlisted) and match(p))

    def promote_until(match: Callable[[Proposal], bool], needed: int) -> None:
        for proposal in [p for p in waiting if match(p)]:
            if ready(match) >= needed:
                return
            if sum(p.state == proposal.state for p in proposals) == 1:
                continue  # keep every state on the triage board
            if proposal.state == S.submitted:
                states.start_review(session=session, proposal_id=proposal.id or 0, actor=staff)
            states.mark_feasible(session=session, proposal_id=proposal.id or 0, actor=staff,
                                 public_note="Feasible as proposed; the estimate matches our unit costs.")
            session.refresh(proposal)
            waiting.remove(proposal)

    def in_category(key: str) -> Callable[[Proposal], bool]:
        return lambda p: p.category_key == key

    def in_district(name: str) -> Callable[[Proposal], bool]:
        return lambda p: name in district_keys.get(p.district_id, ())

    for category in view.categories:
        if category.floor_cents:
            promote_until(in_category(category.key), category.floor_cents * 5 // 4)
    budget = view.budget_cents
    for share in view.district_shares:
        if share.min_share_bps:
            promote_until(in_district(share.district), budget * share.min_share_bps // 10_000)


def seed_demo_proposals(*, session: Session, settings: Settings, seed: int = 42,
                        progress: Callable[[str], None] | None = None) -> DemoProposals:
    """Write the demo accounts, groups and proposals (replacing the demo groups' proposals).
    Nothing in production: the accounts' password is public."""
    summary = DemoProposals()
    if settings.environment == "production":  # accounts with a published password have no place there
        summary.skipped = "the sample accounts, groups and proposals are not written in production"
        return summary
    rng = random.Random(f"{seed}:proposals")  # noqa: S311 — reproducible demo data
    staff = [_user(session, settings, STAFF[0], Role.staff, summary),
             _user(session, settings, STAFF[1], Role.admin, summary)]
    summary.sign_ins += [(STAFF_EMAIL, "city staff"), (ADMIN_EMAIL, "administrator")]
    members: dict[str, list[User]] = {}
    groups: dict[str, Group] = {}
    for spec in GROUPS:
        members[spec.key] = [_user(session, settings, p, Role.resident, summary) for p in spec.people]
        groups[spec.key] = _group(session, spec, members[spec.key])
        summary.sign_ins.append((spec.people[0].email, f"owner of {spec.name}"))
    residents = [_user(session, settings, p, Role.resident, summary) for p in RESIDENTS]
    summary.sign_ins.append((RESIDENTS[0].email, "a resident in no group"))
    summary.groups = len(groups)
    if progress:
        progress("Accounts and groups")

    group_ids = [g.id for g in groups.values()]
    if session.exec(select(PublishedList.id)).first() is not None:  # a published list never changes
        summary.skipped = ("a ballot list is published, so the sample proposals are left as they are (a published "
                           "list never changes; amend it instead)")
        session.commit()
        return summary
    summary.replaced = int(session.exec(select(func.count()).select_from(Proposal)
                                        .where(col(Proposal.group_id).in_(group_ids))).one())
    session.execute(delete(Proposal).where(col(Proposal.group_id).in_(group_ids)))
    session.commit()
    view = program.program_view(session=session)
    day = _submission_day(session)
    if view is None or day is None:  # no program to propose to: groups and accounts only
        return summary
    categories = [c.key for c in view.categories]
    first_year = day.year + 1
    years = list(range(first_year, first_year + max(1, view.program.collection_years)))
    ideas = _ideas(session)
    plan = _state_plan(rng, len(ideas))
    by_title: dict[str, Proposal] = {}
    written: list[Proposal] = []
    for idea, to in zip(ideas, plan, strict=True):
        team = members[idea.group]
        author = team[rng.randrange(len(team))]
        alternate_of = by_title.get(idea.alternate_of) if idea.alternate_of else None
        year = alternate_of.scheduled_year if alternate_of else rng.choice(years)
        data = ProposalInput(title=idea.title, description=idea.description,
                             category_key=idea.category if idea.category in categories else categories[0],
                             scheduled_year=year, assets=idea.keys,
                             alternate_of_id=alternate_of.id if alternate_of else None)
        try:
            if idea.override:
                computed = price(session=session, keys=idea.keys, scheduled_year=year, override=None).estimate
                if computed:  # rounded to $100,000, as an engineer's estimate would be
                    data.override_cents = max(10_000_000, computed["total_cents"] * idea.override[0]
                                              // 10_000_000 * 10_000_000)
                    data.override_reason = idea.override[1]
            proposal = create_proposal(session=session, group_id=groups[idea.group].id or 0, actor=author, data=data)
            _move(session, proposal, to, member=author, editor=team[(team.index(author) + 1) % len(team)],
                  staff=staff[0], day=day, rng=rng)
        except ProposalError:  # e.g. a program staff have edited no longer accepts it: leave what was written
            session.rollback()
            continue
        session.refresh(proposal)
        by_title[idea.title] = proposal
        written.append(proposal)
    if day == date.today() and written:
        accepting_since = datetime.combine(_accepting_start(session) or day, datetime.min.time(), tzinfo=UTC)
        for proposal in written:
            _backdate(session, proposal, rng, min(accepting_since, utcnow() - timedelta(days=1)))
        session.commit()
    if progress:
        progress("Proposals")
    _triage(session, written, staff, rng, summary)
    _ready_for_whittling(session, written, staff[0])
    _supports(session, written, residents + [m for team in members.values() for m in team[:1]], rng, summary)
    summary.proposals = len(written)
    for proposal in written:
        summary.by_state[proposal.state] = summary.by_state.get(proposal.state, 0) + 1
        summary.total_cents += proposal.final_cents or 0
    return summary
