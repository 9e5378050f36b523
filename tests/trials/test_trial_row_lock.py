"""R-EXT-01 under concurrency: a trial write waits for another transaction's write to the same trial
and starts from what it left (`visibility.get_trial`'s SELECT ... FOR UPDATE and refresh), so two
extensions add up. PostgreSQL only: SQLite takes the whole database for a write."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from server.db.models import Trial
from tests.devices.kit import active_trial
from tests.helpers import gql
from tests.locks import until_waiting
from tests.trials.conftest import EXTEND

async def test_r_ext_01_an_extension_made_while_another_holds_the_trial_adds_to_it(client, sessionmaker, postgres):
    """Kills (fresh make mutate, checked with --backend postgres): get_trial's lock taken on the other
    trials (`Trial.id == trial.id` -> `!=`): the request read the end date before the other write
    committed, and its 30 days replaced the other's 30 instead of adding to them."""
    t = await active_trial(sessionmaker, duration=90)
    async with sessionmaker() as other, other.begin():
        trial = await other.scalar(select(Trial).where(Trial.id == t.trial_id).with_for_update())
        ends_at = trial.ends_at
        trial.ends_at, trial.grace_ends_at = ends_at + timedelta(days=30), ends_at + timedelta(days=60)
        await other.flush()                            # the other write, its row lock held
        request = asyncio.create_task(gql(client, EXTEND, {"t": t.trial_gid, "d": 30}, token=t.sales))
        await until_waiting(sessionmaker, request)  # until the request waits on the other's lock
    body = await request
    assert "errors" not in body and body["data"]["extendTrial"]["userErrors"] == [], body
    async with sessionmaker() as db:
        assert await db.scalar(select(Trial.ends_at).where(Trial.id == t.trial_id)) == ends_at + timedelta(days=60)
