"""Issue 27 item 3: while the test clock is moved, every portal page says so."""
from __future__ import annotations

from datetime import timedelta

from server import clock
from server.enums import Role
from tests.factories import login


async def test_a_moved_test_clock_shows_on_every_page(client, sessionmaker, team):
    assert "Test clock" not in (await client.get("/login")).text
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=83))
    assert "Test clock: +83 days" in (await client.get("/login")).text
    await login(client, team.emails[Role.SALES_FULL_ADMIN])  # sessions last less than 83 days
    for path in ("/", "/customers", "/trials/new"):
        html = (await client.get(path, follow_redirects=True)).text
        assert "Test clock: +83 days" in html, path
    nb = await client.get("/customers", headers={"accept-language": "nb"})
    assert "+83 dager" in nb.text
