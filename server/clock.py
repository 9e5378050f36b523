"""The only source of "now".

In production this is the wall clock. With TRIALDESK_TEST_CLOCK=1 an offset stored in the
database (table clock_state) is added, so web, worker and CLI agree on the moved time, like a
billing system's test clock: a 120-day trial life runs in a second.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

_offset = timedelta(0)
_enabled = False


def configure(test_clock: bool) -> None:
    global _enabled, _offset
    _enabled = test_clock
    _offset = timedelta(0)


def enabled() -> bool:
    return _enabled


def offset() -> timedelta:
    """How far the test clock is ahead of the wall clock (zero when it is off)."""
    return _offset if _enabled else timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def today():
    return now().date()


async def refresh(db: AsyncSession) -> datetime:
    """Load the shared offset (test clock only); called at the start of each request and job."""
    global _offset
    if _enabled:
        from server.db.models import ClockState

        seconds = await db.scalar(select(ClockState.offset_seconds).where(ClockState.id == 1))
        _offset = timedelta(seconds=seconds or 0)
    return now()


#: How far the test clock may move in all (fuzzing): further, dates leave what Python and
#: the databases represent ("date value out of range", a 500). Ten years covers every SPEC timeline.
MAX_OFFSET = timedelta(days=3650)


async def advance_by(db: AsyncSession, days: int, hours: int) -> datetime:
    """`advance` by whole days and hours as the API gives them: ValueError (a clear message)
    rather than an OverflowError when they are negative or beyond MAX_OFFSET."""
    if days < 0 or hours < 0:
        raise ValueError("The clock only moves forward.")
    if days * 24 + hours > MAX_OFFSET.days * 24:
        raise ValueError(f"The test clock moves at most {MAX_OFFSET.days} days in all.")
    return await advance(db, timedelta(days=days, hours=hours))


async def advance(db: AsyncSession, delta: timedelta) -> datetime:
    """Move the test clock forward. Refused unless the test clock is on, and beyond MAX_OFFSET."""
    global _offset
    if not _enabled:
        raise RuntimeError("the test clock is off (set TRIALDESK_TEST_CLOCK=1, never in production)")
    if delta < timedelta(0):
        raise ValueError("the clock only moves forward")
    from server.db.models import ClockState

    state = await db.get(ClockState, 1, with_for_update=True)
    if state is None:
        state = ClockState(id=1, offset_seconds=0)
        db.add(state)
    if timedelta(seconds=int(state.offset_seconds or 0)) + delta > MAX_OFFSET:
        raise ValueError(f"The test clock moves at most {MAX_OFFSET.days} days in all.")
    state.offset_seconds = int(state.offset_seconds or 0) + int(delta.total_seconds())
    _offset = timedelta(seconds=state.offset_seconds)
    return now()
