"""The outbox sender (DESIGN "Transactional outbox", SPEC §8): every queued email is delivered.

A batch of unsent rows is claimed in a short transaction (SKIP LOCKED on PostgreSQL, BEGIN
IMMEDIATE on SQLite) by leasing it: `next_attempt_at` moves LEASE ahead, so no other sender takes
those rows while this one sends. No database lock is held while talking SMTP. Each row is marked
`sent_at` right after the server accepts it. A crash between acceptance and that mark re-sends
the email once the lease runs out, with the same Message-ID (the row's), so mail systems can drop
the copy. A transient failure backs off and retries; a permanent refusal (5xx) or MAX_ATTEMPTS
failures set `failed_at` with the reason.

Rows the sweep queued carry their kind, locale and context, not their text: they are rendered
here (`outbox.rendered`, the same `emails.render`) just before sending, with what is read then
(a warning's usage, R-USE-06: `outbox.read_at_send`), and what was sent is stored with `sent_at`.
A resend after a crash renders again, with the usage of that day.

With no SMTP_HOST (dev), rows are marked sent without leaving the machine: /dev/outbox shows them.
"""
from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib
import structlog
from sqlalchemy import or_, select, update

from jobs.runtime import Runtime
from server import clock
from server.db.models import OutboxEmail
from server.domain.notifications import outbox
from server.domain.partner_settings import branding
from server.settings import Settings

log = structlog.get_logger("mailer")

BATCH = 50
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
TIMEOUT = 30


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes, at most two hours."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), timedelta(hours=2))


def _stored(row: OutboxEmail, content: tuple[str, str, str | None]) -> dict[str, str | None]:
    """What to store with `sent_at`: the text a context-only row (the sweep's) was sent with."""
    if row.subject is not None:
        return {}
    subject, text, html = content
    return dict(subject=subject, body_text=text, body_html=html)


def build_message(row: OutboxEmail, settings: Settings, content: tuple[str, str, str | None] | None = None,
                  look: branding.Branding = branding.PLAIN) -> EmailMessage:
    """The MIME message of a row. A customer email carries its partner's sender name (the display
    name of the platform's From address) and reply-to (R-SET-01), both validated when saved."""
    subject, text, html = content if content is not None else outbox.rendered(row, look)
    message = EmailMessage()
    message["From"] = formataddr((look.sender_name, parseaddr(settings.smtp_from)[1])) if look.sender_name \
        else settings.smtp_from
    if look.reply_to:
        message["Reply-To"] = look.reply_to
    message["To"] = row.recipient
    message["Subject"] = subject
    message["Message-ID"] = row.message_id               # the row's: a resend carries the same one
    message["Date"] = format_datetime(row.created_at)
    message["Content-Language"] = row.locale
    message["X-Trialdesk-Kind"] = row.kind
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


async def claim(runtime: Runtime, limit: int = BATCH) -> list[OutboxEmail]:
    """Lease up to `limit` sendable rows, oldest first."""
    postgres = runtime.engine.dialect.name == "postgresql"
    async with runtime.sessionmaker() as db, db.begin():
        now = await clock.refresh(db)
        stmt = (select(OutboxEmail)
                .where(OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None),
                       or_(OutboxEmail.next_attempt_at.is_(None), OutboxEmail.next_attempt_at <= now))
                .order_by(OutboxEmail.id).limit(limit))
        if postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(await db.scalars(stmt))
        if rows:
            await db.execute(update(OutboxEmail).where(OutboxEmail.id.in_([r.id for r in rows]))
                             .values(next_attempt_at=now + LEASE))
    return rows


async def _mark(runtime: Runtime, row_id: int, **values) -> None:
    async with runtime.sessionmaker() as db, db.begin():
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == row_id).values(**values))


async def _failed(runtime: Runtime, row: OutboxEmail, error: Exception, permanent: bool, failures: list[str]) -> None:
    attempts = (row.attempts or 0) + 1
    reason = f"{type(error).__name__}: {error}"[:2000]
    if permanent or attempts >= MAX_ATTEMPTS:
        await _mark(runtime, row.id, attempts=attempts, last_error=reason, failed_at=clock.now())
        log.error("email_failed", id=row.id, kind=row.kind, attempts=attempts, error=reason)
    else:
        await _mark(runtime, row.id, attempts=attempts, last_error=reason,
                    next_attempt_at=clock.now() + backoff(attempts))
        log.warning("email_retry", id=row.id, kind=row.kind, attempts=attempts, error=reason)
    failures.append(f"email {row.id} ({row.kind} to {row.recipient}): {reason}")


def _permanent(error: Exception) -> bool:
    code = getattr(error, "code", None)
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [getattr(e, "code", 0) for e in error.recipients]
        return bool(codes) and all(500 <= c < 600 for c in codes)
    return isinstance(code, int) and 500 <= code < 600 and not isinstance(error, aiosmtplib.SMTPServerDisconnected)


async def _read(runtime: Runtime, rows: list[OutboxEmail]) -> tuple[dict[int, branding.Branding], dict[int, dict]]:
    """Once per batch: each row's partner look (R-SET-01/02) and what its email says that is read
    when it is sent (the usage of a warning, R-USE-06: `outbox.read_at_send`)."""
    trial_ids = {row.trial_id for row in rows if row.kind in branding.CUSTOMER_KINDS}
    async with runtime.sessionmaker() as db:
        await clock.refresh(db)
        looks = await branding.of_trials(db, trial_ids) if trial_ids else {}
        return looks, await outbox.read_at_send(db, rows)


async def send_batch(runtime: Runtime, rows: list[OutboxEmail], failures: list[str]) -> int:
    settings = runtime.settings
    looks, at_send = await _read(runtime, rows)

    def look(row: OutboxEmail) -> branding.Branding:
        return branding.for_email(row.kind, looks, row.trial_id)

    if not settings.smtp_host:
        for row in rows:
            await _mark(runtime, row.id, sent_at=clock.now(), last_error=None,
                        **_stored(row, outbox.rendered(row, look(row), at_send)))
        return len(rows)
    sent = 0
    smtp = aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port, timeout=TIMEOUT)
    try:
        await smtp.connect()
        if settings.smtp_user:
            await smtp.login(settings.smtp_user, settings.smtp_password)
    except Exception as error:  # noqa: BLE001 - the server is down: every row backs off
        for row in rows:
            await _failed(runtime, row, error, False, failures)
        return 0
    try:
        for row in rows:
            try:
                content = outbox.rendered(row, look(row), at_send)
                await smtp.send_message(build_message(row, settings, content, look(row)))
            except Exception as error:  # noqa: BLE001
                await _failed(runtime, row, error, _permanent(error), failures)
                if not smtp.is_connected:
                    try:
                        await smtp.connect()
                    except Exception:  # noqa: BLE001 - the rest of the batch waits for its lease
                        return sent
                continue
            await _mark(runtime, row.id, sent_at=clock.now(), attempts=(row.attempts or 0) + 1, last_error=None,
                        **_stored(row, content))
            sent += 1
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except Exception:  # noqa: BLE001
                smtp.close()
    return sent


async def flush(runtime: Runtime, failures: list[str] | None = None) -> int:
    """Send everything sendable now; returns how many were delivered."""
    failures = failures if failures is not None else []
    total = 0
    while rows := await claim(runtime):
        total += await send_batch(runtime, rows, failures)
    return total
