"""Transactional outbox: an email is a row written in the same transaction as the change that
causes it. The dedup key (event + recipient) is unique, so a retried transaction or a replayed
deadline cannot queue the same mail twice. The sender (jobs/) delivers and marks it sent.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import OutboxEmail
from server.domain.partner_settings import branding
from server.domain.timeline import set_based
from server.domain.usage import report as usage_report


class EmailKind(StrEnum):
    """SPEC §8."""
    WELCOME = "welcome"
    CONSENT_REQUEST = "consent_request"
    CONSENT_REMINDER = "consent_reminder"
    TRIAL_STARTED = "trial_started"
    WARNING_CUSTOMER = "warning_customer"
    WARNING_PARTNER = "warning_partner"
    EXPIRED_CUSTOMER = "expired_customer"
    EXPIRED_PARTNER = "expired_partner"
    ACCESS_ENDED = "access_ended"
    PURCHASE_INTEREST = "purchase_interest"
    DEVICE_EXTENSION_DECIDED = "device_extension_decided"
    RETURN_OVERDUE = "return_overdue"
    TRIAL_CANCELLED = "trial_cancelled"
    CONSENT_LAPSED = "consent_lapsed"  # R-EX-06, to the partner user who asked
    CONVERTED = "converted"
    DEVICE_LICENSE = "device_license"
    MAGIC_LINK = "magic_link"
    INVITE = "invite"
    WEBHOOK_DISABLED = "webhook_disabled"


def render(kind: EmailKind, locale: str, context: dict[str, Any],
           look: branding.Branding = branding.PLAIN) -> tuple[str, str, str | None]:
    """(subject, text, html) for an email, with the partner's look (R-SET-01/02). Templates live in
    web/templates/emails/."""
    from server.domain.notifications import emails  # rendering lives beside the templates' loader

    return emails.render(kind, locale, context, look)


@dataclass(frozen=True)
class Email:
    """One email to queue: `event` names the occurrence; the dedup key adds the recipient."""
    kind: EmailKind
    recipient: str
    event: str
    context: dict[str, Any]
    locale: str = "en"
    customer_id: int | None = None
    trial_id: int | None = None


def _row(email: Email, rendered: tuple[str, str, str | None] | None, now) -> dict[str, Any]:
    """The row to insert: rendered now (`rendered`), or with its context to render when sent (None)."""
    recipient = email.recipient.lower()
    row = dict(dedup_key=f"{email.event}:{recipient}", kind=email.kind.value, recipient=recipient,
               locale=email.locale, message_id=f"<{uuid.uuid4().hex}@trialdesk>", customer_id=email.customer_id,
               trial_id=email.trial_id, created_at=now, attempts=0)
    if rendered is None:
        row.update(context=email.context)
    else:
        subject, text, html = rendered
        row.update(subject=subject, body_text=text, body_html=html)
    return row


def rendered(row: OutboxEmail, look: branding.Branding = branding.PLAIN,
             at_send: dict[int, dict[str, Any]] | None = None) -> tuple[str, str, str | None]:
    """(subject, text, html) of a queued row: as stored, or rendered now from its kind, locale,
    context, the partner's look and what is read when it is sent (`at_send`, per trial: `read_at_send`;
    the sweep's rows are rendered by the sender, just before sending)."""
    if row.subject is not None:
        return row.subject, row.body_text or "", row.body_html
    extra = (at_send or {}).get(row.trial_id, {}) if row.kind in usage_report.USAGE_KINDS else {}
    return render(EmailKind(row.kind), row.locale, {"customer_id": row.customer_id, **(row.context or {}), **extra},
                  look)


async def read_at_send(db: AsyncSession, rows: list[OutboxEmail]) -> dict[int, dict[str, Any]]:
    """What the emails of `rows` still to render say that is read when they are sent, per trial: the
    trial's usage in its warnings (R-USE-06), as of the clock's today."""
    trial_ids = {row.trial_id for row in rows
                 if row.subject is None and row.trial_id is not None and row.kind in usage_report.USAGE_KINDS}
    if not trial_ids:
        return {}
    usage = await usage_report.of_trials(db, trial_ids, clock.today())
    return {trial_id: {"usage": value} for trial_id, value in usage.items()}


def _insert(db: AsyncSession):
    insert = pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    return insert(OutboxEmail.__table__).on_conflict_do_nothing(index_elements=["dedup_key"])


async def enqueue_many(db: AsyncSession, emails: list[Email]) -> None:
    """Queue many emails in one statement; a dedup key queued before is skipped (nothing written).
    The sweep's path: small rows (kind, locale, context), rendered by the sender when it sends them
    (`rendered()`), so a transition does not pay for templates and large bodies."""
    now, rows = clock.now(), {}
    for email in emails:
        row = _row(email, None, now)
        rows.setdefault(row["dedup_key"], row)
    await set_based.insert_rows(db, OutboxEmail.__table__, list(rows.values()), skip_conflicts_on="dedup_key")


async def enqueue(db: AsyncSession, kind: EmailKind, recipient: str, dedup_key: str, context: dict[str, Any], *,
                  locale: str = "en", customer_id: int | None = None, trial_id: int | None = None) -> bool:
    """Queue one email, rendered now (one per user action: the row shows what will be sent);
    returns False when this dedup key was queued before (nothing written)."""
    email = Email(kind, recipient, dedup_key, context, locale, customer_id, trial_id)
    looks = await branding.of_trials(db, [trial_id]) if kind.value in branding.CUSTOMER_KINDS else {}
    look = branding.for_email(kind.value, looks, trial_id)
    shown = render(kind, locale, {"customer_id": customer_id, **context}, look)
    result = await db.execute(_insert(db).values(**_row(email, shown, clock.now())))
    return bool(result.rowcount)
