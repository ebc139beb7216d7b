"""Languages and locale formatting: English and Spanish.

Translations are gettext catalogues in ``translations/<lang>/LC_MESSAGES/messages.po``
(read directly with Babel, no compile step). The viewer's language comes from their choice
(cookie, and their account when signed in), else the browser's Accept-Language, else English.
Templates use ``_("…")`` / ``{% trans %}``, and the filters ``money``, ``number``, ``percent``,
``date`` format per locale. Money is integer cents in, text out.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from gettext import NullTranslations

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from app.settings import PROJECT_ROOT

LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "gw_lang"
CURRENCY = "USD"
TRANSLATIONS_DIR = PROJECT_ROOT / "translations"

_current: ContextVar[str] = ContextVar("groundwork_language", default=DEFAULT_LANGUAGE)


@lru_cache
def translations(language: str) -> NullTranslations:
    path = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not path.exists():
        return NullTranslations()
    import io

    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(*, chosen: str | None, accept_language: str | None) -> str:
    if chosen in LANGUAGES:
        return chosen
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


def activate(language: str) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def localized(english: str, spanish: str | None = None) -> str:
    """A name staff keep in both languages (a category, treatment or district): the Spanish one for a
    Spanish viewer when it is given, else the English one. View models call this; templates get the text."""
    if current() == "es" and spanish and spanish.strip():
        return spanish.strip()
    return english


def N_(message: str) -> str:  # gettext's usual name; a default keyword of pybabel extract
    """Marks fixed text for the catalogue without translating it; it is translated where it is shown."""
    return message


def _locale() -> Locale:
    return Locale.parse({"en": "en_US", "es": "es_US"}[current()])


def money(cents: int | None, *, whole: bool = True) -> str:
    """Integer cents as currency text; whole dollars by default (costs in the millions)."""
    if cents is None:
        return "—"
    amount = Decimal(int(cents)) / 100
    pattern = "¤#,##0" if whole else None
    return numbers.format_currency(amount, CURRENCY, format=pattern, locale=_locale(),
                                   currency_digits=not whole)


def money_short(cents: int | None) -> str:
    """$144.5M, $2.3K — for headlines and charts."""
    if cents is None:
        return "—"
    return numbers.format_compact_currency(Decimal(int(cents)) / 100, CURRENCY, locale=_locale(),
                                           fraction_digits=1)


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return numbers.format_decimal(value, format=f"#,##0{'.' + '0' * digits if digits else ''}", locale=_locale())


def percent(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return numbers.format_percent(value, format=f"#,##0{'.' + '0' * digits if digits else ''}%", locale=_locale())


def format_date(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return "—"
    return dates.format_date(value, format=style, locale=_locale())
