"""R-USE-07: the daily evaluation of health runs in bounded transactions (server.domain.usage.daily):
the day's claim marks the trials to evaluate, then they are evaluated CHUNK per transaction; a worker
stopped midway leaves the rest due, and the next sweep evaluates them (the same day, no new claim)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server import clock
from server.db.models import TrialAdoptionHealth
from server.domain.usage import daily, evaluation
from tests.factories import partner_team
from tests.usage.test_adoption_changed import _trials


async def _rows(sessionmaker) -> tuple[int, int]:
    """(trials evaluated today, trials still due)."""
    h = TrialAdoptionHealth
    async with sessionmaker() as db:
        done = await db.scalar(select(func.count()).select_from(h).where(
            h.evaluated_on == clock.today(), h.health.is_not(None)))
        due = await db.scalar(select(func.count()).select_from(h).where(h.next_check_on <= clock.today()))
    return done, due


async def test_r_use_07_the_first_evaluation_runs_in_bounded_transactions_and_resumes(sessionmaker, monkeypatch):
    team = await partner_team(sessionmaker)
    await _trials(sessionmaker, team.partner_id, 10, started_days_ago=20)      # INACTIVE: no usage
    monkeypatch.setattr(evaluation, "CHUNK", 3)
    real, calls = evaluation.evaluate_trials, []

    async def stopped_after_two_chunks(db, today, trial_ids):
        calls.append(len(trial_ids))
        if len(calls) == 3:
            raise RuntimeError("the worker stops")
        return await real(db, today, trial_ids)

    monkeypatch.setattr(evaluation, "evaluate_trials", stopped_after_two_chunks)
    with pytest.raises(RuntimeError):
        await daily.run(sessionmaker)
    assert calls == [3, 3, 3]
    assert await _rows(sessionmaker) == (6, 4)             # two chunks committed, the rest still due

    monkeypatch.setattr(evaluation, "evaluate_trials", real)
    again = (await daily.run(sessionmaker))["adoption"]  # the next sweep, the same day: no claim, the rest
    assert again.evaluated == 4 and again.changes == []
    assert await _rows(sessionmaker) == (10, 0)
    assert await daily.run(sessionmaker) == {}
