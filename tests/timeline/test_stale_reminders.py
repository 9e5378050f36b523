"""Issue 27 item 12: an email says what is true when it goes out. After an outage or a clock jump past
a trial's end, the trial gets the expiry emails only, never a stale "ends in 7 days"; the partner's
"View customer" button opens that customer."""
from __future__ import annotations

import re
from datetime import timedelta

from server import clock
from server.domain.core.global_ids import global_id
from tests.timeline.conftest import new_customer_trial


async def test_r_time_01_no_7_day_warning_once_the_trial_has_ended(sessionmaker, life):
    t = await new_customer_trial(sessionmaker, days=30)
    await life.run()                                                       # day 0: provisioned, welcome
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=31))                      # the worker was down for a month
    await life.run()
    kinds = {kind for _, _, kind in life.log}
    assert {"expired_customer", "expired_partner"} <= kinds, kinds
    assert not {"warning_customer", "warning_partner"} & kinds, kinds
    assert t.trial_id


async def test_r_time_01_the_partners_view_customer_button_opens_that_customer(sessionmaker, life, smtp_sink):
    t = await new_customer_trial(sessionmaker, days=30)
    await life.until(23)
    [partner] = [m for m in smtp_sink.messages if m.kind == "warning_partner"][:1]
    link = f"/customers/{global_id('Customer', t.customer_id)}"
    assert link in partner.html and link in partner.text, re.findall(r'href="([^"]+)"', partner.html)
