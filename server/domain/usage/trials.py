"""The adoption of trials named by id, read in a few statements per thousand trials: what the worker
reads when it sends a trial's warning emails (R-USE-06, `report`) and when it evaluates health
(R-USE-07, `evaluation`). Decided by `adoption.summary`, the one function every read path uses, over
`sql.last_active_by_trial`, the statement the API's reference path reads.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Trial, TrialService
from server.domain.timeline import set_based
from server.domain.usage import adoption, sql

CHUNK = 1000


@dataclass(frozen=True)
class TrialAdoption:
    """A trial's columns adoption reads, its users' last active days and what they decide."""
    trial_id: int
    customer_id: int
    partner_id: int
    state: str
    starts_at: datetime | None
    license_count: int
    last_days: tuple[date, ...]
    summary: adoption.Summary


def chunks(ids: Iterable[int], size: int = CHUNK) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


async def read(db: AsyncSession, trial_ids: Iterable[int], today: date) -> dict[int, TrialAdoption]:
    """Each existing trial among `trial_ids`, at `today`."""
    found: dict[int, TrialAdoption] = {}
    for chunk in chunks(trial_ids):
        t = Trial.__table__.c
        trials = (await db.execute(select(t.id, t.customer_id, t.partner_id, t.state, t.starts_at, t.license_count)
                                   .where(set_based.among(db, t.id, chunk)))).all()
        lasts: dict[int, list[date]] = {}
        for row in (await db.execute(sql.last_active_by_trial(lambda column: set_based.among(db, column, chunk)))).all():
            if row.last_active_on is not None:
                lasts.setdefault(row.trial_id, []).append(_day(row.last_active_on))
        for trial_id, customer_id, partner_id, state, starts_at, licenses in trials:
            days = tuple(lasts.get(trial_id, ()))
            found[trial_id] = TrialAdoption(trial_id, customer_id, partner_id, state, starts_at, licenses, days,
                                            adoption.summary(state, starts_at, licenses, days, today))
    return found


async def services(db: AsyncSession, trial_ids: Iterable[int]) -> dict[int, list[tuple[str, int | None]]]:
    """Each trial's current services in the trial's order, with their license counts."""
    found: dict[int, list[tuple[str, int | None]]] = {}
    for chunk in chunks(trial_ids):
        s = TrialService.__table__.c
        for trial_id, service, licenses in (await db.execute(
                select(s.trial_id, s.service, s.license_count).where(
                    set_based.among(db, s.trial_id, chunk), s.removed_at.is_(None)).order_by(s.id))).all():
            found.setdefault(trial_id, []).append((service, licenses))
    return found
