"""Writes that outlive a refused transaction (the domain's `audit.keep`, the units of work of
server.schema.context): an organization look-up's count and audit event (R-EX-01) must stay when
the mutation that made it is refused and rolled back. Written again in a transaction of their own."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

KEY = "kept_after_rollback"


def keep(session: Any, write: Callable[[Any], Awaitable[None]]) -> None:
    """Do `write(session)` again, in a transaction of its own, if `session`'s transaction rolls back."""
    session.info.setdefault(KEY, []).append(write)


async def after_rollback(session: Any, sessionmaker: Any) -> None:
    """The kept writes of `session`'s rolled-back transaction, committed now."""
    kept = session.info.pop(KEY, [])
    if kept:
        async with sessionmaker() as fresh, fresh.begin():
            for write in kept:
                await write(fresh)


def after_commit(session: Any) -> None:
    """A committed transaction kept its writes: nothing to do again."""
    session.info.pop(KEY, None)
