"""Districts' names in the viewer's language.

A district's English ``name`` comes from the imported file; its Spanish ``name_es`` comes from the
file too (a ``name_es`` column) or from staff (``/staff/districts``), and is kept across re-imports
that do not bring one (``app.layers.store``). Pages ask here for the name to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app import audit
from app.i18n import localized
from app.layers.store import bump_revision
from models.accounts import User
from models.base import saved_id
from models.layers import District, LayerKind

MAX_LENGTH = 200


class DistrictNameError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class DistrictNames:
    id: int
    code: str | None
    name: str
    name_es: str


def by_id(*, session: Session) -> dict[int, str]:
    """District id → its name in the viewer's language."""
    rows = session.exec(select(District.id, District.name, District.name_es))
    return {saved_id(d_id): localized(name, name_es) for d_id, name, name_es in rows}


def by_name(*, session: Session) -> dict[str, str]:
    """A district's English name (as published lists and snapshots keep it) → its name in the viewer's language."""
    rows = session.exec(select(District.name, District.name_es))
    return {name: localized(name, name_es) for name, name_es in rows}


def listing(*, session: Session) -> list[DistrictNames]:
    """Every district with both names, for the staff editor."""
    rows = session.exec(select(District.id, District.code, District.name, District.name_es)
                        .order_by(col(District.name)))
    return [DistrictNames(saved_id(d_id), code, name, name_es or "") for d_id, code, name, name_es in rows]


def save_spanish_names(*, session: Session, actor: User | None, names: dict[int, str], commit: bool = True) -> int:
    """Set districts' Spanish names (empty = none: English is shown). One unit of work, audited
    (``commit=False`` joins the caller's, e.g. the program editor's save); the districts layer's
    revision moves so cached pages and tiles refresh. Returns how many changed; bad input raises
    ``DistrictNameError`` before anything is changed."""
    districts = {d.id: d for d in session.exec(select(District).where(col(District.id).in_(list(names))))}
    problems = [f"There is no district with id {d_id}." for d_id in names if d_id not in districts]
    problems += [f"{districts[d_id].name}: keep the Spanish name to {MAX_LENGTH} characters at most."
                 for d_id, text in names.items() if d_id in districts and len(text.strip()) > MAX_LENGTH]
    if problems:
        raise DistrictNameError(problems)
    changed: dict[str, tuple[str | None, str | None]] = {}
    for d_id, text in names.items():
        district = districts[d_id]
        new = text.strip() or None
        if new != district.name_es:
            changed[district.name] = (district.name_es, new)
            district.name_es = new
            session.add(district)
    if changed:
        bump_revision(session=session, kinds=[LayerKind.district])
        audit.record(session=session, actor=actor, action="district.names_saved", object_type="layer",
                     object_id=LayerKind.district.value,
                     before={name: old for name, (old, _) in changed.items()},
                     after={name: new for name, (_, new) in changed.items()})
    if commit:
        session.commit()
    return len(changed)
