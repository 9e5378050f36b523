"""Usage and adoption (SPEC §10): the platform's token, reports sent over HTTP, reads of the tables."""
from __future__ import annotations

from collections.abc import Iterable

import orjson
import pytest_asyncio
from sqlalchemy import select, text

from server.auth.tokens import hash_token, new_token
from server.domain.orgs import directory
from server.enums import Role
from server.schema.node import to_global_id
from tests.trials.conftest import kit  # noqa: F401 - the fixture, shared
from tests.timeline.conftest import life, runtime, smtp_sink  # noqa: F401 - the fixtures, shared

NDJSON = {"content-type": "application/x-ndjson"}


async def platform_token(sessionmaker, email: str = "usage@platform.example") -> str:
    """The platform's user (role PLATFORM, no partner) and a bearer token for it."""
    from server.db.models import User

    token = new_token()
    async with sessionmaker() as db, db.begin():
        user = await db.scalar(select(User).where(User.email == email))
        if user is None:
            user = await directory.create_user(db, email, [Role.PLATFORM], partner_id=None)
        await directory.create_api_token(db, user, hash_token(token), [Role.PLATFORM], "platform")
    return token


@pytest_asyncio.fixture
async def platform(sessionmaker) -> str:
    return await platform_token(sessionmaker)


def body(lines: Iterable) -> bytes:
    return b"".join((line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines)


async def send(client, token: str | None, lines: Iterable, headers: dict | None = None):
    h = dict(NDJSON)
    if token:
        h["authorization"] = f"Bearer {token}"
    h.update(headers or {})
    return await client.post("/ingest/usage", content=body(lines), headers=h)


def activity(org: int, day, service: str, user: str, events: int, minutes: int = 0) -> dict:
    return {"org": to_global_id("Customer", org), "day": str(day), "service": service, "user": user,
            "events": events, "minutes": minutes}


def assigned(org: int, day, service: str, count: int) -> dict:
    return {"org": to_global_id("Customer", org), "day": str(day), "service": service, "assignedLicenses": count}


async def rows(sessionmaker, sql: str, **params) -> list[tuple]:
    async with sessionmaker() as db:
        return [tuple(r) for r in (await db.execute(text(sql), params)).all()]


async def last_active(sessionmaker, *orgs: int) -> list[tuple]:
    """The last-active rollup of the orgs per user: (org, service, user, day), sorted."""
    from server.domain.usage import storage

    async with sessionmaker() as db:
        return await storage.last_active(db, orgs)
