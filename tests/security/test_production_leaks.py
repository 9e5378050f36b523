"""Smaller leaks (issue 21): with TRIALDESK_ENV=production, a misspelt field, argument or enum value
is refused without graphql-core's "Did you mean …?" (with introspection off it spelt the schema out
to anyone guessing near a name); dev keeps the suggestions."""
from __future__ import annotations

from tests.api.test_hardening import _with_app, post, production_settings  # noqa: F401 - the fixture

MISSPELT_FIELD = "{ viewr { email } }"
MISSPELT_ENUM = "query($s: SubscriptionStatus) { customers(status: $s) { totalCount } }"


async def _ask(c, _app):
    field = await post(c, MISSPELT_FIELD)
    enum = await c.post("/graphql", json={"query": MISSPELT_ENUM, "variables": {"s": "TRIAL_ACTIV"}},
                        headers={"accept": "application/graphql-response+json"})
    return field, enum


async def test_no_field_suggestions_in_production(production_settings):
    field, enum = await _with_app(production_settings, _ask)
    assert field.status_code == 400 and enum.status_code == 400
    for response in (field, enum):
        message = response.json()["errors"][0]["message"]
        assert "Did you mean" not in message and "viewer" not in message and "TRIAL_ACTIVE'" not in message, message


async def test_dev_keeps_the_suggestions(client):
    field, enum = await _ask(client, None)
    assert "Did you mean 'viewer'?" in field.json()["errors"][0]["message"]
    assert "Did you mean" in enum.json()["errors"][0]["message"]
