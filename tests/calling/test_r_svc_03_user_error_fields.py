"""R-SVC-03 calling locations: each refusal names the input it is about (`userErrors.field`), so the
form can put the message beside that field; a location out of reach answers NOT_FOUND on `locationId`
whether it is missing or another partner's (R-ORG-02)."""
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
    """Kills: a field path of `numbers.check_address` changed (line1, city, postalCode, region), and
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
