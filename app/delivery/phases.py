"""The delivery phases staff configure: names in English and Spanish, order, and the progress a
project without milestones shows in each (default: design 10 %, procurement 30 %, construction
60 %, complete 100 %).

Rules that keep the projects' data consistent:

* *complete* is always the last phase and cannot be removed or moved: completing a project updates
  the assets it treated (``conditions.complete``); its names may change.
* A phase is added before *complete*; every project gets (empty) dates for it. A project already
  past it skips it.
* A phase cannot be removed while a project is in it, or once a project has dates recorded in it
  or an update posted during it (that is the project's public record).
* Two neighbouring phases swap places only while no project has reached either (a project's
  history never runs out of order). Projects start in the first phase, so it stays first once
  delivery has opened.

Every change is audited (``delivery.phases``) and commits once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from app import audit
from app.delivery import DeliveryError
from app.i18n import gettext as _
from app.i18n import localized
from models.accounts import User
from models.delivery import (
    DeliveryPhase,
    DeliveryPhaseDates,
    DeliveryPhaseDefinition,
    DeliveryProject,
    DeliveryUpdate,
)

COMPLETE = DeliveryPhase.complete.value
MAX_PHASES = 12


@dataclass(frozen=True)
class Phase:
    key: str
    name: str
    name_es: str
    progress: int
    position: int

    @property
    def label(self) -> str:
        """The name in the viewer's language."""
        return localized(self.name, self.name_es)

    @property
    def is_complete(self) -> bool:
        return self.key == COMPLETE


DEFAULTS = (Phase("design", "Design", "Diseño", 10, 0), Phase("procurement", "Procurement", "Contratación", 30, 1),
            Phase("construction", "Construction", "Construcción", 60, 2),
            Phase("complete", "Complete", "Terminado", 100, 3))


def all_phases(*, session: Session) -> list[Phase]:
    """The phases in order (the defaults when none are configured)."""
    rows = session.exec(select(DeliveryPhaseDefinition).order_by(col(DeliveryPhaseDefinition.sort_order),
                                                                 col(DeliveryPhaseDefinition.id))).all()
    if not rows:
        return list(DEFAULTS)
    phases = [Phase(r.key, r.name, r.name_es, r.progress, n) for n, r in enumerate(rows) if r.key != COMPLETE]
    done = next((r for r in rows if r.key == COMPLETE), None)
    end = Phase(COMPLETE, done.name, done.name_es, 100, len(phases)) if done else DEFAULTS[-1]
    return [*phases, Phase(end.key, end.name, end.name_es, 100, len(phases))]


def label(phases: list[Phase], key: str) -> str:
    return next((p.label for p in phases if p.key == key), key)


def _ensure_rows(session: Session) -> list[DeliveryPhaseDefinition]:
    rows = list(session.exec(select(DeliveryPhaseDefinition).order_by(col(DeliveryPhaseDefinition.sort_order),
                                                                      col(DeliveryPhaseDefinition.id))))
    if not rows:
        rows = [DeliveryPhaseDefinition(key=p.key, name=p.name, name_es=p.name_es, sort_order=p.position,
                                        progress=p.progress) for p in DEFAULTS]
        session.add_all(rows)
        session.flush()
    return rows


def _snapshot(rows: list[DeliveryPhaseDefinition]) -> list[dict[str, object]]:
    return [{"key": r.key, "name": r.name, "name_es": r.name_es, "progress": r.progress} for r in rows]


def _renumber(session: Session, rows: list[DeliveryPhaseDefinition]) -> None:
    """Sort order 0, 1, … with *complete* last."""
    ordered = [r for r in rows if r.key != COMPLETE] + [r for r in rows if r.key == COMPLETE]
    for n, row in enumerate(ordered):
        row.sort_order = n
        session.add(row)


def _key_for(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:16] or "phase"
    key, n = base, 2
    while key in taken:
        key, n = f"{base[:14]}_{n}", n + 1
    return key


def _check_names(name: str, name_es: str, progress: int | None, rows: list[DeliveryPhaseDefinition],
                 key: str | None) -> tuple[str, str, int]:
    name, name_es = " ".join(name.split()), " ".join(name_es.split())
    if not name or len(name) > 80:
        raise DeliveryError(_("Give the phase a name (at most 80 characters)."), field="name")
    if not name_es or len(name_es) > 80:
        raise DeliveryError(_("Give the phase its Spanish name (at most 80 characters)."), field="name_es")
    for row in rows:
        if row.key != key and (row.name.lower() == name.lower() or row.name_es.lower() == name_es.lower()):
            raise DeliveryError(_("Another phase is already called “{name}”.").format(name=row.name), field="name")
    if key == COMPLETE:
        return name, name_es, 100
    if progress is None or not 0 <= progress <= 99:
        raise DeliveryError(_("Give the progress shown in this phase as a whole number from 0 to 99."),
                            field="progress")
    return name, name_es, progress


def save(*, session: Session, actor: User | None, key: str | None, name: str, name_es: str,
         progress: int | None) -> Phase:
    """Rename a phase (``key`` given) or add one before *complete* (``key`` None)."""
    rows = _ensure_rows(session)
    before = _snapshot(rows)
    if key is None:
        if len(rows) >= MAX_PHASES:
            raise DeliveryError(_("There are {count} phases already; that is the most.").format(count=len(rows)),
                                field="name")
        name, name_es, progress = _check_names(name, name_es, progress, rows, None)
        row = DeliveryPhaseDefinition(key=_key_for(name, {r.key for r in rows}), name=name, name_es=name_es,
                                      progress=progress, sort_order=len(rows))
        session.add(row)
        session.flush()
        for project_id in session.exec(select(DeliveryProject.id)):
            session.add(DeliveryPhaseDates(project_id=project_id or 0, phase=row.key))
        rows.append(row)
    else:
        found = next((r for r in rows if r.key == key), None)
        if found is None:
            raise LookupError(key)
        row = found
        row.name, row.name_es, row.progress = _check_names(name, name_es, progress, rows, key)
        session.add(row)
    _renumber(session, rows)
    audit.record(session=session, actor=actor, action="delivery.phases", object_type="delivery_phase",
                 object_id=row.key, before={"phases": before}, after={"phases": _snapshot(rows)})
    session.commit()
    return next(p for p in all_phases(session=session) if p.key == row.key)


def _reached(session: Session, phases: list[Phase]) -> set[str]:
    """Phases some project is in or has passed."""
    position = {p.key: p.position for p in phases}
    furthest = max((position.get(ph, 0) for ph in session.exec(select(DeliveryProject.phase).distinct())),
                   default=-1)
    return {p.key for p in phases if p.position <= furthest}


def move(*, session: Session, actor: User | None, key: str, up: bool) -> None:
    """Swap a phase with its neighbour above (``up``) or below."""
    rows = _ensure_rows(session)
    phases = all_phases(session=session)
    keys = [p.key for p in phases]
    if key not in keys:
        raise LookupError(key)
    if key == COMPLETE:
        raise DeliveryError(_("“Complete” is always the last phase."), field="phase")
    at = keys.index(key)
    other = at - 1 if up else at + 1
    if other < 0 or keys[other] == COMPLETE:
        raise DeliveryError(_("That phase cannot move further."), field="phase")
    reached = _reached(session, phases)
    if key in reached or keys[other] in reached:
        raise DeliveryError(_("Projects have reached “{a}” or “{b}” already; swapping them would put their "
                              "history out of order.").format(a=phases[at].name, b=phases[other].name),
                            field="phase")
    before = _snapshot(rows)
    by_key = {r.key: r for r in rows}
    ordered = [by_key[k] for k in keys]
    ordered[at], ordered[other] = ordered[other], ordered[at]
    _renumber(session, ordered)
    audit.record(session=session, actor=actor, action="delivery.phases", object_type="delivery_phase",
                 object_id=key, before={"phases": before}, after={"phases": _snapshot(ordered)})
    session.commit()


def remove(*, session: Session, actor: User | None, key: str) -> None:
    rows = _ensure_rows(session)
    row = next((r for r in rows if r.key == key), None)
    if row is None:
        raise LookupError(key)
    if key == COMPLETE:
        raise DeliveryError(_("“Complete” cannot be removed: completing a project updates the assets it treated."),
                            field="phase")
    if len(rows) <= 2:
        raise DeliveryError(_("Keep at least one phase before “Complete”."), field="phase")
    in_it = session.exec(select(func.count()).select_from(DeliveryProject).where(DeliveryProject.phase == key)).one()
    if in_it:
        raise DeliveryError(_("{count} project(s) are in “{name}”; move them on before removing it.").format(
            count=in_it, name=row.name), field="phase")
    dated = session.exec(select(func.count()).select_from(DeliveryPhaseDates).where(
        DeliveryPhaseDates.phase == key,
        col(DeliveryPhaseDates.actual_start).is_not(None) | col(DeliveryPhaseDates.actual_end).is_not(None)
        | col(DeliveryPhaseDates.planned_start).is_not(None) | col(DeliveryPhaseDates.planned_end).is_not(None))).one()
    posted = session.exec(select(func.count()).select_from(DeliveryUpdate).where(DeliveryUpdate.phase == key)).one()
    if dated or posted:
        raise DeliveryError(_("Projects have dates or updates recorded in “{name}”; they are part of their public "
                              "record, so the phase stays (rename it instead).").format(name=row.name), field="phase")
    before = _snapshot(rows)
    for dates in session.exec(select(DeliveryPhaseDates).where(DeliveryPhaseDates.phase == key)):
        session.delete(dates)
    session.delete(row)
    rest = [r for r in rows if r.key != key]
    _renumber(session, rest)
    audit.record(session=session, actor=actor, action="delivery.phases", object_type="delivery_phase",
                 object_id=key, before={"phases": before}, after={"phases": _snapshot(rest)})
    session.commit()
