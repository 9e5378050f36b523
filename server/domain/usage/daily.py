"""The usage work of each day, run by the worker's sweep (jobs/sweep.py) once per day (the first
sweep of a UTC day by the clock claims it in `usage_runs`, so two workers never both run it):
partitions made ahead and retention (server.domain.usage.partitions, R-USE-08), then the evaluation of
trials' health (server.domain.usage.evaluation, R-USE-07), each claimed on its own: the claim
marks the trials to evaluate, then they are evaluated 1,000 per transaction (those a stopped worker
left due are evaluated by the next sweep, claimed or not)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import clock
from server.domain.usage import evaluation, partitions

_CLAIM = text("INSERT INTO usage_runs (name, day) VALUES (:name, :today) "
              "ON CONFLICT (name) DO UPDATE SET day = excluded.day WHERE usage_runs.day < excluded.day "
              "RETURNING name")


_LAST = text("SELECT day FROM usage_runs WHERE name = :name")


async def claim(db: AsyncSession, name: str, today: date) -> bool:
    """True once per day and name: the caller runs that day's job (in the same transaction)."""
    return (await db.execute(_CLAIM, {"name": name, "today": today})).first() is not None


async def last_run(db: AsyncSession, name: str) -> date | None:
    """The day the job `name` last ran (None: never)."""
    day = await db.scalar(_LAST, {"name": name})
    return day if day is None or isinstance(day, date) else date.fromisoformat(day)


async def run(sessionmaker: async_sessionmaker) -> dict:
    """Today's partitions and retention, then the evaluation of health, each when not done yet today;
    what was created, dropped and evaluated."""
    done: dict = {}
    async with sessionmaker() as db, db.begin():
        today = (await clock.refresh(db)).date()
        if await claim(db, "partitions", today):
            done["created"] = await partitions.ensure_partitions(db, partitions.months_needed(today))
            done["dropped"] = await partitions.retention(db, today)
    async with sessionmaker() as db, db.begin():
        today = (await clock.refresh(db)).date()
        last = await last_run(db, "adoption_health")
        claimed = await claim(db, "adoption_health", today)
        if claimed:
            await evaluation.mark(db, today, last)
    report = evaluation.Evaluation()
    while True:                                    # the due trials, 1,000 a transaction
        async with sessionmaker() as db, db.begin():
            due = await evaluation.due(db, today)
            if due:
                report.add(await evaluation.evaluate_trials(db, today, due))
        if not due:
            break
    if claimed or report.evaluated:
        done["adoption"] = report
    return done
