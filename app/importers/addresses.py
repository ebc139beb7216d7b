"""Putting an address point's parts together, as cities' files spread them over columns.

NENA NG9-1-1 and ArcGIS address schemas split an address into its number (with prefix and
suffix), the street's pre-direction, pre-type, name, post-type and post-direction, and the unit;
Cambridge and many portals also give the whole address in one column. ``assemble`` turns what a
row has into the address point's fields: the street name from its parts (unless the name already
carries them), the full address from the number, street and unit when the file has none, and the
number and street from the full address when the file gives only that.
"""

from __future__ import annotations

import re
from typing import Any

from app.importers.fields import ValueProblem

PARTS = ("number_prefix", "number_suffix", "street_predir", "street_pretype", "street_type", "street_postdir",
         "unit_type")  # mapping fields that are not columns of the address table
_UNIT_WORDS = re.compile(r"^(unit|apt|apartment|suite|ste|room|rm|floor|fl|bldg|building|lot|#)\b", re.IGNORECASE)
_LEADING_NUMBER = re.compile(r"^\s*(\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?(?:\s+1/2)?)\s+(\S.*)$")
_TRAILING_UNIT = re.compile(r"\s*,?\s+(?:unit|apt|apartment|suite|ste|#)\s*\S+\s*$", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return text.casefold().replace(".", "").split()


def _street(values: dict[str, Any]) -> str | None:
    """The street name with its parts: pre-direction, pre-type, name, post-type, post-direction —
    each added only when the name does not already hold it there ("N Main St" + "St" stays)."""
    name = values.get("street_name")
    if not name:
        return None
    words = _words(name)
    before = [p for p in (values.get("street_predir"), values.get("street_pretype")) if p]
    after = [p for p in (values.get("street_type"), values.get("street_postdir")) if p]
    leading = [p for p in before if _words(p) != words[:len(_words(p))]]
    trailing = [p for p in after if _words(p) != words[-len(_words(p)):]]
    return " ".join([*leading, name, *trailing])[:200]


def _number(values: dict[str, Any]) -> str | None:
    number = values.get("house_number")
    if not number or number.strip("0") == "":  # 0 stands for "no number" in many address files
        return None
    prefix, suffix = values.get("number_prefix"), values.get("number_suffix")
    if suffix:
        number = f"{number}{suffix}" if len(suffix) == 1 and suffix.isalpha() else f"{number} {suffix}"
    return f"{prefix} {number}" if prefix else number


def _unit(values: dict[str, Any]) -> str | None:
    unit, unit_type = values.get("unit"), values.get("unit_type")
    if not unit:
        return None
    if unit_type and not _UNIT_WORDS.match(unit):
        return f"{unit_type} {unit}"
    return unit


def _with_unit(address: str, unit: str | None) -> str:
    """The address ending in its unit, unless it already does ("12 Main St Apt 3", unit "3")."""
    if not unit or re.search(rf"(?:^|[\s#]){re.escape(unit)}\s*$", address, re.IGNORECASE):
        return address
    return f"{address} {unit}" if _UNIT_WORDS.match(unit) else f"{address} Unit {unit}"


def assemble(values: dict[str, Any]) -> None:
    """Fill ``values`` (an address row's fields as read) with its full address, number, street and unit,
    and drop the parts that are not columns. Raises ValueProblem when the row holds no address."""
    number, street, unit = _number(values), _street(values), _unit(values)
    full = values.get("full_address")
    for part in PARTS:
        values.pop(part, None)
    if full:
        if (number is None or street is None) and (parsed := _LEADING_NUMBER.match(full.split(",", 1)[0])):
            number = number or parsed.group(1)
            street = street or _TRAILING_UNIT.sub("", parsed.group(2)).strip() or None
        full = _with_unit(full, unit)
    elif number and street:
        full = _with_unit(f"{number} {street}", unit)
    elif number:
        raise ValueProblem(f"has house number {number} but no street name, so no address")
    elif street:
        raise ValueProblem(f"has street {street} but no house number and no full address")
    else:
        raise ValueProblem("has no address: no full address, and no house number and street to make one")
    values.update(full_address=full[:300], house_number=number[:40] if number else None, street_name=street,
                  unit=unit[:60] if unit else None)
