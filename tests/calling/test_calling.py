"""R-SVC-03 calling locations and numbers, R-TIME-06 number release, over GraphQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server import clock
from server.db.models import CustomerOrg, PhoneNumber, Trial
from server.domain.calling import numbers as calling
from server.enums import Role
from tests.devices.kit import active_trial, advance, codes, ok, run_due
from tests.factories import partner_team
from tests.helpers import gql

LOCATION = "location { id name country timeZone region postalCode numbers { e164 status releaseAt } }"
ADD = (f"mutation($c: ID!, $n: String!, $a: AddressInput!, $tz: String!) {{ addCallingLocation(customerId: $c, "
       f"name: $n, address: $a, timeZone: $tz) {{ {LOCATION} userErrors {{ code field message }} }} }}")
ASSIGN = (f"mutation($l: ID!, $n: [String!]!, $p: Boolean) {{ assignNumbers(locationId: $l, numbers: $n, port: $p) "
          f"{{ {LOCATION} userErrors {{ code field message }} }} }}")
REQUIREMENT = """query($t: ID!) { callingRequirement(trialId: $t) { pstn required assigned missing limit
  description } }"""
US_ADDRESS = {"line1": "1 Main St", "city": "San Jose", "postalCode": "95134", "region": "CA", "country": "US"}
NO_ADDRESS = {"line1": "Karl Johans gate 1", "city": "Oslo", "postalCode": "0154", "country": "NO"}


def us_numbers(count: int, start: int = 100) -> list[str]:
    return [f"+1212555{n:04d}" for n in range(start, start + count)]


async def calling_trial(sessionmaker, pstn="PARTNER_DIDS", country="US", **kw):
    return await active_trial(sessionmaker, country=country, services=("MESSAGING", "CALLING"), pstn=pstn, **kw)


async def add_location(client, t, name="HQ", address=US_ADDRESS, tz="America/Los_Angeles") -> dict:
    return ok(await gql(client, ADD, {"c": t.customer_gid, "n": name, "a": address, "tz": tz}, token=t.sales),
              "addCallingLocation", "location")


async def test_r_svc_03_location_address_and_time_zone_are_validated(client, sessionmaker):
    t = await calling_trial(sessionmaker)
    bad_tz = await gql(client, ADD, {"c": t.customer_gid, "n": "HQ", "a": US_ADDRESS, "tz": "Mars/Olympus"},
                       token=t.sales)
    assert codes(bad_tz, "addCallingLocation") == ["INVALID_TIME_ZONE"]
    no_state = await gql(client, ADD, {"c": t.customer_gid, "n": "HQ", "a": {**US_ADDRESS, "region": None,
                                                                             "postalCode": "ABC"},
                                       "tz": "America/New_York"}, token=t.sales)
    assert sorted(codes(no_state, "addCallingLocation")) == ["INVALID_ADDRESS", "INVALID_ADDRESS"]
    bad_region = await gql(client, ADD, {"c": t.customer_gid, "n": "HQ", "a": {**US_ADDRESS, "region": "Narnia"},
                                         "tz": "America/New_York"}, token=t.sales)
    assert codes(bad_region, "addCallingLocation") == ["INVALID_ADDRESS"]
    bad_country = await gql(client, ADD, {"c": t.customer_gid, "n": "HQ", "a": {**US_ADDRESS, "country": "XX"},
                                          "tz": "America/New_York"}, token=t.sales)
    assert codes(bad_country, "addCallingLocation") == ["INVALID_COUNTRY"]
    location = await add_location(client, t)
    assert location["region"] == "US-CA" and location["timeZone"] == "America/Los_Angeles"
    customer = await gql(client, "query($id: ID!) { customer(id: $id) { locations { id } } }", {"id": t.customer_gid},
                         token=t.sales)
    assert [x["id"] for x in customer["data"]["customer"]["locations"]] == [location["id"]]


async def test_r_svc_03_numbers_are_e164_of_the_locations_country(client, sessionmaker):
    t = await calling_trial(sessionmaker)
    location = await add_location(client, t)
    bad = await gql(client, ASSIGN, {"l": location["id"], "n": ["(212) 555-0100", "+47 22 33 44 55", "banana"]},
                    token=t.sales)
    assert codes(bad, "assignNumbers") == ["INVALID_PHONE_NUMBER", "INVALID_PHONE_NUMBER"]
    assert [e["field"] for e in bad["data"]["assignNumbers"]["userErrors"]] == [["numbers", "1"], ["numbers", "2"]]
    async with sessionmaker() as db:
        assert list(await db.scalars(select(PhoneNumber))) == []
    good = ok(await gql(client, ASSIGN, {"l": location["id"], "n": ["(212) 555-0100", "212.555.0101"]}, token=t.sales),
              "assignNumbers", "location")
    assert [(n["e164"], n["status"]) for n in good["numbers"]] == [("+12125550100", "ASSIGNED"),
                                                                   ("+12125550101", "ASSIGNED")]


async def test_r_svc_03_numbers_are_unique_on_the_platform(client, sessionmaker):
    t = await calling_trial(sessionmaker)
    ok(await gql(client, ASSIGN, {"l": (await add_location(client, t))["id"], "n": ["+12125550100"]}, token=t.sales),
       "assignNumbers", "location")
    other = await calling_trial(sessionmaker, trials_team=t.trials_team)
    body = await gql(client, ASSIGN, {"l": (await add_location(client, other))["id"], "n": ["+1 212 555 0100"]},
                     token=other.sales)
    assert codes(body, "assignNumbers") == ["NUMBER_TAKEN"]


async def test_r_svc_03_calling_plan_gets_at_most_10_numbers_and_no_porting(client, sessionmaker):
    t = await calling_trial(sessionmaker, pstn="CALLING_PLAN")
    location = await add_location(client, t)
    port = await gql(client, ASSIGN, {"l": location["id"], "n": us_numbers(1), "p": True}, token=t.sales)
    assert codes(port, "assignNumbers") == ["PORTING_NOT_ALLOWED"]
    eleven = await gql(client, ASSIGN, {"l": location["id"], "n": us_numbers(11)}, token=t.sales)
    assert codes(eleven, "assignNumbers") == ["NUMBER_LIMIT"]
    ok(await gql(client, ASSIGN, {"l": location["id"], "n": us_numbers(10)}, token=t.sales), "assignNumbers", "location")
    one_more = await gql(client, ASSIGN, {"l": location["id"], "n": us_numbers(1, start=200)}, token=t.sales)
    assert codes(one_more, "assignNumbers") == ["NUMBER_LIMIT"]
    requirement = (await gql(client, REQUIREMENT, {"t": t.trial_gid}, token=t.sales))["data"]["callingRequirement"]
    assert requirement["limit"] == 10 and requirement["assigned"] == 10


async def test_r_svc_03_partner_dids_need_one_per_user_plus_two_per_location(client, sessionmaker):
    t = await calling_trial(sessionmaker, licenses=12)
    hq = await add_location(client, t)
    await add_location(client, t, name="Branch", address={**US_ADDRESS, "region": "US-NY", "postalCode": "10001"},
                       tz="America/New_York")
    ok(await gql(client, ASSIGN, {"l": hq["id"], "n": us_numbers(10)}, token=t.sales), "assignNumbers", "location")
    requirement = (await gql(client, REQUIREMENT, {"t": t.trial_gid}, token=t.sales))["data"]["callingRequirement"]
    assert requirement["pstn"] == "PARTNER_DIDS"
    assert (requirement["required"], requirement["assigned"], requirement["missing"]) == (16, 10, 6)
    assert "6 missing" in requirement["description"]


async def test_r_svc_03_ccp_needs_no_numbers(client, sessionmaker):
    t = await calling_trial(sessionmaker, pstn="CCP")
    requirement = (await gql(client, REQUIREMENT, {"t": t.trial_gid}, token=t.sales))["data"]["callingRequirement"]
    assert (requirement["required"], requirement["missing"]) == (0, 0)


async def test_r_org_02_another_partners_location_answers_not_found(client, sessionmaker):
    t = await calling_trial(sessionmaker)
    location = await add_location(client, t)
    stranger = await partner_team(sessionmaker)
    token = stranger.tokens[Role.PARTNER_FULL_ADMIN]
    assert codes(await gql(client, ASSIGN, {"l": location["id"], "n": us_numbers(1)}, token=token),
                 "assignNumbers") == ["NOT_FOUND"]
    assert codes(await gql(client, ADD, {"c": t.customer_gid, "n": "X", "a": US_ADDRESS, "tz": "America/New_York"},
                           token=token), "addCallingLocation") == ["NOT_FOUND"]
    node = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": location["id"]}, token=token)
    assert node["data"]["node"] is None
    mine = await gql(client, "query($id: ID!) { node(id: $id) { ... on Location { name } } }", {"id": location["id"]},
                     token=t.sales)
    assert mine["data"]["node"] == {"name": "HQ"}


async def test_r_svc_03_no_calling_trial_no_locations(client, sessionmaker):
    t = await active_trial(sessionmaker, services=("MESSAGING",))
    body = await gql(client, ADD, {"c": t.customer_gid, "n": "HQ", "a": US_ADDRESS, "tz": "America/New_York"},
                     token=t.sales)
    assert codes(body, "addCallingLocation") == ["INVALID_STATE"]


async def test_r_time_06_calling_life_numbers_released_15_days_after_grace(client, sessionmaker):
    """90-day trial, 2 locations, 12 users: grace ends day 120, numbers released day 135, then reusable."""
    t = await calling_trial(sessionmaker, country="NO", licenses=12, duration=90)
    oslo = await add_location(client, t, name="Oslo", address=NO_ADDRESS, tz="Europe/Oslo")
    bergen = await add_location(client, t, name="Bergen", address={**NO_ADDRESS, "city": "Bergen", "postalCode": "5003"},
                                tz="Europe/Oslo")
    numbers = [f"+47 22 00 00 {n:02d}" for n in range(16)]
    ok(await gql(client, ASSIGN, {"l": oslo["id"], "n": numbers[:14]}, token=t.sales), "assignNumbers", "location")
    ok(await gql(client, ASSIGN, {"l": bergen["id"], "n": numbers[14:]}, token=t.sales), "assignNumbers", "location")
    requirement = (await gql(client, REQUIREMENT, {"t": t.trial_gid}, token=t.sales))["data"]["callingRequirement"]
    assert (requirement["required"], requirement["missing"]) == (16, 0)

    await advance(sessionmaker, 120)
    async with sessionmaker() as db, db.begin():     # the GRACE_END deadline's calling hook
        trial = await db.get(Trial, t.trial_id)
        await calling.on_grace_end(db, trial)
        await calling.on_grace_end(db, trial)         # a replay changes nothing
        grace_end = trial.grace_ends_at
    view = (await gql(client, "query($id: ID!) { node(id: $id) { ... on Location { numbers { status releaseAt } } } }",
                      {"id": oslo["id"]}, token=t.sales))["data"]["node"]
    assert {n["status"] for n in view["numbers"]} == {"RESERVED"}
    assert {n["releaseAt"][:10] for n in view["numbers"]} == {(grace_end + timedelta(days=15)).date().isoformat()}

    await advance(sessionmaker, 14)                  # day 134: still kept
    assert await run_due(sessionmaker, kinds={"number_release"}) == []
    await advance(sessionmaker, 1)                   # day 135: released, once
    assert await run_due(sessionmaker, kinds={"number_release"}) == ["number_release"]
    assert await run_due(sessionmaker, kinds={"number_release"}) == []
    async with sessionmaker() as db:
        rows = list(await db.scalars(select(PhoneNumber).where(PhoneNumber.customer_id == t.customer_id)))
    assert len(rows) == 16 and {r.status for r in rows} == {"RELEASED"}
    assert all(r.released_at.date() == clock.today() for r in rows)

    other = await calling_trial(sessionmaker, country="NO", trials_team=t.trials_team)
    location = await add_location(client, other, name="Oslo", address=NO_ADDRESS, tz="Europe/Oslo")
    reused = ok(await gql(client, ASSIGN, {"l": location["id"], "n": numbers[:2]}, token=other.sales),
                "assignNumbers", "location")
    assert [n["status"] for n in reused["numbers"]] == ["ASSIGNED", "ASSIGNED"]


async def test_r_conv_01_converting_keeps_calling_config_and_numbers(client, sessionmaker):
    t = await calling_trial(sessionmaker, country="US", licenses=3)
    location = await add_location(client, t)
    ok(await gql(client, ASSIGN, {"l": location["id"], "n": us_numbers(3)}, token=t.sales), "assignNumbers", "location")
    async with sessionmaker() as db:
        admin = (await db.get(CustomerOrg, t.customer_id)).admin_email
    convert = """mutation($t: ID!, $e: String!) { convertTrial(trialId: $t, orderNumber: "SO-1", provisioningEmail: $e,
      services: [MESSAGING, CALLING]) { trial { state services { type calling { pstn } } } userErrors { code } } }"""
    body = await gql(client, convert, {"t": t.trial_gid, "e": admin}, token=t.team.tokens[Role.PARTNER_FULL_ADMIN])
    trial = ok(body, "convertTrial", "trial")
    assert trial["state"] == "CONVERTED"
    assert {"type": "CALLING", "calling": {"pstn": "PARTNER_DIDS"}} in trial["services"]
    await advance(sessionmaker, 200)
    await run_due(sessionmaker)
    numbers = await gql(client, "query($id: ID!) { node(id: $id) { ... on Location { numbers { status } } } }",
                        {"id": location["id"]}, token=t.sales)
    assert [n["status"] for n in numbers["data"]["node"]["numbers"]] == ["ASSIGNED"] * 3
    more = await gql(client, ASSIGN, {"l": location["id"], "n": us_numbers(1, start=300)}, token=t.sales)
    assert codes(more, "assignNumbers") == []


async def calling_life_to_grace_end(client, sessionmaker, numbers=("+4722000001", "+4722000002")):
    """A 90-day calling trial in Oslo with `numbers`, played through its deadlines' handlers to the
    end of grace (day 120): (the arrangement, the location)."""
    from server.domain.timeline import deadlines as timeline

    t = await calling_trial(sessionmaker, country="NO", licenses=12, duration=90)
    async with sessionmaker() as db, db.begin():
        await timeline.plan_trial(db, await db.get(Trial, t.trial_id))
    oslo = await add_location(client, t, name="Oslo", address=NO_ADDRESS, tz="Europe/Oslo")
    ok(await gql(client, ASSIGN, {"l": oslo["id"], "n": list(numbers)}, token=t.sales), "assignNumbers", "location")
    for days in (83, 7, 30):                                 # warning, expiry, end of grace
        await advance(sessionmaker, days)
        await run_due(sessionmaker)
    return t, oslo


async def test_r_time_06_grace_end_deadline_stops_calling_through_the_sweep_handlers(client, sessionmaker):
    """The same life driven only by deadlines: the trial's GRACE_END handler reserves, NUMBER_RELEASE frees."""
    t, _ = await calling_life_to_grace_end(client, sessionmaker)
    async with sessionmaker() as db:
        assert (await db.get(Trial, t.trial_id)).state == "RELEASED"
        assert {n.status for n in await db.scalars(select(PhoneNumber))} == {"RESERVED"}
    await advance(sessionmaker, 15)
    assert "number_release" in await run_due(sessionmaker)
    async with sessionmaker() as db:
        assert {n.status for n in await db.scalars(select(PhoneNumber))} == {"RELEASED"}
