"""Sign-in links (issue 21): `/my/login` sends at most LINKS_PER_ADDRESS links per address and lets
one client ask LINKS_PER_CLIENT times within 15 minutes, counted alike for known and unknown
addresses; the answer is the same page either way, and the link is looked up and queued after the
answer (the same work in the request). Before: 15 POSTs sent a customer admin 15 emails."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from server import clock
from server.auth import throttle
from server.db.models import OutboxEmail
from tests.factories import existing_customer

ADMIN = "boss@links.example"


async def ask(client, email: str):
    token = re.search(r'name="csrf-token" content="([^"]*)"', (await client.get("/my/login")).text).group(1)
    return await client.post("/my/login", data={"email": email, "csrf_token": token})


async def links_sent(sessionmaker, email: str = ADMIN) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(OutboxEmail)
                               .where(OutboxEmail.recipient == email, OutboxEmail.kind == "magic_link"))


async def test_an_address_gets_at_most_three_links_in_15_minutes(client, sessionmaker):
    await existing_customer(sessionmaker, admin_email=ADMIN)
    answers = {(await ask(client, ADMIN)).text for _ in range(15)}
    assert await links_sent(sessionmaker) == throttle.LINKS_PER_ADDRESS
    assert len({re.sub(r'content="[^"]*"|value="[^"]*"', "", text) for text in answers}) == 1  # same page
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, throttle.WINDOW * 2)
    await ask(client, ADMIN)
    assert await links_sent(sessionmaker) == throttle.LINKS_PER_ADDRESS + 1


async def test_a_client_asking_for_many_addresses_is_throttled(client, sessionmaker):
    await existing_customer(sessionmaker, admin_email=ADMIN)
    for n in range(throttle.LINKS_PER_CLIENT):
        assert (await ask(client, f"guess{n}@unknown.example")).status_code == 200
    assert (await ask(client, ADMIN)).status_code == 200
    assert await links_sent(sessionmaker) == 0
