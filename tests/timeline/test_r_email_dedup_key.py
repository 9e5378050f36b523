"""SPEC §8 "each email once": the outbox's dedup key (event + recipient) is what stops a resend.

The sender crashes between the mail server's acceptance and its `sent_at` mark (simulated: the mark
raises, as a process killed at that instant would never write it). The same email (same event and
recipient) is then queued again, directly through the outbox — as a replayed deadline or a retried
transaction would, with no state check in the way. Only the unique dedup key can refuse it. When the
lease runs out the one row is sent again with its own Message-ID (the documented at-least-once
window), so the mail system sees copies of one message, never two messages: one delivery."""
from __future__ import annotations

import pytest

from jobs import mailer
from server import clock
from server.domain.notifications import outbox
from server.domain.notifications.outbox import Email, EmailKind
from tests.timeline.conftest import emails_in_db

EVENT = "trial:42:cancelled"
RECIPIENT = "Boss@Kunde.example"
CONTEXT = {"customer_name": "Kunde AS", "partner_name": "Nordlys"}


class SimulatedCrash(Exception):
    """The sender dies after SMTP accepted the message, before it records that."""


async def _queue(sessionmaker, path: str) -> None:
    async with sessionmaker() as db, db.begin():
        await clock.refresh(db)
        if path == "enqueue":           # one user action's email, rendered now
            await outbox.enqueue(db, EmailKind.TRIAL_CANCELLED, RECIPIENT, EVENT, CONTEXT, locale="en")
        else:                           # the sweep's batch path, rendered when sent
            await outbox.enqueue_many(db, [Email(EmailKind.TRIAL_CANCELLED, RECIPIENT, EVENT, CONTEXT)])


@pytest.mark.parametrize("path", ["enqueue", "enqueue_many"])
async def test_r_email_dedup_key_stops_a_resend_after_a_crash_between_send_and_mark(
        sessionmaker, runtime, smtp_sink, monkeypatch, path):
    """Kills: the dedup key made unique per call (e.g. with the Message-ID or a timestamp in it), the
    recipient not lower-cased into it, `on_conflict_do_nothing` / `skip_conflicts_on` dropped (the
    re-queue raises), and a Message-ID made per send instead of per row."""
    await _queue(sessionmaker, path)
    real_mark = mailer._mark

    async def crash_on_sent(runtime_, row_id, **values):
        if "sent_at" in values:
            raise SimulatedCrash
        await real_mark(runtime_, row_id, **values)

    monkeypatch.setattr(mailer, "_mark", crash_on_sent)
    with pytest.raises(SimulatedCrash):
        await mailer.flush(runtime)
    monkeypatch.setattr(mailer, "_mark", real_mark)
    assert len(smtp_sink.messages) == 1                   # accepted by the mail server, not marked
    [row] = await emails_in_db(sessionmaker)
    assert row.sent_at is None

    await _queue(sessionmaker, "enqueue")                 # the same email again, both ways
    await _queue(sessionmaker, "enqueue_many")
    [again] = await emails_in_db(sessionmaker)
    assert again.id == row.id and again.message_id == row.message_id

    assert await mailer.flush(runtime) == 0               # still leased by the sender that died
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, mailer.LEASE)
    assert await mailer.flush(runtime) == 1
    assert await mailer.flush(runtime) == 0
    [sent] = await emails_in_db(sessionmaker)
    assert sent.sent_at is not None and sent.recipient == RECIPIENT.lower()
    assert [m.to for m in smtp_sink.messages] == [RECIPIENT.lower()] * 2
    assert {m.message_id for m in smtp_sink.messages} == {row.message_id}
