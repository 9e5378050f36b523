"""R-USE-06: the 7-day warning emails (R-TIME-01) say the trial's usage, as of the day they are sent:
per service the active users over 30 days of the licensed count; the partner's copy also the health.
Through the worker: the sweep queues the warnings (its Python plans, and on PostgreSQL also its SQL
statements), usage arrives over HTTP after that, and the mailer sends to a real SMTP server."""
from __future__ import annotations

from datetime import timedelta

import pytest

from jobs import mailer
from jobs.sweep import run_deadlines
from server import clock
from server.settings import get_settings
from tests.timeline.conftest import new_customer_trial
from tests.usage.conftest import activity, send

PATHS = ["plans", "statements"]


def text(message) -> str:
    return message.text.replace("\r\n", "\n")


@pytest.fixture(params=PATHS)
def sweep_path(request, app, monkeypatch) -> str:
    """Which of the sweep's two ways queues the warnings: the plans (SQLite, and PostgreSQL with the
    statements off) or the SQL statements (PostgreSQL only)."""
    postgres = app.state.engine.dialect.name == "postgresql"
    if request.param == "statements" and not postgres:
        pytest.skip("the sweep's SQL statements run on PostgreSQL only")
    monkeypatch.setattr(get_settings(), "compiled_rules", request.param == "statements")
    return request.param


async def test_r_use_06_warnings_say_the_usage_read_when_they_are_sent(client, sessionmaker, life, runtime, smtp_sink,
                                                                       platform, sweep_path):
    t = await new_customer_trial(sessionmaker, days=30)             # 10 licenses; MESSAGING and MEETINGS, 10 each
    await life.run()                                                # day 0: provisioned, ACTIVE
    await life.until(22)
    before = len(smtp_sink.messages)
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=1))     # day 23: the 7-day warning is due
    await run_deadlines(runtime)                                    # queued (not rendered) by the sweep
    today = clock.today()
    answer = await send(client, platform, [activity(t.customer_id, today, "MEETINGS", "k1", 2, 30),
                                           activity(t.customer_id, today, "MESSAGING", "k1", 5)])
    assert answer.json()["rejected"] == []
    await mailer.flush(runtime)                                     # rendered now, with today's usage
    sent = {(m.to, m.kind): m for m in smtp_sink.messages[before:]}
    admin_en = next(e for e in t.customer_admins if e.startswith("admin"))
    boss_nb = next(e for e in t.customer_admins if e.startswith("boss"))
    customer, norwegian = sent[(admin_en, "warning_customer")], sent[(boss_nb, "warning_customer")]
    assert "Active users in the last 30 days, of the licensed count:\n- Messaging: 1 of 10\n- Meetings: 1 of 10" \
        in text(customer)
    assert "<li>Messaging: 1 of 10</li><li>Meetings: 1 of 10</li>" in customer.html
    assert "Adoption" not in text(customer)                          # the health is the partner's
    assert "Aktive brukere de siste 30 dagene, av lisensantallet:\n- Meldinger: 1 av 10\n- Møter: 1 av 10" \
        in text(norwegian)
    partner_copies = [m for (to, kind), m in sent.items() if kind == "warning_partner"]
    assert sorted(m.to for m in partner_copies) == t.partner_admins
    for message in partner_copies:                                  # 1 of 10 active: activation 10 %, LOW
        assert "Adoption: Low (1 of 10 users active in the last 30 days)" in text(message), text(message)
        assert "Adoption: <strong>Low</strong>" in message.html
        assert "- Meetings: 1 of 10" in text(message)


async def test_r_use_06_the_partners_warning_says_the_health_in_norwegian(client, sessionmaker, life, runtime,
                                                                          smtp_sink, platform, sweep_path):
    from sqlalchemy import update

    from server.db.models import User

    t = await new_customer_trial(sessionmaker, days=30)
    async with sessionmaker() as db, db.begin():
        await db.execute(update(User).where(User.partner_id == t.partner_id).values(locale="nb"))
    await life.run()
    await life.until(20)
    today = clock.today()
    lines = [activity(t.customer_id, today, "MEETINGS", f"k{n}", 1, 10) for n in range(4)]
    assert (await send(client, platform, lines)).json()["rejected"] == []
    await life.until(23)
    copies = [m for m in smtp_sink.messages if m.kind == "warning_partner"]
    assert sorted(m.to for m in copies) == t.partner_admins
    for message in copies:                                          # 4 of 10, active 3 days ago: HEALTHY
        assert "Bruksgrad: God (4 av 10 brukere aktive de siste 30 dagene)" in text(message), text(message)
        assert "- Meldinger: 0 av 10\n- Møter: 4 av 10" in text(message)     # in the trial's order
