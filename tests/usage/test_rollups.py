"""R-USE-01: the rollups kept by the ingest (daily totals, each user's last active day) always equal
what the stored per-user days say, whatever the reports: new days, a key's users split over several
reports, a report replaced by another with other counts, activity replaced by an idle day, the same
key twice in a report, a report sent again. (On PostgreSQL the ingest moves the totals by
differences and the last active days forward from the changed rows: server.domain.usage.storage.)"""
from __future__ import annotations

import random
from datetime import timedelta

from server import clock
from tests.factories import existing_customer
from tests.usage.conftest import activity, last_active, rows, send

RECOMPUTED_TOTALS = """SELECT org_id, service, day, sum(CASE WHEN events > 0 OR minutes > 0 THEN 1 ELSE 0 END),
  sum(events), sum(minutes) FROM usage_user_days WHERE org_id IN (:a, :b) GROUP BY org_id, service, day ORDER BY 1, 2, 3"""
TOTALS = """SELECT org_id, service, day, active_users, events, minutes FROM usage_daily_totals
  WHERE org_id IN (:a, :b) ORDER BY 1, 2, 3"""
RECOMPUTED_LAST = """SELECT org_id, service, user_key, max(day) FROM usage_user_days WHERE org_id IN (:a, :b)
  AND (events > 0 OR minutes > 0) GROUP BY org_id, service, user_key ORDER BY 1, 2, 3"""


def _plain(table: list[tuple]) -> list[tuple]:
    return [tuple(int(v) if isinstance(v, (int, float)) or hasattr(v, "as_integer_ratio") else str(v) for v in row)
            for row in table]


async def test_r_use_01_the_rollups_equal_the_stored_days_after_any_sequence_of_reports(client, sessionmaker,
                                                                                      platform):
    orgs = [await existing_customer(sessionmaker), await existing_customer(sessionmaker)]
    today = clock.today()
    rng = random.Random(2301)
    days = [today - timedelta(days=n) for n in range(5)]
    sent = []
    for _ in range(12):
        report = []
        for _ in range(rng.randint(1, 40)):
            busy = rng.random() < 0.6
            report.append(activity(rng.choice(orgs), rng.choice(days), rng.choice(["MEETINGS", "CALLING"]),
                                   f"k{rng.randint(1, 6)}", rng.randint(1, 5) if busy else 0,
                                   rng.choice([0, rng.randint(1, 90)]) if busy else 0))
        if sent and rng.random() < 0.25:
            report = rng.choice(sent)                       # a report sent again
        answer = await send(client, platform, report)
        assert answer.json() == {"accepted": len(report), "rejected": []}
        sent.append(report)
        keys = {"a": orgs[0], "b": orgs[1]}
        assert _plain(await rows(sessionmaker, TOTALS, **keys)) == _plain(
            await rows(sessionmaker, RECOMPUTED_TOTALS, **keys))
        assert _plain(await last_active(sessionmaker, *orgs)) == _plain(await rows(sessionmaker, RECOMPUTED_LAST, **keys))
