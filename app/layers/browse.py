"""The table view of the map's layers, for people who cannot use a map (or prefer a list).

One layer at a time: filtered by street name, by band, condition or status, and by district;
sorted only on whitelisted columns; fifty rows a page. Every link the page needs (sorting,
paging, showing a row on the map) is built here, so the page works as plain links and forms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, case, func, select
from sqlmodel import Session, col

from app.i18n import gettext, localized
from app.layers.legend import LIGHT_STATUSES, SIDEWALK_CONDITIONS, UNRATED, condition_label, status_label
from app.layers.summary import METRES_PER_MILE, OUTSIDE, OUTSIDE_NAME, pavement_scheme
from models.layers import CurbRamp, District, LayerKind, PavementSegment, SidewalkSegment, Streetlight

PAGE_SIZE = 50
MAX_SEARCH = 100
BROWSABLE = (LayerKind.pavement, LayerKind.sidewalk, LayerKind.ramp, LayerKind.streetlight)


class BrowseError(ValueError):
    """A table request that cannot be answered (unknown layer, column, filter or page)."""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    selected: bool = False


@dataclass(frozen=True)
class TableQuery:
    layer: LayerKind
    street: str = ""
    category: str = ""
    area: str = ""
    sort: str = ""
    descending: bool = False
    page: int = 1

    def url(self, **changes: Any) -> str:
        query = replace(self, **changes)
        params = {"layer": query.layer.value, "q": query.street, "category": query.category, "area": query.area,
                  "sort": query.sort, "dir": "desc" if query.descending else "", "page": query.page}
        return "/map/table?" + urlencode({k: v for k, v in params.items() if v not in ("", None, 1)})


@dataclass(frozen=True)
class Header:
    key: str
    label: str
    numeric: bool
    url: str | None  # None: not sortable
    aria_sort: str | None  # ascending | descending on the sorted column


@dataclass(frozen=True)
class Cell:
    value: Any
    format: str  # text | miles | pci | count


@dataclass(frozen=True)
class Row:
    id: int
    label: str
    map_url: str
    cells: list[Cell]


@dataclass(frozen=True)
class TablePage:
    query: TableQuery
    noun: str
    headers: list[Header]
    rows: list[Row]
    total: int
    page: int
    pages: int
    first: int
    last: int
    prev_url: str | None
    next_url: str | None
    category_label: str
    categories: list[Choice]
    areas: list[Choice]
    layers: list[Choice]


@dataclass(frozen=True)
class _Column:
    key: str
    label: str
    format: str
    value: Callable[[Any, str | None], Any]  # (feature, district name) -> value
    sort: Any = None  # a column or SQL expression; None: not sortable


@dataclass(frozen=True)
class _Table:
    model: Any
    noun: str
    columns: tuple[_Column, ...]
    default_sort: str
    category_label: str
    category: Any  # the column the band/condition/status filter applies to
    search: tuple[Any, ...]  # columns the street filter searches
    label: Callable[[Any], str]


def _condition_rank(column: Any) -> ColumnElement[Any]:
    return case({e.key: i for i, e in enumerate(SIDEWALK_CONDITIONS)}, value=column, else_=len(SIDEWALK_CONDITIONS))


def _metres_to_miles(metres: float | None) -> float | None:
    return None if metres is None else metres / METRES_PER_MILE


def _limits(segment: PavementSegment) -> str:
    if segment.from_street and segment.to_street:
        return f"{segment.from_street} – {segment.to_street}"
    return segment.from_street or segment.to_street or ""


def _district(_: Any, name: str | None) -> str:
    return name or OUTSIDE_NAME


_DISTRICT = col(District.name)  # sorted by the district's name (outside districts last)

_TABLES: dict[LayerKind, _Table] = {
    LayerKind.pavement: _Table(
        PavementSegment, "segments",
        (_Column("street", "Street", "text", lambda f, _: f.street_name or "", col(PavementSegment.street_name)),
         _Column("limits", "From – to", "text", lambda f, _: _limits(f)),
         _Column("class", "Class", "text", lambda f, _: (f.functional_class or "").capitalize(),
                 col(PavementSegment.functional_class)),
         _Column("pci", "PCI", "pci", lambda f, _: f.pci, col(PavementSegment.pci)),
         _Column("band", "Band", "text", lambda f, _: f.band, col(PavementSegment.pci)),
         _Column("length", "Miles", "miles", lambda f, _: _metres_to_miles(f.length_m), col(PavementSegment.length_m)),
         _Column("district", "District", "text", _district, _DISTRICT)),
        "street", "Condition band", col(PavementSegment.band), (col(PavementSegment.street_name),),
        lambda f: f.street_name or f"Segment {f.id}"),
    LayerKind.sidewalk: _Table(
        SidewalkSegment, "sidewalk segments",
        (_Column("street", "Street", "text", lambda f, _: f.street_name or "", col(SidewalkSegment.street_name)),
         _Column("side", "Side", "text", lambda f, _: f.side or "", col(SidewalkSegment.side)),
         _Column("condition", "Condition", "text", lambda f, _: condition_label(f.condition),
                 _condition_rank(col(SidewalkSegment.condition))),
         _Column("gap", "Gap", "text", lambda f, _: "Yes, missing" if f.is_gap else "No", col(SidewalkSegment.is_gap)),
         _Column("hazards", "Trip hazards", "count", lambda f, _: f.trip_hazards, col(SidewalkSegment.trip_hazards)),
         _Column("length", "Miles", "miles", lambda f, _: _metres_to_miles(f.length_m), col(SidewalkSegment.length_m)),
         _Column("district", "District", "text", _district, _DISTRICT)),
        "street", "Condition", col(SidewalkSegment.condition), (col(SidewalkSegment.street_name),),
        lambda f: f.street_name or f"Sidewalk {f.id}"),
    LayerKind.ramp: _Table(
        CurbRamp, "curb ramps",
        (_Column("id", "Ramp", "count", lambda f, _: f.id, col(CurbRamp.id)),
         _Column("street", "Street", "text", lambda f, _: f.street_name or "", col(CurbRamp.street_name)),
         _Column("condition", "Condition", "text", lambda f, _: condition_label(f.condition),
                 _condition_rank(col(CurbRamp.condition))),
         _Column("district", "District", "text", _district, _DISTRICT)),
        "street", "Condition", col(CurbRamp.condition), (col(CurbRamp.street_name),),
        lambda f: f"Ramp {f.id}" + (f" on {f.street_name}" if f.street_name else "")),
    LayerKind.streetlight: _Table(
        Streetlight, "streetlights",
        (_Column("pole", "Pole", "text", lambda f, _: f.pole_id or "", col(Streetlight.pole_id)),
         _Column("street", "Street", "text", lambda f, _: f.street_name or "", col(Streetlight.street_name)),
         _Column("status", "Status", "text", lambda f, _: status_label(f.status), col(Streetlight.status)),
         _Column("owner", "Owner", "text", lambda f, _: (f.owner or "").capitalize(), col(Streetlight.owner)),
         _Column("lamp", "Lamp", "text", lambda f, _: f.lamp_type or "", col(Streetlight.lamp_type)),
         _Column("wattage", "Watts", "count", lambda f, _: f.wattage, col(Streetlight.wattage)),
         _Column("district", "District", "text", _district, _DISTRICT)),
        "pole", "Status", col(Streetlight.status), (col(Streetlight.street_name), col(Streetlight.pole_id)),
        lambda f: f"Pole {f.pole_id or f.id}" + (f" on {f.street_name}" if f.street_name else "")),
}


def table_query(*, layer: str | None, street: str | None = None, category: str | None = None,
                area: str | None = None, sort: str | None = None, direction: str | None = None,
                page: int | None = None) -> TableQuery:
    """Validate what the page was asked for; anything unknown is a clear error, not a guess."""
    try:
        kind = LayerKind(layer or LayerKind.pavement.value)
    except ValueError:
        raise BrowseError(f"There is no layer called {layer!r}.") from None
    if kind not in _TABLES:
        raise BrowseError(f"{kind.title} cannot be browsed as a table; choose "
                          + ", ".join(k.title.lower() for k in BROWSABLE) + ".")
    table = _TABLES[kind]
    sortable = [c.key for c in table.columns if c.sort is not None]
    if sort and sort not in sortable:
        raise BrowseError(f"{kind.title} cannot be sorted by {sort!r}; sort by one of {', '.join(sortable)}.")
    if direction not in (None, "", "asc", "desc"):
        raise BrowseError("Sort direction must be asc or desc.")
    if area and area != OUTSIDE and not area.isdigit():
        raise BrowseError(f"Unknown district {area!r}.")
    if page is not None and page < 1:
        raise BrowseError("Pages are numbered from 1.")
    return TableQuery(kind, (street or "").strip()[:MAX_SEARCH], category or "", area or "",
                      sort or "", direction == "desc", page or 1)


def _categories(session: Session, kind: LayerKind, chosen: str) -> list[Choice]:
    if kind is LayerKind.pavement:
        options = [(b.key, b.label) for b in pavement_scheme(session=session).bands]
    elif kind is LayerKind.streetlight:
        options = [(e.key, e.label) for e in LIGHT_STATUSES]
    else:
        options = [(e.key, e.label) for e in SIDEWALK_CONDITIONS]
    options.append((UNRATED.key, UNRATED.label))
    return [Choice(value, label, value == chosen) for value, label in options]


def _areas(session: Session, chosen: str) -> list[Choice]:
    districts = session.execute(select(col(District.id), col(District.name), col(District.name_es))
                                .order_by(col(District.name)).limit(500)).all()
    choices = [Choice(str(d_id), localized(name, name_es), str(d_id) == chosen) for d_id, name, name_es in districts]
    if choices:
        choices.append(Choice(OUTSIDE, OUTSIDE_NAME, chosen == OUTSIDE))
    return choices


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def browse(*, session: Session, query: TableQuery) -> TablePage:
    """One page of a layer as table rows, with everything the page needs to link onwards."""
    table = _TABLES[query.layer]
    model = table.model
    categories = _categories(session, query.layer, query.category)
    if query.category and not any(c.selected for c in categories):
        raise BrowseError(f"Unknown {table.category_label.lower()} {query.category!r}.")

    conditions: list[ColumnElement[bool]] = []
    if query.street:
        pattern = f"%{_escape_like(query.street.lower())}%"
        matches = [func.lower(column).like(pattern, escape="\\") for column in table.search]
        conditions.append(matches[0] if len(matches) == 1 else matches[0] | matches[1])
    if query.category == UNRATED.key:
        conditions.append(table.category.is_(None))
    elif query.category:
        conditions.append(table.category == query.category)
    if query.area == OUTSIDE:
        conditions.append(model.district_id.is_(None))
    elif query.area:
        conditions.append(model.district_id == int(query.area))

    total = int(session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one())
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(query.page, pages)
    sort_key = query.sort or table.default_sort
    column = next(c for c in table.columns if c.key == sort_key)
    assert column.sort is not None
    order = column.sort.desc() if query.descending else column.sort.asc()
    statement = (select(model, col(District.name), col(District.name_es))
                 .outerjoin(District, col(District.id) == model.district_id)
                 .where(*conditions).order_by(order.nulls_last(), model.id)
                 .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    band_labels = {b.key: b.label for b in pavement_scheme(session=session).bands}
    rows = []
    for feature, district_name, district_es in session.execute(statement):
        district_name = localized(district_name, district_es) if district_name else district_name
        cells = []
        for c in table.columns:
            value = c.value(feature, district_name)
            if c.key == "band":
                value = band_labels.get(value, UNRATED.label) if value else UNRATED.label
            cells.append(Cell(value, c.format))
        rows.append(Row(feature.id, table.label(feature),
                        f"/map?{urlencode({'layer': query.layer.value, 'feature': feature.id})}", cells))

    current = replace(query, page=page)
    headers = []
    for c in table.columns:
        if c.sort is None:
            headers.append(Header(c.key, c.label, c.format != "text", None, None))
            continue
        is_sorted = c.key == sort_key
        descending = not query.descending if is_sorted else False
        headers.append(Header(c.key, c.label, c.format != "text",
                              current.url(sort=c.key, descending=descending, page=1),
                              ("descending" if query.descending else "ascending") if is_sorted else None))
    first = (page - 1) * PAGE_SIZE + 1 if total else 0
    return TablePage(
        query=current, noun=table.noun, headers=headers, rows=rows, total=total, page=page, pages=pages,
        first=first, last=first + len(rows) - 1 if rows else 0,
        prev_url=current.url(page=page - 1) if page > 1 else None,
        next_url=current.url(page=page + 1) if page < pages else None,
        category_label=table.category_label, categories=categories, areas=_areas(session, query.area),
        layers=[Choice(k.value, gettext(k.title), k is query.layer) for k in BROWSABLE],
    )
