"""A usage report from the platform (R-USE-01/02): NDJSON lines in, accepted and rejected out.

`POST /ingest/usage` (server.ingest) and `trialdesk usage import FILE` (server.cli) both call
`ingest`: the body is read chunk by chunk and each line is checked as soon as it is complete
(server.domain.usage.lines), so nothing holds the body whole; what is kept is one small tuple per
good line (at most 50,000). A body over 16 MiB or 50,000 lines stops the reading at once with
`TooLarge` and nothing is stored. Otherwise the org of every good line is checked in one query
(NOT_FOUND for an org that is not a customer or is RELEASED) and the good lines are written in one
transaction (server.domain.usage.storage.write) with their rollups; the bad lines are reported alone.
Only the platform (role PLATFORM) and the operator (the CLI, SYSTEM) may report usage.
"""
from __future__ import annotations

import functools
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import clock
from server.db.models import CustomerOrg
from server.domain.core.actor import Actor, ActorKind
from server.domain.core.errors import DomainError
from server.domain.timeline import set_based
from server.domain.usage import partitions, storage
from server.domain.usage.lines import Activity, Assignment, Reader, Rejection
from server.enums import ErrorCode, Role, SubscriptionStatus

MAX_BYTES = 16 * 1024 * 1024
MAX_LINES = 50_000


class TooLarge(Exception):
    """The body is over 16 MiB or 50,000 lines (HTTP 413): nothing is stored."""


@dataclass
class Report:
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    #: per-user rows written (0 when a batch is sent again)
    changed: int = 0

    def as_json(self) -> dict:
        return {"accepted": self.accepted, "rejected": [r.as_json() for r in self.rejected]}


def may_report(actor: Actor) -> bool:
    return actor.kind is ActorKind.SYSTEM or (actor.partner_id is None and Role.PLATFORM in actor.roles)


class Batch:
    """The lines of one report, read as the chunks arrive."""

    def __init__(self, today: date, decode_org: Callable[[str], int | None]) -> None:
        self.today = today
        self.decode_org = decode_org
        self.size = self.lines = 0
        self.rest = b""
        self.good: list[Activity | Assignment] = []
        self.rejected: list[Rejection] = []

    @property
    def decode_org(self) -> Callable[[str], int | None]:
        return self.reader.decode_org

    @decode_org.setter
    def decode_org(self, decode_org: Callable[[str], int | None]) -> None:
        """(The demo seed reads each org's lines with its own decoder.)"""
        self.reader = Reader(self.today, functools.lru_cache(maxsize=None)(decode_org))  # few orgs, many times

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_BYTES:
            raise TooLarge(f"The body is over {MAX_BYTES} bytes.")
        *complete, self.rest = (self.rest + chunk).split(b"\n")
        if self.lines + len(complete) > MAX_LINES:
            raise TooLarge(f"The body is over {MAX_LINES} lines.")
        read, good, rejected, number = self.reader.read, self.good, self.rejected, self.lines
        for raw in complete:                      # (self._line, inlined: 10,000 lines a report)
            number += 1
            line = read(raw, number)
            if type(line) is Rejection:
                rejected.append(line)
            elif line is not None:
                good.append(line)
        self.lines = number

    def close(self) -> None:
        if self.rest.strip():
            self._line(self.rest)
        self.rest = b""

    def _line(self, raw: bytes) -> None:
        self.lines += 1
        if self.lines > MAX_LINES:
            raise TooLarge(f"The body is over {MAX_LINES} lines.")
        read = self.reader.read(raw, self.lines)
        if read is None:
            return
        (self.rejected if type(read) is Rejection else self.good).append(read)

    def months(self) -> set[date]:
        return {partitions.month_of(day) for day in {line.day for line in self.good if type(line) is Activity}}


#: PostgreSQL: the orgs among $1 that may report, through the session's asyncpg connection (200 ids
#: a batch through SQLAlchemy's expanding IN took ~7 ms of the web process's CPU; this ~0.3 ms).
LIVE_ORGS = "SELECT id FROM customer_orgs WHERE id = ANY($1::bigint[]) AND subscription_status <> $2"


async def _live_orgs(db: AsyncSession, org_ids: set[int]) -> set[int]:
    """The customer orgs among `org_ids` that are not RELEASED (the others answer NOT_FOUND)."""
    if not org_ids:
        return set()
    if db.get_bind().dialect.name == "postgresql":
        driver = await set_based.driver(db)
        return {row[0] for row in await driver.fetch(LIVE_ORGS, sorted(org_ids), SubscriptionStatus.RELEASED.value)}
    rows = await db.scalars(select(CustomerOrg.id).where(
        CustomerOrg.id.in_(sorted(org_ids)), CustomerOrg.subscription_status != SubscriptionStatus.RELEASED.value))
    return set(rows)


async def store(db: AsyncSession, batch: Batch) -> Report:
    """Write a read batch's good lines (R-USE-01: the last line of a key replaces the earlier ones)."""
    orgs = {line[1] for line in batch.good}
    dead = orgs - await _live_orgs(db, orgs)
    report = Report(rejected=list(batch.rejected))
    activities: dict[tuple, Activity] = {}
    assignments: dict[tuple, Assignment] = {}
    for line in batch.good:
        if dead and line[1] in dead:
            report.rejected.append(Rejection(line.line, ErrorCode.NOT_FOUND.value, "org", "No such customer org."))
        elif type(line) is Activity:
            activities[line[1:5]] = line            # (org_id, day, service, user_key)
        else:
            assignments[line[1:4]] = line           # (org_id, day, service)
    report.accepted = len(batch.good) + len(batch.rejected) - len(report.rejected)
    report.rejected.sort(key=lambda r: r.line)
    report.changed = await storage.write(db, list(activities.values()), list(assignments.values()))
    return report


async def ingest(sessionmaker: async_sessionmaker, actor: Actor, chunks: AsyncIterable[bytes],
                 decode_org: Callable[[str], int | None]) -> Report:
    """Read, check and store one report. Raises DomainError(FORBIDDEN) for an actor that is not the
    platform, TooLarge for a body over the limits (nothing stored then)."""
    if not may_report(actor):
        raise DomainError(ErrorCode.FORBIDDEN, "Only the platform reports usage.")
    batch = Batch(clock.today(), decode_org)
    async for chunk in chunks:
        batch.feed(chunk)
    batch.close()
    months = batch.months()
    async with sessionmaker() as db:
        made = partitions.partitioned(db, months)
    for again in (False, True):
        if again or not made:  # PostgreSQL: a month not made yet (made here, in its own short transaction)
            async with sessionmaker() as db, db.begin():
                await partitions.ensure_partitions(db, months)
        try:
            async with sessionmaker() as db, db.begin():
                return await store(db, batch)
        except Exception as error:  # a month this process knew was dropped since (by hand): made again
            if again or not partitions.missing_partition(error):
                raise
    raise AssertionError("unreachable")
