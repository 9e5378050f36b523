"""Lockout is not a weapon (issue 21): failed passwords throttle the client that sends them (per
account and per client address) and, for a guess spread over many clients, the account backs off;
the owner signs in from another client, or from a browser that signed in to the account before,
with the right password. Before: five wrong passwords from anywhere locked the account for 15
minutes, for its owner too. Unknown emails are throttled exactly like known ones."""
from __future__ import annotations

import re

import httpx

from server import clock
from server.auth import throttle
from server.enums import Role
from tests.factories import partner_team

WRONG = "wrong wrong wrong"
WRONG_MESSAGE = "Wrong email or password."


def from_address(app, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url="http://testserver")


async def attempt(client, email: str, password: str):
    token = re.search(r'name="csrf-token" content="([^"]*)"', (await client.get("/login")).text).group(1)
    return await client.post("/login", data={"email": email, "password": password, "csrf_token": token})


async def test_failures_from_one_client_do_not_lock_the_owner_out(app, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.SALES_ADMIN])
    email = team.emails[Role.SALES_ADMIN]
    async with from_address(app, "203.0.113.7") as attacker, from_address(app, "198.51.100.20") as owner:
        for _ in range(throttle.ACCOUNT_LIMIT):
            await attempt(attacker, email, WRONG)
        refused = await attempt(attacker, email, team.password)
        assert refused.status_code == 400 and throttle.LOCKED_MESSAGE in refused.text
        assert (await attempt(owner, email, team.password)).status_code == 303


async def test_a_distributed_guess_backs_the_account_off_but_not_the_owners_browser(app, sessionmaker, monkeypatch):
    # The back-off after BACKOFF_AFTER failures is one second: on a loaded machine the stranger's
    # attempt came after it had lapsed (a 303). The product's clock stands still for this test.
    frozen = clock.now()
    monkeypatch.setattr(clock, "now", lambda: frozen)
    team = await partner_team(sessionmaker, roles=[Role.SALES_ADMIN])
    email = team.emails[Role.SALES_ADMIN]
    async with from_address(app, "198.51.100.20") as owner:
        assert (await attempt(owner, email, team.password)).status_code == 303  # a familiar browser now
        for n in range(throttle.BACKOFF_AFTER):
            async with from_address(app, f"203.0.113.{n + 1}") as bot:
                await attempt(bot, email, WRONG)
        async with from_address(app, "203.0.113.200") as stranger:
            backed_off = await attempt(stranger, email, team.password)
        assert backed_off.status_code == 400 and throttle.LOCKED_MESSAGE in backed_off.text
        assert (await attempt(owner, email, team.password)).status_code == 303


async def test_an_unknown_email_is_throttled_like_a_known_one(app):
    ghost = "ghost@nowhere.example"
    async with from_address(app, "203.0.113.9") as attacker, from_address(app, "198.51.100.9") as other:
        answers = [(await attempt(attacker, ghost, WRONG)).text for _ in range(throttle.ACCOUNT_LIMIT)]
        assert all(WRONG_MESSAGE in a for a in answers[:-1]) and throttle.LOCKED_MESSAGE in answers[-1]
        assert WRONG_MESSAGE in (await attempt(other, ghost, WRONG)).text
