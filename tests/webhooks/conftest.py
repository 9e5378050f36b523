"""Webhook test setup: a real HTTP receiver on a loopback port, the worker's runtime, an endpoint
made through the API, and the README's signature recipe."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
import pytest_asyncio

from jobs.runtime import Runtime
from server.enums import Role
from tests.factories import partner_team
from tests.helpers import gql
from tests.webhooks.receiver import Receiver

CREATE = """mutation($url: String!, $types: [String!]!, $description: String!) {
  createWebhookEndpoint(url: $url, eventTypes: $types, description: $description) {
    secret webhookEndpoint { id url eventTypes enabled secretHint } userErrors { code field message } } }"""


def verify(secret: str, headers: dict[str, str], body: str) -> bool:
    """The README's recipe, as a receiver would write it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s.removeprefix("v1,")) for s in headers["webhook-signature"].split())


@pytest_asyncio.fixture
async def receiver():
    started = await Receiver().start()
    yield started
    await started.stop()


@pytest.fixture
def runtime(app, settings) -> Runtime:
    return Runtime(settings=settings, engine=app.state.engine, sessionmaker=app.state.sessionmaker)


@pytest_asyncio.fixture
async def team(sessionmaker):
    return await partner_team(sessionmaker)


async def create_endpoint(client, token: str, url: str, types: list[str] | None = None, description: str = "CRM"):
    """(endpoint global ID, secret) of a new endpoint made over GraphQL."""
    from server.domain.webhooks.events import CATALOGUE

    body = await gql(client, CREATE, {"url": url, "types": types or list(CATALOGUE), "description": description},
                     token=token)
    payload = body["data"]["createWebhookEndpoint"]
    assert payload["userErrors"] == [], payload
    return payload["webhookEndpoint"]["id"], payload["secret"]


def admin(team) -> str:
    return team.tokens[Role.PARTNER_FULL_ADMIN]
