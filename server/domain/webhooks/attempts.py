"""What a delivery attempt's outcome does: the retry schedule, the final failure,
and an endpoint that keeps failing.

Schedule (the Standard Webhooks / Svix one): the first attempt when the event is fanned out, then
retries 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure: 8 attempts over about
27 h 35 min. A 2xx answer within 10 s delivers; anything else (other status, timeout, refused
connection, a URL that now resolves to a forbidden address, an unreadable secret) is a failed
attempt. After the last one the delivery is FAILED.

An endpoint whose deliveries fail DISABLE_AFTER times in a row (each after its whole schedule, so
it has been failing for more than a day), with no success between, is disabled with a reason, and
the partner's full admins get an email (the outbox, `webhook_disabled`, in their language). Its
later events wait as pending deliveries until someone enables it again (webhooks.update_endpoint).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import PartnerOrg, RoleGrant, User, WebhookDelivery, WebhookEndpoint
from server.domain.core import audit
from server.domain.notifications import outbox
from server.domain.timeline import set_based
from server.domain.core.global_ids import global_id
from server.domain.core.actor import SYSTEM
from server.domain.notifications.outbox import EmailKind
from server.enums import Role

SCHEDULE = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
            timedelta(hours=5), timedelta(hours=10), timedelta(hours=10))
MAX_ATTEMPTS = len(SCHEDULE) + 1
DISABLE_AFTER = 3
#: How much of a receiver's answer the log keeps.
RESPONSE_LIMIT = 2000
DISABLED_REASON = "failing deliveries"


@dataclass
class Outcome:
    """One attempt: `status` is the HTTP status (None: no answer), `error` why it failed."""
    delivery_id: int
    endpoint_id: int
    attempts: int                  # before this attempt
    at: datetime
    timestamp: int
    status: int | None = None
    body: str | None = None
    latency_ms: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after the `attempts`-th failed attempt; None when that was the last."""
    return SCHEDULE[attempts - 1] if attempts <= len(SCHEDULE) else None


def _row(outcome: Outcome) -> dict:
    attempts = outcome.attempts + 1
    delay = None if outcome.ok else retry_delay(attempts)
    status = "DELIVERED" if outcome.ok else ("PENDING" if delay is not None else "FAILED")
    return dict(id=outcome.delivery_id, status=status, attempts=attempts, leased_until=None,
                next_attempt_at=outcome.at + delay if delay is not None else None, last_attempt_at=outcome.at,
                request_timestamp=outcome.timestamp, response_status=outcome.status,
                response_body=outcome.body[:RESPONSE_LIMIT] if outcome.body is not None else None,
                latency_ms=outcome.latency_ms, last_error=outcome.error[:2000] if outcome.error else None,
                delivered_at=outcome.at if outcome.ok else None, failed_at=outcome.at if status == "FAILED" else None)


async def record(db: AsyncSession, outcomes: list[Outcome], *, base_url: str) -> None:
    """Write a batch of attempts' outcomes (one statement), then the endpoints' failure counts."""
    rows = [_row(o) for o in outcomes]
    await set_based.update_rows(db, WebhookDelivery.__table__, "id", rows)
    succeeded = {o.endpoint_id for o in outcomes if o.ok}
    if succeeded:
        await db.execute(update(WebhookEndpoint).where(set_based.among(db, WebhookEndpoint.id, succeeded),
                                                       WebhookEndpoint.failed_in_row > 0).values(failed_in_row=0))
    failed: dict[int, int] = {}
    for outcome, row in zip(outcomes, rows):
        if row["status"] == "FAILED":
            failed[outcome.endpoint_id] = failed.get(outcome.endpoint_id, 0) + 1
    for endpoint_id, count in sorted(failed.items()):
        await endpoint_failed(db, endpoint_id, count, base_url=base_url)


async def endpoint_failed(db: AsyncSession, endpoint_id: int, deliveries: int, *, base_url: str) -> None:
    endpoint = await db.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None:
        return
    endpoint.failed_in_row = (endpoint.failed_in_row or 0) + deliveries
    if not endpoint.enabled or endpoint.failed_in_row < DISABLE_AFTER:
        return
    endpoint.enabled, endpoint.disabled_reason, endpoint.updated_at = False, DISABLED_REASON, clock.now()
    audit.record(db, SYSTEM, "webhook.disabled", "WebhookEndpoint", endpoint.id, partner_id=endpoint.partner_id,
                 after={"reason": DISABLED_REASON, "failed_in_row": endpoint.failed_in_row})
    partner_name = await db.scalar(select(PartnerOrg.name).where(PartnerOrg.id == endpoint.partner_id))
    admins = await db.execute(select(User.email, User.locale).join(RoleGrant, RoleGrant.user_id == User.id).where(
        User.partner_id == endpoint.partner_id, User.active.is_(True), RoleGrant.role == Role.PARTNER_FULL_ADMIN.value)
        .order_by(User.id))
    link = f"{base_url.rstrip('/')}/settings/webhooks/{global_id('WebhookEndpoint', endpoint.id)}"
    context = {"partner_name": partner_name, "url": endpoint.url, "failures": endpoint.failed_in_row, "action_url": link}
    for email, locale in admins:
        await outbox.enqueue(db, EmailKind.WEBHOOK_DISABLED, email,
                             f"webhook:{endpoint.id}:disabled:{clock.now().isoformat()}", context,
                             locale=locale or "en")
