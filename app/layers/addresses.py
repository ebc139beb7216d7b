"""Finding an address: the address points that start with what was typed.

Every address point stores a ``search_key``: its address folded to lower case without accents
or punctuation, street types, directions, unit words and numbered streets in one spelling
("12 North Main Street, Apt 3" and "12 N Main St #3" are both ``12 n main st unit 3``; "First
Street" is ``1st st``). A query is folded the same way
and answered as a prefix range on the key's index (``key >= prefix AND key < prefix⁺``), which
both databases serve from a B-tree, so a city of 100,000 addresses answers in milliseconds.

While someone is still typing the last word, it may be the start of a long spelling ("12 Main
Stre" is on its way to "Street", stored as ``st``); the prefixes of those spellings are searched too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from models.layers import AddressPoint, District, Layer, LayerKind

MAX_MATCHES = 8
MIN_QUERY = 2
_MAX_PREFIXES = 6

# USPS Publication 28 spellings (the common ones), directions, "Saint", and unit designators.
STREET_TYPES = {
    "street": "st", "str": "st", "avenue": "ave", "av": "ave", "aven": "ave", "avn": "ave", "road": "rd",
    "drive": "dr", "drv": "dr", "boulevard": "blvd", "boul": "blvd", "lane": "ln", "court": "ct", "circle": "cir",
    "circ": "cir", "place": "pl", "terrace": "ter", "terr": "ter", "trail": "trl", "parkway": "pkwy", "pky": "pkwy",
    "highway": "hwy", "hiway": "hwy", "square": "sq", "alley": "aly", "crossing": "xing", "expressway": "expy",
    "freeway": "fwy", "heights": "hts", "point": "pt", "ridge": "rdg", "plaza": "plz", "extension": "ext",
    "center": "ctr", "centre": "ctr", "crescent": "cres", "cove": "cv", "creek": "crk", "turnpike": "tpke",
    "mount": "mt", "fort": "ft", "saint": "st",
}
DIRECTIONS = {"north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne", "northwest": "nw",
              "southeast": "se", "southwest": "sw"}
UNIT_WORDS = {"apartment": "unit", "apt": "unit", "suite": "unit", "ste": "unit", "#": "unit"}
# Numbered streets: "First Street" and "1st St" are one street ("12 first" finds "12 1st St").
ORDINALS = {word: f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
            for n, word in enumerate(("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                                      "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth",
                                      "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
                                      "twentieth"), start=1)}
SPELLINGS = {**STREET_TYPES, **DIRECTIONS, **UNIT_WORDS, **ORDINALS}
_LONG_FORMS = sorted(SPELLINGS.items())
_SHORT_FORMS = frozenset(SPELLINGS.values())
_DROPPED = re.compile(r"['’`.]")  # O'Brien → obrien, St. → st
_SEPARATORS = re.compile(r"[^\w/#-]+")


def _fold(text: str) -> list[str]:
    """Lower case, accents off, punctuation to spaces ('#' stands alone): the words of an address."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    plain = _DROPPED.sub("", plain).replace("#", " # ").replace("_", " ")
    return [word.strip("-/") or word for word in _SEPARATORS.sub(" ", plain).split()]


def search_key(address: str) -> str:
    """The address as it is searched: ``search_key("12 North Main Street, Apt. 3") == "12 n main st unit 3"``."""
    return " ".join(SPELLINGS.get(word, word) for word in _fold(address))[:300]


def query_prefixes(query: str) -> list[str]:
    """The key prefixes a typed query stands for: the folded query, and when its last word may be the
    start of a longer spelling ("stre", "aven", "apar"), the query ending in that spelling's short form.
    A prefix already covered by a shorter one is dropped."""
    words = _fold(query)
    if not words:
        return []
    head, last = words[:-1], words[-1]
    endings = {SPELLINGS.get(last, last)}
    if query[-1:].isalnum() and last not in _SHORT_FORMS:  # still typing the last word
        endings |= {short for long, short in _LONG_FORMS if long.startswith(last)}
    prefixes = [" ".join([*(SPELLINGS.get(w, w) for w in head), ending]) for ending in endings]
    kept: list[str] = []
    for prefix in sorted(prefixes, key=lambda p: (len(p), p)):
        if not any(prefix.startswith(shorter) for shorter in kept):
            kept.append(prefix)
    return sorted(kept)[:_MAX_PREFIXES]


@dataclass(frozen=True)
class AddressMatch:
    id: int
    address: str
    zip_code: str | None
    district: str | None
    lon: float
    lat: float

    @property
    def point_text(self) -> str:
        return f"{self.lon:.6f},{self.lat:.6f}"


def has_addresses(*, session: Session) -> bool:
    layer = session.get(Layer, LayerKind.address.value)
    return layer is not None and layer.feature_count > 0


def _after(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (byte order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _matches(session: Session, where: list[ColumnElement[bool]], limit: int) -> list[tuple[str, AddressMatch]]:
    point = col(AddressPoint.geom)
    query = (select(col(AddressPoint.search_key), col(AddressPoint.id), col(AddressPoint.full_address),
                    col(AddressPoint.zip_code), col(District.name), func.ST_X(point), func.ST_Y(point))
             .join(District, col(District.id) == col(AddressPoint.district_id), isouter=True)
             .where(*where).order_by(col(AddressPoint.search_key), col(AddressPoint.id)).limit(limit))
    return [(key, AddressMatch(int(i), address, zip_code, district, float(lon), float(lat)))
            for key, i, address, zip_code, district, lon, lat in session.execute(query)]


def find_addresses(*, session: Session, query: str, limit: int = MAX_MATCHES) -> list[AddressMatch]:
    """Addresses whose search key starts with the query (any of its prefixes), in key order."""
    if len(" ".join(query.split())) < MIN_QUERY:
        return []
    found = _search(session, query, limit)  # as typed: a space after the last word says it is complete
    if not found and "," in query:  # "12 Main St, Athens GA 30601": the street address part
        found = _search(session, query.split(",", 1)[0], limit)
    return found


def _search(session: Session, text: str, limit: int) -> list[AddressMatch]:
    key = col(AddressPoint.search_key)
    rows: dict[int, tuple[str, AddressMatch]] = {}
    for prefix in query_prefixes(text):
        for found_key, match in _matches(session, [key >= prefix, key < _after(prefix)], limit):
            rows[match.id] = (found_key, match)
    return [match for _, match in sorted(rows.values(), key=lambda r: (r[0], r[1].id))[:limit]]


def address_named(*, session: Session, text: str) -> AddressMatch | None:
    """The address point written ``text`` (in any of its spellings), for ``/map?address=12 Main St``:
    links by the address itself still work after the layer is imported again (ids change then)."""
    key = search_key(" ".join(text.split())[:300])
    if not key:
        return None
    found = _matches(session, [col(AddressPoint.search_key) == key], 1)
    return found[0][1] if found else None
