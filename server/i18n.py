"""Portal translations (en, nb): gettext catalogs read from `translations/<locale>/LC_MESSAGES/messages.po`.

The .po files are compiled in memory at start-up (Babel), so a fresh clone needs no compile step.
English is the source language: its catalog is the identity. The locale of a request comes from
the `td_locale` cookie (set by the language switch, `POST /locale`), else from Accept-Language.
"""
from __future__ import annotations

import io
from functools import cache
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
