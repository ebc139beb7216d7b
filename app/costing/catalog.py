"""The versioned unit-cost catalog: read, edit (copy-on-write), defaults, CSV import and export.

A version is never changed after it is written. ``create_version`` validates a complete draft,
writes it as the next version, makes it current and records an audit event, in one commit; on
bad input it raises ``CatalogError`` and writes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit
from app.costing import defaults
from app.costing.estimate import CatalogSnapshot, TreatmentRule
from app.i18n import N_, localized
from app.i18n import gettext as _
from app.spreadsheet import safe_cell
from models.accounts import User
from models.costs import CatalogPublic, CatalogVersion, CatalogVersionSummary, Treatment, TreatmentPublic, Unit

LAYER_KINDS = ("pavement", "sidewalk", "ramp", "streetlight")
FUNCTIONAL_CLASSES = ("arterial", "collector", "local")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,59}$")
MAX_UNIT_COST_CENTS = 100_000_000  # $1M per unit
CSV_COLUMNS = ("layer_kind", "key", "name", "unit", "unit_cost_dollars", "min_pci", "max_pci",
               "functional_class", "conditions", "low_percent", "high_percent", "name_es")  # older files end before it
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|")


class CatalogError(ValueError):
    """Bad catalog input; ``problems`` lists each one (CSV problems name their row)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class StaleCatalog(CatalogError):
    """The catalog changed since the draft was loaded."""


@dataclass
class CatalogDraft:
    """A complete catalog to be written as a new version."""

    base_year: int
    design_engineering_bps: int
    contingency_bps: int
    escalation_bps: int
    lane_width_mm: int
    class_widths_mm: dict[str, int]
    source: str
    treatments: list[TreatmentRule] = field(default_factory=list)


# -- reading ---------------------------------------------------------------------------------

def current_version(*, session: Session) -> CatalogVersion | None:
    return session.exec(select(CatalogVersion).where(col(CatalogVersion.is_current))).first()


def get_version(*, session: Session, version_id: int) -> CatalogVersion | None:
    return session.get(CatalogVersion, version_id)


def get_version_by_number(*, session: Session, number: int) -> CatalogVersion | None:
    return session.exec(select(CatalogVersion).where(CatalogVersion.number == number)).first()


def list_versions(*, session: Session) -> list[CatalogVersion]:
    """Every version, newest first."""
    return list(session.exec(select(CatalogVersion).order_by(col(CatalogVersion.number).desc())))


def treatments_of(*, session: Session, version: CatalogVersion) -> list[Treatment]:
    query = (select(Treatment).where(Treatment.catalog_version_id == version.id)
             .order_by(col(Treatment.sort_order), col(Treatment.id)))
    return list(session.exec(query))


def treatment_names(*, session: Session, version_id: int | None) -> dict[tuple[str, str], str]:
    """(layer kind, treatment key) → the treatment's name in the viewer's language, from the catalog
    version an estimate used (else the current one), so stored estimates read in Spanish too."""
    version = (session.get(CatalogVersion, version_id) if version_id else None) or current_version(session=session)
    if version is None:
        return {}
    return {(t.layer_kind, t.key): localized(t.name, t.name_es)
            for t in treatments_of(session=session, version=version)}


def localized_estimate(*, session: Session, estimate: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored estimate (its JSON) with each line's treatment name in the viewer's language."""
    if not estimate or not estimate.get("lines"):
        return estimate
    names = treatment_names(session=session, version_id=estimate.get("catalog_version_id"))
    lines = [dict(line, treatment_name=names.get((line.get("layer", ""), line.get("treatment_key", "")),
                                                 line.get("treatment_name", "")))
             for line in estimate["lines"]]
    return {**estimate, "lines": lines}


def rule_of(row: Treatment) -> TreatmentRule:
    return TreatmentRule(
        layer_kind=row.layer_kind, key=row.key, name=row.name, unit=row.unit,
        unit_cost_cents=row.unit_cost_cents, min_pci=row.min_pci, max_pci=row.max_pci,
        functional_class=row.functional_class,
        conditions=tuple(c.strip() for c in (row.conditions or "").split(",") if c.strip()),
        low_bps=row.low_bps, high_bps=row.high_bps, name_es=row.name_es)


def snapshot(*, session: Session, version: CatalogVersion) -> CatalogSnapshot:
    """The version's numbers as plain values, for ``app.costing.estimate``."""
    return CatalogSnapshot(
        version_id=version.id, version_number=version.number, base_year=version.base_year,
        design_engineering_bps=version.design_engineering_bps, contingency_bps=version.contingency_bps,
        escalation_bps=version.escalation_bps, lane_width_mm=version.lane_width_mm,
        class_widths_mm={k: int(v) for k, v in (version.class_widths_mm or {}).items()},
        treatments=tuple(rule_of(t) for t in treatments_of(session=session, version=version)))


def draft_of(*, session: Session, version: CatalogVersion) -> CatalogDraft:
    """An editable copy of a version (editing it and saving makes a new version)."""
    return CatalogDraft(
        base_year=version.base_year, design_engineering_bps=version.design_engineering_bps,
        contingency_bps=version.contingency_bps, escalation_bps=version.escalation_bps,
        lane_width_mm=version.lane_width_mm,
        class_widths_mm={k: int(v) for k, v in (version.class_widths_mm or {}).items()},
        source=version.source,
        treatments=[rule_of(t) for t in treatments_of(session=session, version=version)])


def default_draft() -> CatalogDraft:
    return CatalogDraft(
        base_year=defaults.BASE_YEAR, design_engineering_bps=defaults.DESIGN_ENGINEERING_BPS,
        contingency_bps=defaults.CONTINGENCY_BPS, escalation_bps=defaults.ESCALATION_BPS,
        lane_width_mm=defaults.LANE_WIDTH_MM, class_widths_mm=dict(defaults.CLASS_WIDTHS_MM),
        source=defaults.SOURCE, treatments=list(defaults.TREATMENTS))


# -- writing ---------------------------------------------------------------------------------

def ensure_defaults(*, session: Session) -> CatalogVersion:
    """The current version; writes the shipped defaults as version 1 when there is none."""
    version = current_version(session=session)
    if version is not None:
        return version
    return create_version(session=session, actor=None, draft=default_draft(),
                          note="Groundwork's default catalog")


def create_version(*, session: Session, actor: User | None, draft: CatalogDraft, note: str = "",
                   based_on: int | None = None, changes: dict[str, Any] | None = None) -> CatalogVersion:
    """Write ``draft`` as the next version and make it current. One unit of work.

    ``based_on`` is the version number the draft was edited from: if another version has been saved
    since, the draft is refused (no lost update) and the person is told to reload.
    """
    problems = validate_draft(draft)
    if len(note) > 2000:
        problems.append(_("Keep the note under 2,000 characters."))
    if problems:
        raise CatalogError(problems)
    previous = current_version(session=session)
    if based_on is not None and (previous is None or previous.number != based_on):
        raise StaleCatalog([_("Someone saved catalog version {number} while you were editing version {based_on}; "
                              "reload the editor and make your changes again.").format(
            number=previous.number if previous else "?", based_on=based_on)])
    number = (session.exec(select(func.max(CatalogVersion.number))).one() or 0) + 1
    session.execute(update(CatalogVersion).where(col(CatalogVersion.is_current)).values(is_current=False))
    version = CatalogVersion(
        number=number, created_by_id=actor.id if actor else None, note=note.strip(), is_current=True,
        design_engineering_bps=draft.design_engineering_bps, contingency_bps=draft.contingency_bps,
        escalation_bps=draft.escalation_bps, base_year=draft.base_year, source=draft.source.strip(),
        lane_width_mm=draft.lane_width_mm, class_widths_mm=dict(draft.class_widths_mm))
    session.add(version)
    session.flush()
    assert version.id is not None
    for order, rule in enumerate(draft.treatments):
        session.add(Treatment(
            catalog_version_id=version.id, layer_kind=rule.layer_kind, key=rule.key, name=rule.name.strip(),
            name_es=(rule.name_es or "").strip() or None, unit=rule.unit, unit_cost_cents=rule.unit_cost_cents,
            min_pci=rule.min_pci, max_pci=rule.max_pci,
            functional_class=rule.functional_class or None, conditions=",".join(rule.conditions) or None,
            low_bps=rule.low_bps, high_bps=rule.high_bps, sort_order=order))
    audit.record(session=session, actor=actor, action="catalog.version_created", object_type="cost_catalog_version",
                 object_id=version.id, before={"version": previous.number} if previous else None,
                 after={"version": number, "note": version.note, "treatments": len(draft.treatments),
                        **({"changes": changes} if changes else {})})
    try:
        session.commit()
    except IntegrityError as error:  # another version got the same number first
        session.rollback()
        raise StaleCatalog([_("Someone saved the catalog at the same moment; reload and try again.")]) from error
    return version


def make_current(*, session: Session, actor: User | None, version: CatalogVersion) -> CatalogVersion:
    """Go back to an older version by copying it forward as a new version (history stays linear)."""
    return create_version(session=session, actor=actor, draft=draft_of(session=session, version=version),
                          note=f"Restored from version {version.number}")


def validate_draft(draft: CatalogDraft) -> list[str]:
    problems: list[str] = []
    if not 1900 <= draft.base_year <= 2200:
        problems.append(_("The base year must be a year such as 2015."))
    for label, bps, most in ((N_("Design and engineering"), draft.design_engineering_bps, 10_000),
                             (N_("Contingency"), draft.contingency_bps, 10_000),
                             (N_("Escalation"), draft.escalation_bps, 5_000)):
        if not 0 <= bps <= most:
            problems.append(_("{markup} must be between 0 % and {most} %.").format(markup=_(label), most=most // 100))
    if not 1000 <= draft.lane_width_mm <= 10_000:
        problems.append(_("The lane width must be between 1 m and 10 m."))
    for key, width in draft.class_widths_mm.items():
        if not isinstance(width, int) or not 500 <= width <= 60_000:
            problems.append(_("The default width for {kind} must be between 0.5 m and 60 m.").format(kind=key))
    if len(draft.source) > 4000:
        problems.append(_("Keep the source under 4,000 characters."))
    seen: set[tuple[str, str]] = set()
    for number, rule in enumerate(draft.treatments, start=1):
        where = {"number": number, "key": rule.key or _("no key")}
        problems.extend(_("Treatment {number} ({key}): {problem}").format(**where, problem=p)
                        for p in _rule_problems(rule))
        if (rule.layer_kind, rule.key) in seen:
            problems.append(_("Treatment {number} ({key}): {problem}").format(**where, problem=_(
                "the key {key} is used twice for {kind}.").format(key=repr(rule.key), kind=rule.layer_kind)))
        seen.add((rule.layer_kind, rule.key))
    problems.extend(_overlaps(draft.treatments))
    return problems


def _rule_problems(rule: TreatmentRule) -> list[str]:
    problems = []
    if rule.layer_kind not in LAYER_KINDS:
        problems.append(_("the layer must be one of {kinds}.").format(kinds=", ".join(LAYER_KINDS)))
    if not KEY_RE.match(rule.key or ""):
        problems.append(_("the key must be lower-case letters, digits, _ or - (60 at most)."))
    if not rule.name.strip() or len(rule.name) > 200:
        problems.append(_("give a name (200 characters at most)."))
    if len(rule.name_es or "") > 200:
        problems.append(_("keep the Spanish name to 200 characters at most."))
    if rule.unit not in {u.value for u in Unit}:
        problems.append(_("the unit must be one of {units}.").format(units=", ".join(u.value for u in Unit)))
    if not 0 <= rule.unit_cost_cents <= MAX_UNIT_COST_CENTS:
        problems.append(_("the unit cost must be between $0 and $1,000,000."))
    if not -10_000 <= rule.low_bps <= 0:
        problems.append(_("the low end of the range must be between −100 % and 0 %."))
    if not 0 <= rule.high_bps <= 100_000:
        problems.append(_("the high end of the range must be between 0 % and +1000 %."))
    if rule.layer_kind == "pavement":
        for bound in (rule.min_pci, rule.max_pci):
            if bound is not None and not 0 <= bound <= 101:
                problems.append(_("PCI bounds must be between 0 and 101."))
        if rule.min_pci is not None and rule.max_pci is not None and rule.min_pci >= rule.max_pci:
            problems.append(_("the lowest PCI must be below the highest PCI."))
        if rule.functional_class and rule.functional_class not in FUNCTIONAL_CLASSES:
            problems.append(_("the functional class must be empty or one of {classes}.").format(
                classes=", ".join(FUNCTIONAL_CLASSES)))
        if rule.conditions:
            problems.append(_("pavement treatments are chosen by PCI, not by conditions."))
    elif rule.layer_kind in LAYER_KINDS:
        if not rule.conditions:
            problems.append(_("list the conditions it treats (e.g. poor, gap, out, non_led)."))
        if rule.min_pci is not None or rule.max_pci is not None or rule.functional_class:
            problems.append(_("only pavement treatments have PCI bounds or a functional class."))
    return problems


def _overlaps(rules: list[TreatmentRule]) -> list[str]:
    """Pavement rows for the same class (or for any class) must not share a PCI."""
    problems = []
    pavement = [r for r in rules if r.layer_kind == "pavement"]
    for i, a in enumerate(pavement):
        for b in pavement[i + 1:]:
            if (a.functional_class or None) != (b.functional_class or None):
                continue
            a_low, a_high = a.min_pci if a.min_pci is not None else 0, a.max_pci if a.max_pci is not None else 101
            b_low, b_high = b.min_pci if b.min_pci is not None else 0, b.max_pci if b.max_pci is not None else 101
            if a_low < b_high and b_low < a_high:
                problems.append(_("{first} and {second} both cover PCI {low}–{high} ({scope}); make the ranges "
                                  "meet without overlapping.").format(
                    first=a.key, second=b.key, low=f"{max(a_low, b_low):g}", high=f"{min(a_high, b_high):g}",
                    scope=a.functional_class or _("any class")))
    for kind in LAYER_KINDS[1:]:
        owner: dict[str, str] = {}
        for r in (r for r in rules if r.layer_kind == kind):
            for condition in r.conditions:
                if condition in owner:
                    problems.append(_("{first} and {second} both treat {kind} condition {condition}.").format(
                        first=owner[condition], second=r.key, kind=kind, condition=repr(condition)))
                owner[condition] = r.key
    return problems


# -- CSV -------------------------------------------------------------------------------------

def export_csv(*, session: Session, version: CatalogVersion) -> str:
    """The version's treatments as CSV (dollars and percents; spreadsheet-safe cells)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in treatments_of(session=session, version=version):
        writer.writerow([safe_cell(v) for v in (
            row.layer_kind, row.key, row.name, row.unit, _dollars(row.unit_cost_cents),
            _number(row.min_pci), _number(row.max_pci), row.functional_class or "", row.conditions or "",
            _percent(row.low_bps), _percent(row.high_bps), row.name_es or "")])
    return buffer.getvalue()


def parse_csv(text: str) -> list[TreatmentRule]:
    """Treatment rows from CSV; raises ``CatalogError`` naming every bad row (row 1 is the header)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("layer_kind", "key", "name", "unit", "unit_cost_dollars") if c not in header]
    if missing:
        raise CatalogError([_("Row 1: the header lacks {missing} (expected {columns}).").format(
            missing=", ".join(missing), columns=", ".join(CSV_COLUMNS))])
    rules: list[TreatmentRule] = []
    problems: list[str] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            problems.append(_("Row {number}: more cells than columns.").format(number=number))
            continue
        if not any(row.values()):
            continue
        try:
            rule = rule_from_fields(row)
        except ValueError as error:
            problems.append(_("Row {number}: {problem}").format(number=number, problem=error))
            continue
        problems.extend(_("Row {number}: {problem}").format(number=number, problem=p) for p in _rule_problems(rule))
        rules.append(rule)
    if not rules and not problems:
        problems.append(_("The file has no treatment rows."))
    if problems:
        raise CatalogError(problems)
    return rules


def import_csv(*, session: Session, actor: User | None, text: str, note: str = "") -> CatalogVersion:
    """A new version: the current one with the treatments of every layer kind in the file replaced
    by the file's rows (kinds absent from the file are kept). Nothing is written on any error."""
    rules = parse_csv(text)
    base = current_version(session=session)
    draft = draft_of(session=session, version=base) if base else default_draft()
    kinds = {r.layer_kind for r in rules}
    kept = [t for t in draft.treatments if t.layer_kind not in kinds]
    draft = replace(draft, treatments=[*rules, *kept])
    return create_version(session=session, actor=actor, draft=draft,
                          note=note or f"Imported {len(rules)} treatments ({', '.join(sorted(kinds))}) from CSV")


def _pct(bps: int) -> str:
    return f"{bps / 100:g} %"


MARKUPS = (("design_engineering_bps", "design & engineering"), ("contingency_bps", "contingency"),
           ("escalation_bps", "escalation (a year)"))


def kept_from(draft: CatalogDraft, replaced_kinds: set[str]) -> list[str]:
    """What a version made from a file takes unchanged from the version before it, one line each:
    the markups, the base year, the widths, the source text and the other layer kinds' treatments."""
    lines = [f"{label}: {_pct(getattr(draft, name))}" for name, label in MARKUPS]
    lines.append(f"base year: {draft.base_year} (costs are in {draft.base_year} dollars)")
    lines.append(f"lane width: {draft.lane_width_mm / 1000:g} m")
    if draft.class_widths_mm:
        widths = ", ".join(f"{key} {mm / 1000:g} m" for key, mm in sorted(draft.class_widths_mm.items()))
        lines.append(f"default widths: {widths}")
    if draft.source.strip():
        lines.append(f"source: {draft.source.strip()[:120]}{'…' if len(draft.source.strip()) > 120 else ''}")
    others: dict[str, int] = {}
    for rule in draft.treatments:
        if rule.layer_kind not in replaced_kinds:
            others[rule.layer_kind] = others.get(rule.layer_kind, 0) + 1
    lines.extend(f"{kind} treatments: {count}" for kind, count in sorted(others.items()))
    return lines


@dataclass(frozen=True)
class Imported:
    version: CatalogVersion
    previous_number: int | None  # None: nothing before it (Groundwork's defaults were the base)
    kept: list[str]  # ``kept_from``: what came unchanged from the version before


def import_csv_reporting(*, session: Session, actor: User | None, text: str, note: str = "") -> Imported:
    """``import_csv``, saying what the new version kept from the one before it."""
    rules = parse_csv(text)
    base = current_version(session=session)
    draft = draft_of(session=session, version=base) if base else default_draft()
    kept = kept_from(draft, {r.layer_kind for r in rules})
    return Imported(import_csv(session=session, actor=actor, text=text, note=note),
                    base.number if base else None, kept)


def set_markups(*, session: Session, actor: User | None, design_engineering_bps: int | None = None,
                contingency_bps: int | None = None, escalation_bps: int | None = None,
                note: str = "") -> tuple[CatalogVersion, list[tuple[str, int, int]]]:
    """A new version with the markups given (the others kept); returns it and each markup as
    (label, before, after) in basis points. Refuses when nothing would change; nothing is written on
    any error (values out of range are named)."""
    base = ensure_defaults(session=session)
    draft = draft_of(session=session, version=base)
    given = {"design_engineering_bps": design_engineering_bps, "contingency_bps": contingency_bps,
             "escalation_bps": escalation_bps}
    if all(v is None for v in given.values()):
        raise CatalogError(["Give at least one markup: --design-pct, --contingency-pct or --escalation-pct."])
    rows: list[tuple[str, int, int]] = []
    for name, label in MARKUPS:
        before: int = getattr(draft, name)
        value = given[name]
        rows.append((label, before, before if value is None else value))
    if all(before == after for _label, before, after in rows):
        raise CatalogError([f"Catalog version {base.number} already has these markups; no new version was made."])
    draft = replace(draft, design_engineering_bps=rows[0][2], contingency_bps=rows[1][2], escalation_bps=rows[2][2])
    changed = {label: {"before": before, "after": after} for label, before, after in rows if before != after}
    summary = "; ".join(f"{label} {_pct(before)} → {_pct(after)}" for label, before, after in rows
                        if before != after)
    version = create_version(session=session, actor=actor, draft=draft, note=note.strip() or f"Markups: {summary}",
                             based_on=base.number, changes=changed)
    return version, rows


def rule_from_fields(row: dict[str, str]) -> TreatmentRule:
    """A treatment from text fields named as the CSV columns; raises ValueError naming the field."""
    for column, value in row.items():
        if value.startswith(_FORMULA_START) and not _is_number(value):
            raise ValueError(_("{column} looks like a spreadsheet formula ({value}); formulas are refused.").format(
                column=column, value=repr(value[:20])))
    conditions = tuple(c.strip().lower() for c in row.get("conditions", "").split(",") if c.strip())
    return TreatmentRule(
        layer_kind=row.get("layer_kind", "").lower(), key=row.get("key", ""), name=row.get("name", ""),
        name_es=row.get("name_es", "") or None, unit=row.get("unit", "").lower(),
        unit_cost_cents=_cents(row.get("unit_cost_dollars", "")),
        min_pci=_optional_float(row.get("min_pci", ""), "min_pci"),
        max_pci=_optional_float(row.get("max_pci", ""), "max_pci"),
        functional_class=row.get("functional_class", "").lower() or None, conditions=conditions,
        low_bps=_bps(row.get("low_percent", ""), -1500, "low_percent"),
        high_bps=_bps(row.get("high_percent", ""), 2500, "high_percent"))


def _is_number(value: str) -> bool:
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


def _cents(value: str) -> int:
    cleaned = value.replace("$", "").replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(_("unit_cost_dollars must be an amount such as 82.82, not {value}.").format(
            value=repr(value))) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("unit_cost_dollars must have at most two decimals, not {value}.").format(value=repr(value)))
    return int(amount * 100)


def _optional_float(value: str, column: str) -> float | None:
    if not value:
        return None
    try:
        number = float(Decimal(value))
    except InvalidOperation:
        raise ValueError(_("{column} must be a number, not {value}.").format(
            column=column, value=repr(value))) from None
    return number


def _bps(value: str, default: int, column: str) -> int:
    if not value:
        return default
    try:
        percent = Decimal(value.rstrip("%"))
    except InvalidOperation:
        raise ValueError(_("{column} must be a percentage such as -15 or 25, not {value}.").format(
            column=column, value=repr(value))) from None
    bps = percent * 100
    if not bps.is_finite() or bps != bps.to_integral_value():
        raise ValueError(_("{column} must have at most two decimals.").format(column=column))
    return int(bps)


def _dollars(cents: int) -> str:
    return f"{Decimal(cents).scaleb(-2):.2f}"


def _percent(bps: int) -> str:
    return f"{Decimal(bps).scaleb(-2).normalize():f}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def catalog_public(*, session: Session, version: CatalogVersion) -> CatalogPublic:
    """A version and its treatments in the API's shape."""
    return CatalogPublic(
        id=version.id or 0, number=version.number, created_at=version.created_at, note=version.note,
        is_current=version.is_current, base_year=version.base_year,
        design_engineering_bps=version.design_engineering_bps, contingency_bps=version.contingency_bps,
        escalation_bps=version.escalation_bps, source=version.source, lane_width_mm=version.lane_width_mm,
        class_widths_mm={k: int(v) for k, v in (version.class_widths_mm or {}).items()},
        treatments=[TreatmentPublic(
            layer_kind=t.layer_kind, key=t.key, name=t.name, name_es=t.name_es, unit=Unit(t.unit),
            unit_cost_cents=t.unit_cost_cents,
            min_pci=t.min_pci, max_pci=t.max_pci, functional_class=t.functional_class,
            conditions=list(rule_of(t).conditions), low_bps=t.low_bps, high_bps=t.high_bps)
            for t in treatments_of(session=session, version=version)])


def version_public(version: CatalogVersion) -> CatalogVersionSummary:
    return CatalogVersionSummary(id=version.id or 0, number=version.number, created_at=version.created_at,
                                 note=version.note, is_current=version.is_current)


def rule_problems(rule: TreatmentRule) -> list[str]:
    """What is wrong with one treatment on its own (overlaps are checked on the whole draft)."""
    return _rule_problems(rule)


def rule_fields(rule: TreatmentRule) -> dict[str, str]:
    """A treatment as the text fields of the editor (the CSV columns)."""
    return {"layer_kind": rule.layer_kind, "key": rule.key, "name": rule.name, "name_es": rule.name_es or "",
            "unit": rule.unit,
            "unit_cost_dollars": _dollars(rule.unit_cost_cents), "min_pci": _number(rule.min_pci),
            "max_pci": _number(rule.max_pci), "functional_class": rule.functional_class or "",
            "conditions": ", ".join(rule.conditions), "low_percent": _percent(rule.low_bps),
            "high_percent": _percent(rule.high_bps)}
