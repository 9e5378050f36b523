"""Login throttling per account and per IP, without revealing which emails exist."""
from __future__ import annotations

import re
from datetime import timedelta

from server import clock
from server.auth import throttle
from server.enums import Role
from tests.factories import partner_team


def meta_token(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


async def attempt(client, email: str, password: str):
    token = meta_token((await client.get("/login")).text)
    return await client.post("/login", data={"email": email, "password": password, "csrf_token": token})


async def test_five_failures_lock_the_account_even_for_the_right_password(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.SALES_ADMIN])
    email = team.emails[Role.SALES_ADMIN]
    for _ in range(4):
        assert "Wrong email or password." in (await attempt(client, email, "wrong wrong wrong")).text
    assert throttle.LOCKED_MESSAGE in (await attempt(client, email, "wrong wrong wrong")).text
    locked = await attempt(client, email, team.password)
    assert locked.status_code == 400 and throttle.LOCKED_MESSAGE in locked.text


async def test_lock_ends_after_fifteen_minutes(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.SALES_ADMIN])
    email = team.emails[Role.SALES_ADMIN]
    for _ in range(5):
        await attempt(client, email, "wrong wrong wrong")
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(minutes=16))
    assert (await attempt(client, email, team.password)).status_code == 303


async def test_unknown_email_locks_exactly_like_a_known_one(client):
    answers = [(await attempt(client, "ghost@nowhere.example", "wrong wrong wrong")).text for _ in range(5)]
    assert all("Wrong email or password." in a for a in answers[:4]) and throttle.LOCKED_MESSAGE in answers[4]


async def test_success_resets_the_account_counter(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.SALES_ADMIN])
    email = team.emails[Role.SALES_ADMIN]
    for _ in range(4):
        await attempt(client, email, "wrong wrong wrong")
    assert (await attempt(client, email, team.password)).status_code == 303
    await client.post("/logout", data={"csrf_token": meta_token((await client.get("/login")).text)})
    for _ in range(4):
        assert "Wrong email or password." in (await attempt(client, email, "wrong wrong wrong")).text


async def test_many_failures_from_one_ip_lock_that_ip(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.SALES_ADMIN])
    for n in range(throttle.IP_LIMIT):
        await attempt(client, f"spray{n}@nowhere.example", "wrong wrong wrong")
    response = await attempt(client, team.emails[Role.SALES_ADMIN], team.password)
    assert response.status_code == 400 and throttle.LOCKED_MESSAGE in response.text
