"""R-SET-02: per email kind and language (en, nb) a partner full admin may replace the subject and
the introduction of its customer emails with its own text, using only the named placeholders that
kind offers (`{customer}`, `{partner}`, `{days_left}`, `{end_date}`, `{grace_end_date}`).

Decisions (SPEC silent):
- Which kinds: the customer emails about a trial (`TEXT_KINDS`). The introduction replaces the
  greeting line; everything the SPEC requires (dates, links, usage, return instructions) follows
  it, untouched, in every email.
- The sandbox: a text is literal text with `{name}` placeholders, nothing else. A placeholder the
  kind does not offer, one with an attribute, index, conversion or format (`{customer.__class__}`,
  `{customer[0]}`, `{customer!r}`, `{days_left:>99999}`) or an unbalanced brace is refused with
  INVALID_TEMPLATE naming it; so is markup (`<b>`, `<a href>`, `<!--`): the texts are plain text,
  escaped in the HTML mail. Placeholders are filled with the values' text (no code runs, nothing
  is looked up on an object). `{{` and `}}` write a literal brace.
- Subject: one line, at most 200 characters; introduction at most 1000. Both empty, or reset:
  the default returns (the row is deleted).
- Every change is audited (`settings.email_text_changed`), in its transaction.
"""
from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import PartnerEmailText
from server.domain.core import audit
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.domain.partner_settings import branding
from server.domain.partner_settings.settings import partner_of
from server.enums import ErrorCode

LOCALES = ("en", "nb")
_BASE = ("customer", "partner")
#: The kinds a partner may word, with the placeholders each offers.
TEXT_KINDS: dict[str, tuple[str, ...]] = {
    "welcome": _BASE, "consent_request": _BASE, "trial_started": (*_BASE, "end_date"),
    "warning_customer": (*_BASE, "days_left", "end_date"), "expired_customer": (*_BASE, "end_date", "grace_end_date"),
    "access_ended": _BASE,
}
SUBJECT_MAX, INTRODUCTION_MAX = 200, 1000
MARKUP = re.compile(r"<\s*[A-Za-z/!?]|&[A-Za-z#][A-Za-z0-9]*;")


def _invalid(message: str, field: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_TEMPLATE, message, field)


def check(kind: str, text: str, field: str) -> list[tuple[str, str]]:
    """The text as (literal, placeholder) parts, or INVALID_TEMPLATE naming what is refused."""
    allowed = TEXT_KINDS[kind]
    if MARKUP.search(text):
        raise _invalid("Use plain text: markup such as HTML tags is not allowed.", field)
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise _invalid("A brace is not closed: write a placeholder as {customer}, a brace as {{ or }}.", field) \
            from None
    parts = []
    for literal, name, spec, conversion in parsed:
        if name is not None:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            if name not in allowed or spec or conversion:
                raise _invalid(f"{shown} is not a placeholder of this email; use "
                               f"{', '.join('{' + a + '}' for a in allowed)}.", field)
        parts.append((literal, name))
    return parts


def fill(parts: list[tuple[str, str | None]], values: dict[str, Any]) -> str:
    """The text with its placeholders replaced by the values' text."""
    return "".join(literal + ("" if name is None else str(values.get(name, ""))) for literal, name in parts)


def placeholder_values(context: dict[str, Any], day) -> dict[str, Any]:
    """What the placeholders say for an email's context (`day`: the locale's date formatting)."""
    return {"customer": context.get("customer_name", ""), "partner": context.get("partner_name", ""),
            "days_left": context.get("days_left", 7), "end_date": day(context.get("ends_at")),
            "grace_end_date": day(context.get("grace_ends_at"))}


def render(kind: str, locale: str, look: branding.Branding, values: dict[str, Any]) -> tuple[str | None, str | None]:
    """(subject, introduction) in the partner's words, or None each where it kept the default.
    Stored texts were checked when saved; one that no longer checks is not used."""
    found = look.texts.get((kind, locale)) if kind in TEXT_KINDS else None
    if found is None:
        return None, None
    try:
        subject, introduction = (fill(check(kind, text, name), values) if text else None
                                 for text, name in zip(found, ("subject", "introduction"), strict=True))
    except DomainError:
        return None, None
    return subject, introduction


@dataclass(frozen=True)
class EmailText:
    kind: str
    locale: str
    subject: str
    introduction: str
    placeholders: tuple[str, ...]


def checked(kind: str, locale: str, subject: str, introduction: str) -> tuple[str, str]:
    if kind not in TEXT_KINDS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"'{kind}' is not an email whose text you can change.", "kind")
    if locale not in LOCALES:
        raise DomainError(ErrorCode.INVALID_INPUT, "Choose English (en) or Norwegian (nb).", "locale")
    subject, introduction = subject.strip(), introduction.strip()
    if "\r" in subject or "\n" in subject or len(subject) > SUBJECT_MAX:
        raise _invalid(f"The subject is one line of at most {SUBJECT_MAX} characters.", "subject")
    if len(introduction) > INTRODUCTION_MAX:
        raise _invalid(f"The introduction has at most {INTRODUCTION_MAX} characters.", "introduction")
    check(kind, subject, "subject")
    check(kind, introduction, "introduction")
    return subject, introduction


async def texts(db: AsyncSession, actor: Actor) -> list[EmailText]:
    """Every kind and language, the partner's text or empty (the default)."""
    return from_rows((await db.execute(rows_of(actor))).all())


def rows_of(actor: Actor) -> Select:
    """The partner's own texts (kind, locale, subject, introduction); FORBIDDEN as `texts`."""
    return select(PartnerEmailText.kind, PartnerEmailText.locale, PartnerEmailText.subject,
                  PartnerEmailText.introduction).where(PartnerEmailText.partner_id == partner_of(actor))


def from_rows(rows: Iterable[Any]) -> list[EmailText]:
    """`texts` from the partner's rows (objects with kind, locale, subject, introduction)."""
    own = {(row.kind, row.locale): row for row in rows}
    return [EmailText(kind, locale, own[(kind, locale)].subject if (kind, locale) in own else "",
                      own[(kind, locale)].introduction if (kind, locale) in own else "", placeholders)
            for kind, placeholders in TEXT_KINDS.items() for locale in LOCALES]


async def save(db: AsyncSession, actor: Actor, kind: str, locale: str, subject: str,
               introduction: str) -> EmailText:
    """R-SET-02: the partner's own subject and introduction (both empty: back to the default)."""
    partner_id = partner_of(actor)
    subject, introduction = checked(kind, locale, subject, introduction)
    row = await db.get(PartnerEmailText, (partner_id, kind, locale), with_for_update=True)
    before = None if row is None else {"subject": row.subject, "introduction": row.introduction}
    if not subject and not introduction:
        return await reset(db, actor, kind, locale)
    if row is None:
        row = PartnerEmailText(partner_id=partner_id, kind=kind, locale=locale, subject=subject,
                               introduction=introduction, updated_at=clock.now())
        db.add(row)
    else:
        row.subject, row.introduction, row.updated_at = subject, introduction, clock.now()
    audit.record(db, actor, "settings.email_text_changed", "PartnerSettings", partner_id,
                 before={"kind": kind, "locale": locale, **(before or {})},
                 after={"kind": kind, "locale": locale, "subject": subject, "introduction": introduction})
    return EmailText(kind, locale, subject, introduction, TEXT_KINDS[kind])


async def reset(db: AsyncSession, actor: Actor, kind: str, locale: str) -> EmailText:
    """R-SET-02: back to the default text."""
    partner_id = partner_of(actor)
    checked(kind, locale, "", "")
    row = await db.get(PartnerEmailText, (partner_id, kind, locale))
    if row is not None:
        audit.record(db, actor, "settings.email_text_changed", "PartnerSettings", partner_id,
                     before={"kind": kind, "locale": locale, "subject": row.subject,
                             "introduction": row.introduction},
                     after={"kind": kind, "locale": locale, "reset": True})
        await db.execute(delete(PartnerEmailText).where(PartnerEmailText.partner_id == partner_id,
                                                        PartnerEmailText.kind == kind,
                                                        PartnerEmailText.locale == locale))
    return EmailText(kind, locale, "", "", TEXT_KINDS[kind])
