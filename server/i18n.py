"""Portal translations (en, nb): gettext catalogs read from `translations/<locale>/LC_MESSAGES/messages.po`.

The .po files are compiled in memory at start-up (Babel), so a fresh clone needs no compile step.
English is the source language: its catalog is the identity. The locale of a request comes from
the `td_locale` cookie (set by the language switch, `POST /locale`), else from Accept-Language.
"""
from __future__ import annotations

import io
from datetime import UTC
from functools import cache, lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "nb")
DEFAULT = "en"
COOKIE = "td_locale"
ROOT = Path(__file__).resolve().parent.parent / "translations"


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog for `locale` (identity for English and unknown locales)."""
    path = ROOT / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def _from_accept_language(header: str) -> str | None:
    """The best of our locales in an Accept-Language header (q-values honoured; no, nn → nb)."""
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower().split("-")[0]
        lang = "nb" if lang in ("no", "nn") else lang
        if lang in LOCALES:
            ranked.append((q, lang))
    return max(ranked, key=lambda r: r[0])[1] if ranked else None


def locale_of(cookies: dict[str, str], accept_language: str | None) -> str:
    chosen = cookies.get(COOKIE)
    if chosen in LOCALES:
        return chosen
    return _from_accept_language(accept_language or "") or DEFAULT


def gettext(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def ngettext(locale: str, singular: str, plural: str, n: int) -> str:
    """The plural form for `n` in `locale` ("1 kunde", "2 kunder")."""
    return translations(locale).ngettext(singular, plural, n)


# --- Words a person reads, in their language (SPEC §8): Babel's locale data, not hand-kept lists ----------------
ZONE_COOKIE = "td_tz"  # the reader's IANA time zone, set by app.js from the browser


@cache
def _zones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def zone_of(value: str | None) -> str:
    """The reader's time zone from the cookie when it names a real IANA zone, else UTC."""
    return value if value and value in _zones() else "UTC"


def country_name(locale: str, code: str | None) -> str:
    """ISO 3166-1 alpha-2 as the reader calls it: NO → Norway / Norge."""
    from babel import Locale

    return Locale.parse(locale).territories.get(code or "", code or "")


def zone_name(locale: str, zone: str | None) -> str:
    """An IANA time zone as the reader reads it: Europe/Oslo → Norway Time / tidssone for Norge."""
    from babel.dates import get_timezone_location

    try:
        return get_timezone_location(zone, locale=locale) if zone else ""
    except LookupError:
        return zone or ""


def _moment(value, zone: str):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(zone)) if value.tzinfo else value
    return value


def format_day(locale: str, zone: str, value) -> str:
    """A date (or a moment's date in the reader's zone) in the reader's locale: 6 Jan 2027 / 6. jan. 2027
    (babel's format_date(…, "medium"), the pattern parsed once: `_day_text`)."""
    if not value:
        return ""
    moment = _moment(value, zone)
    return _day_text(locale, moment.date() if hasattr(moment, "hour") else moment)


@lru_cache(maxsize=1024)
def format_short_day(locale: str, value) -> str:
    """A day without its year, for a chart's axis: Dec 7 / 7. des. (`value`: a date or ISO text)."""
    from datetime import date

    from babel.dates import format_skeleton

    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return format_skeleton("MMMd", day, locale=locale)


@lru_cache(maxsize=64)
def _moment_formats(locale: str):
    """The locale and its medium date and short time patterns, parsed once (babel's format_date and
    format_time parse the locale and look the pattern up on every call: a page of 50 moments spent
    a third of its CPU there, bench.audit_log)."""
    from babel import Locale
    from babel.dates import get_date_format, get_time_format

    parsed = Locale.parse(locale)
    return parsed, get_date_format("medium", locale=parsed), get_time_format("short", locale=parsed)


@lru_cache(maxsize=1024)
def _day_text(locale: str, day) -> str:
    parsed, medium, _ = _moment_formats(locale)
    return medium.apply(day, parsed)


def format_moment(locale: str, zone: str, value) -> str:
    """A moment in the reader's locale and time zone: Dec 7, 2026 2:28 AM / 7. des. 2026 02:28
    (babel's format_date(…, "medium") and format_time(…, "short"), the patterns parsed once)."""
    if not value:
        return ""
    moment = _moment(value, zone)
    if not hasattr(moment, "hour"):
        return _day_text(locale, moment)
    parsed, _, short = _moment_formats(locale)
    day = moment.date()
    clock_time = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timetz()
    return f"{_day_text(locale, day)} {short.apply(clock_time, parsed, reference_date=day)}"
