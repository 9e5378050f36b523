"""The outbox sender (SPEC §8): every email delivered once, with its own Message-ID; a failing
mail server is retried until it comes back; a permanent refusal is recorded."""
from __future__ import annotations

from datetime import timedelta

from jobs import mailer
from jobs.runtime import Runtime
from server import clock
from server.domain.notifications import outbox
from server.domain.notifications.outbox import EmailKind
from tests.timeline.conftest import emails_in_db


async def _queue(sessionmaker, n: int = 3, kind: EmailKind = EmailKind.TRIAL_CANCELLED) -> None:
    async with sessionmaker() as db, db.begin():
        await clock.refresh(db)
        for i in range(n):
            await outbox.enqueue(db, kind, f"person{i}@example.com", "test:event",
                                 {"customer_name": "Acme", "partner_name": "P"}, locale="en")


async def test_r_email_each_email_once_with_the_rows_message_id(sessionmaker, runtime, smtp_sink):
    await _queue(sessionmaker)
    await _queue(sessionmaker)                                     # the same event again: deduplicated
    assert await mailer.flush(runtime) == 3
    assert await mailer.flush(runtime) == 0
    rows = await emails_in_db(sessionmaker)
    assert sorted(m.message_id for m in smtp_sink.messages) == sorted(r.message_id for r in rows)
    assert all(r.sent_at and r.attempts == 1 for r in rows)


async def test_r_email_a_mail_server_that_is_down_is_retried_until_it_comes_back(sessionmaker, runtime, smtp_sink):
    smtp_sink.stop()
    await _queue(sessionmaker, 2)
    failures: list[str] = []
    assert await mailer.flush(runtime, failures) == 0 and len(failures) == 2
    rows = await emails_in_db(sessionmaker)
    assert all(r.sent_at is None and r.attempts == 1 and r.next_attempt_at > clock.now() and r.last_error for r in rows)
    smtp_sink.start()
    assert await mailer.flush(runtime) == 0                        # still backing off
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(minutes=2))
    assert await mailer.flush(runtime) == 2
    assert len(smtp_sink.messages) == 2


async def test_r_email_a_temporary_refusal_backs_off_and_a_permanent_one_gives_up(sessionmaker, runtime, smtp_sink):
    await _queue(sessionmaker, 1)
    smtp_sink.handler.refuse = 451
    await mailer.flush(runtime)
    [row] = await emails_in_db(sessionmaker)
    assert row.failed_at is None and row.attempts == 1 and "451" in row.last_error
    smtp_sink.handler.refuse = 550
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(minutes=2))
    await mailer.flush(runtime)
    [row] = await emails_in_db(sessionmaker)
    assert row.failed_at is not None and row.sent_at is None and "550" in row.last_error


async def test_r_email_gives_up_after_max_attempts(sessionmaker, runtime, smtp_sink):
    smtp_sink.stop()
    await _queue(sessionmaker, 1)
    for _ in range(mailer.MAX_ATTEMPTS):
        await mailer.flush(runtime)
        async with sessionmaker() as db, db.begin():
            await clock.advance(db, timedelta(hours=3))
    [row] = await emails_in_db(sessionmaker)
    assert row.attempts == mailer.MAX_ATTEMPTS and row.failed_at is not None


async def test_r_email_a_leased_row_is_not_taken_by_a_second_sender(sessionmaker, runtime, smtp_sink):
    await _queue(sessionmaker, 2)
    first = await mailer.claim(runtime)
    assert len(first) == 2 and await mailer.claim(runtime) == []
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, mailer.LEASE + timedelta(seconds=1))   # the first sender died
    again = await mailer.claim(runtime)
    assert sorted(r.message_id for r in again) == sorted(r.message_id for r in first)


async def test_r_email_without_smtp_host_dev_marks_sent_for_the_dev_outbox(sessionmaker, runtime, smtp_sink):
    dev = Runtime(settings=runtime.settings.model_copy(update={"smtp_host": ""}), engine=runtime.engine,
                  sessionmaker=runtime.sessionmaker)
    await _queue(sessionmaker, 2)
    assert await mailer.flush(dev) == 2
    assert smtp_sink.messages == [] and all(r.sent_at for r in await emails_in_db(sessionmaker))


async def test_r_email_every_kind_renders_in_en_and_nb_with_html():
    from server.domain.notifications import emails

    for kind in EmailKind:
        subjects = set()
        for locale in ("en", "nb"):
            subject, text, html = emails.render(kind, locale, {"customer_name": "Acme", "partner_name": "P",
                                                               "ends_at": "2025-03-12"})
            assert subject and text.strip() and html and "<p>" in html
            subjects.add(subject)
        assert len(subjects) == 2, kind


async def test_r_email_dev_outbox_page_lists_queued_emails(sessionmaker, client):
    await _queue(sessionmaker, 1, EmailKind.WARNING_CUSTOMER)
    response = await client.get("/dev/outbox")
    assert response.status_code == 200 and "person0@example.com" in response.text
    assert "Your Webex trial ends in 7 days" in response.text
    [row] = await emails_in_db(sessionmaker)
    one = await client.get(f"/dev/outbox?id={row.id}")
    assert one.status_code == 200 and "Buy: http://testserver/my" in one.text   # no trial: the trials page
