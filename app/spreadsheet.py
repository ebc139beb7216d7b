"""CSV cells that spreadsheets will not run as formulas (OWASP CSV injection)."""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|")


def safe_cell(value: object) -> object:
    """Numbers pass as numbers; text that a spreadsheet would evaluate gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
            return value  # a plain negative number such as "-3.5"
        except ValueError:
            return "'" + value
    return value


def restored_cell(value: object) -> object:
    """The value ``safe_cell`` protected, as it was (for reading Groundwork's own CSV back)."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value
