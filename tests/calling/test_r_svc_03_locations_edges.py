"""R-SVC-03 calling locations and numbers at their edges: each refusal names the input it is about
(`userErrors.field`) and says what is wrong; postal codes by country and length; a location out of
reach answers NOT_FOUND on `locationId` whether it is missing or another partner's (R-ORG-02); and
R-TIME-06 for a trial of Calling alone. Written for mutants `make mutate` found surviving."""
from __future__ import annotations

from server.enums import Role
from server.schema.node import to_global_id
from tests.calling.test_calling import ADD, ASSIGN, US_ADDRESS, add_location, calling_trial, us_numbers
from tests.factories import partner_team
from tests.helpers import gql


def _errors(body: dict, name: str) -> list[tuple[str, list[str]]]:
    assert "errors" not in body, body
    return sorted((e["code"], e["field"]) for e in body["data"][name]["userErrors"])


async def test_r_svc_03_address_errors_name_their_fields(client, sessionmaker):
    """Kills: a field path of `addresses.check_address` changed (line1, city, postalCode, region), and
    the region required where it is not (or not where it is)."""
    t = await calling_trial(sessionmaker)

    async def add(address: dict) -> list[tuple[str, list[str]]]:
        body = await gql(client, ADD, {"c": t.customer_gid, "n": "HQ", "a": address, "tz": "America/New_York"},
                         token=t.sales)
        return _errors(body, "addCallingLocation")

    bad = ("INVALID_ADDRESS",)
    assert await add({**US_ADDRESS, "region": None}) == [(*bad, ["address", "region"])]
    assert await add({**US_ADDRESS, "region": "Narnia"}) == [(*bad, ["address", "region"])]
    assert await add({**US_ADDRESS, "line1": " ", "city": "", "postalCode": "ABC"}) == [
        (*bad, ["address", "city"]), (*bad, ["address", "line1"]), (*bad, ["address", "postalCode"])]
    norway = {"line1": "Karl Johans gate 1", "city": "Oslo", "postalCode": "0154", "country": "NO"}
    body = await gql(client, ADD, {"c": t.customer_gid, "n": "Oslo", "a": norway, "tz": "Europe/Oslo"}, token=t.sales)
    assert _errors(body, "addCallingLocation") == []  # no region needed in Norway


async def test_r_org_02_a_location_out_of_reach_is_not_found_on_location_id(client, sessionmaker):
    """Kills: the field or the noun of `numbers.get_location`'s NOT_FOUND changed, for a missing
    location and for another partner's (the same answer for both: R-ORG-02)."""
    t = await calling_trial(sessionmaker)
    location = await add_location(client, t)
    stranger = (await partner_team(sessionmaker)).tokens[Role.PARTNER_FULL_ADMIN]
    foreign = await gql(client, ASSIGN, {"l": location["id"], "n": us_numbers(1)}, token=stranger)
    missing = await gql(client, ASSIGN, {"l": to_global_id("Location", 999999), "n": us_numbers(1)}, token=t.sales)
    for body in (foreign, missing):
        assert _errors(body, "assignNumbers") == [("NOT_FOUND", ["locationId"])]
        assert body["data"]["assignNumbers"]["userErrors"][0]["message"] == "No such location."


async def test_r_svc_03_postal_codes_by_country_and_length(client, sessionmaker):
    """Kills: a country dropped from `addresses.POSTAL_CODES` (the Netherlands' "1234 AB" form no longer
    checked) and the postal code's length limit moved (21 characters accepted where 20 is the most)."""
    t = await calling_trial(sessionmaker)

    async def add(address: dict) -> list[tuple[str, list[str]]]:
        body = await gql(client, ADD, {"c": t.customer_gid, "n": "Office", "a": address, "tz": "Europe/Amsterdam"},
                         token=t.sales)
        return _errors(body, "addCallingLocation")

    amsterdam = {"line1": "Dam 1", "city": "Amsterdam", "postalCode": "1012 JS", "country": "NL"}
    assert await add({**amsterdam, "postalCode": "10123"}) == [("INVALID_ADDRESS", ["address", "postalCode"])]
    assert await add(amsterdam) == []
    dublin = {"line1": "1 O'Connell St", "city": "Dublin", "country": "IE"}  # no postal pattern for Ireland
    assert await add({**dublin, "postalCode": "D" * 21}) == [("INVALID_ADDRESS", ["address", "postalCode"])]
    assert await add({**dublin, "postalCode": "D" * 20}) == []


async def test_r_svc_03_refusals_say_what_and_where(client, sessionmaker):
    """Kills: the field of "no calling trial" (`numbers.add_location`: customerId) and the message of a
    number of another country (`numbers.normalize_number`) changed."""
    from tests.devices.kit import active_trial

    messaging = await active_trial(sessionmaker, services=("MESSAGING",))
    body = await gql(client, ADD, {"c": messaging.customer_gid, "n": "HQ", "a": US_ADDRESS, "tz": "America/New_York"},
                     token=messaging.sales)
    assert body["data"]["addCallingLocation"]["userErrors"] == [
        {"code": "INVALID_STATE", "field": ["customerId"], "message": "This customer has no calling trial to set up."}]
    t = await calling_trial(sessionmaker, trials_team=messaging.trials_team)
    location = await add_location(client, t)
    norwegian = await gql(client, ASSIGN, {"l": location["id"], "n": ["+47 22 33 44 55"]}, token=t.sales)
    assert norwegian["data"]["assignNumbers"]["userErrors"] == [
        {"code": "INVALID_PHONE_NUMBER", "field": ["numbers", "0"],
         "message": "'+47 22 33 44 55' is not a number of US, the location's country."}]


async def test_r_time_06_a_calling_only_trial_keeps_its_numbers_15_days(client, sessionmaker):
    """Kills: the "trial has Calling" test of `numbers.on_grace_end` negated (a trial of Calling alone
    would lose its numbers at the end of grace instead of keeping them 15 days)."""
    from datetime import timedelta

    from server.db.models import Trial
    from server.domain.calling import numbers as calling
    from tests.devices.kit import active_trial, advance

    t = await active_trial(sessionmaker, country="US", services=("CALLING",), pstn="PARTNER_DIDS", duration=30)
    location = await add_location(client, t)
    await gql(client, ASSIGN, {"l": location["id"], "n": us_numbers(1)}, token=t.sales)
    await advance(sessionmaker, 60)
    async with sessionmaker() as db, db.begin():
        trial = await db.get(Trial, t.trial_id)
        await calling.on_grace_end(db, trial)
        keep_until = (trial.grace_ends_at + timedelta(days=15)).date().isoformat()
    view = (await gql(client, "query($id: ID!) { node(id: $id) { ... on Location { numbers { status releaseAt } } } }",
                      {"id": location["id"]}, token=t.sales))["data"]["node"]
    assert [(n["status"], n["releaseAt"][:10]) for n in view["numbers"]] == [("RESERVED", keep_until)]
