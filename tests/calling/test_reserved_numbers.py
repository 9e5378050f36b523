"""R-TIME-06 (issue 16 item 7): between the end of grace and the numbers' release each number reads
RESERVED with its release date, over GraphQL and in the calling section of the customer's page,
also after the org was released whole (R-TIME-05 leaves it readable); 15 days later RELEASED."""
from __future__ import annotations

from datetime import date, timedelta

from babel.dates import format_date

from sqlalchemy import select

from server.db.models import CustomerOrg, Trial
from server.enums import Role
from tests.calling.test_calling import calling_life_to_grace_end
from tests.devices.kit import advance, run_due
from tests.factories import login
from tests.helpers import gql


def shown(day: str) -> str:
    """A date as the page shows it (issue 27 item 7: in the reader's locale, English here)."""
    return format_date(date.fromisoformat(day), "medium", locale="en")

NUMBERS = """query($id: ID!) { customer(id: $id) { locations { name numbers { e164 status releaseAt } } } }"""
LOCATION = "query($id: ID!) { node(id: $id) { ... on Location { numbers { e164 status releaseAt } } } }"


async def test_r_time_06_reserved_numbers_show_their_release_date_until_released(client, sessionmaker):
    t, oslo = await calling_life_to_grace_end(client, sessionmaker, ("+4722000001", "+4722000002"))
    async with sessionmaker() as db:
        trial = await db.get(Trial, t.trial_id)
        assert trial.state == "RELEASED"
        assert (await db.scalar(select(CustomerOrg.managing_partner_id).where(CustomerOrg.id == t.customer_id))) is None
        release_day = (trial.grace_ends_at + timedelta(days=15)).date().isoformat()

    reserved = [{"e164": n, "status": "RESERVED", "releaseAt": release_day} for n in ("+4722000001", "+4722000002")]
    for role in (Role.SALES_ADMIN, Role.READ_ONLY):
        located = (await gql(client, NUMBERS, {"id": t.customer_gid}, token=t.team.tokens[role]))["data"]["customer"]
        assert [{**n, "releaseAt": n["releaseAt"][:10]} for n in located["locations"][0]["numbers"]] == reserved
        by_id = (await gql(client, LOCATION, {"id": oslo["id"]}, token=t.team.tokens[role]))["data"]["node"]
        assert [{**n, "releaseAt": n["releaseAt"][:10]} for n in by_id["numbers"]] == reserved

    await login(client, t.team.emails[Role.SALES_ADMIN], t.team.password)
    page = (await client.get(f"/customers/{t.customer_gid}")).text
    calling = page[page.index('id="calling-h"'):]
    for number in ("+4722000001", "+4722000002"):
        assert f"{number} <span class=\"badge\">Reserved</span> kept until {shown(release_day)}, then released" in calling
    assert "Assign numbers" not in calling and "Add a calling location" not in calling

    await advance(sessionmaker, 14)                          # day 134: still kept
    assert "number_release" not in await run_due(sessionmaker)
    await advance(sessionmaker, 1)                           # day 135: released
    assert "number_release" in await run_due(sessionmaker)
    located = (await gql(client, NUMBERS, {"id": t.customer_gid}, token=t.sales))["data"]["customer"]
    assert {n["status"] for n in located["locations"][0]["numbers"]} == {"RELEASED"}
    await login(client, t.team.emails[Role.SALES_ADMIN], t.team.password)     # 15 days on: a new session
    page = (await client.get(f"/customers/{t.customer_gid}")).text
    assert f"+4722000001 <span class=\"badge\">Released</span> released on {shown(release_day)}" in page
