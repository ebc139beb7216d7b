"""Exact money arithmetic: rational numbers in, integer cents out, rounded half up once."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from app.i18n import N_
from app.i18n import gettext as _

BPS = 10_000
QUANTITY_STEP = Decimal("0.01")
# What parse_dollars and parse_percent refuse, said of the field's label
NOT_DOLLARS = N_("{label} must be an amount in dollars, such as 1,250.00.")
NOT_CENTS = N_("{label} must be in dollars and cents (at most two decimals).")
NEGATIVE = N_("{label} must not be negative.")
TOO_LARGE = N_("{label} is too large.")
NOT_PERCENT = N_("{label} must be a percentage, such as 8.5.")
TOO_PRECISE = N_("{label} can have at most two decimals.")


def round_half_up(value: Fraction | Decimal | int) -> int:
    """The nearest integer; halves go away from zero (2.5 → 3, −2.5 → −3)."""
    fraction = Fraction(value)
    magnitude = (2 * abs(fraction.numerator) + fraction.denominator) // (2 * fraction.denominator)
    return magnitude if fraction >= 0 else -magnitude


def apply_bps(cents: int, bps: int) -> int:
    """``cents × bps / 10,000``, rounded half up to the cent."""
    return round_half_up(Fraction(cents * bps, BPS))


def compound_bps(cents: int, bps: int, years: int) -> int:
    """The increase of ``cents`` compounded annually at ``bps`` for ``years`` years, rounded once."""
    if years <= 0 or bps == 0:
        return 0
    grown = Fraction(cents) * Fraction(BPS + bps, BPS) ** years
    return round_half_up(grown - cents)


def quantity(value: Fraction | Decimal | float | int) -> Decimal:
    """A take-off quantity: two decimals, rounded half up (floats via their shortest repr)."""
    if isinstance(value, Fraction):
        return Decimal(round_half_up(value * 100)).scaleb(-2)
    if isinstance(value, float):
        value = Decimal(repr(value))
    return Decimal(value).quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP)


def exact(value: float | int) -> Fraction:
    """A measurement as an exact rational of its shortest decimal representation."""
    return Fraction(Decimal(repr(value))) if isinstance(value, float) else Fraction(value)


def parse_dollars(text: str, *, label: str = N_("The amount")) -> int | None:
    """Cents from what a person types: "144,500,000", "$82.82"; "" is None. Raises ValueError naming
    ``label`` (best given in the viewer's language), in the viewer's language."""
    cleaned = text.strip().replace("$", "").replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except ArithmeticError:
        raise refusal(NOT_DOLLARS, label) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise refusal(NOT_CENTS, label)
    if amount < 0:
        raise refusal(NEGATIVE, label)
    if amount > Decimal(10) ** 13:
        raise refusal(TOO_LARGE, label)
    return int(amount * 100)


def parse_percent(text: str, *, label: str = N_("The share")) -> int | None:
    """Basis points from a percentage ("3", "8.5 %", "-15"); "" is None. Raises ValueError naming
    ``label``, in the viewer's language."""
    cleaned = text.strip().rstrip("%").strip()
    if not cleaned:
        return None
    try:
        bps = Decimal(cleaned) * 100
    except ArithmeticError:
        raise refusal(NOT_PERCENT, label) from None
    if not bps.is_finite() or bps != bps.to_integral_value():
        raise refusal(TOO_PRECISE, label)
    if abs(bps) > 10**7:
        raise refusal(TOO_LARGE, label)
    return int(bps)


def refusal(template: str, label: str) -> ValueError:
    """The refusal as one sentence in the viewer's language (English outside a request).

    A caller that catalogued the whole English sentence for its English label (scenarios, the override,
    the catalog's markups) keeps that wording; otherwise the label is put into the translated sentence,
    translated too when the catalogue has it (callers should pass it already in the viewer's language)."""
    english = template.format(label=label)
    whole = _(english)
    if whole != english:
        return ValueError(whole)
    return ValueError(_(template).format(label=_(label)))


def dollars(cents: int | None) -> str:
    """Cents as a plain dollar amount for a form field ("1250.00"); None is ""."""
    return "" if cents is None else f"{Decimal(cents).scaleb(-2):.2f}"


def percent(bps: int | None) -> str:
    """Basis points as a plain percentage for a form field ("8.5"); None is ""."""
    return "" if bps is None else f"{Decimal(bps).scaleb(-2).normalize():f}"
