"""Customer admins sign in by an emailed magic link: signed, bound to the email, 15 minutes, single use."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from server import clock
from server.db.models import CustomerUser, OutboxEmail
from server.schema.node import to_global_id
from tests.factories import existing_customer

VIEWER = "{ viewer { email roles partner { name } } }"


def meta_token(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


async def ask_for_link(client, email: str):
    token = meta_token((await client.get("/my/login")).text)
    return await client.post("/my/login", data={"email": email, "csrf_token": token})


async def emailed_link(sessionmaker, email: str) -> str:
    async with sessionmaker() as db:
        row = await db.scalar(select(OutboxEmail).where(OutboxEmail.recipient == email, OutboxEmail.kind == "magic_link"))
    return re.search(r"http://testserver(/auth/magic/\S+)", row.body_text).group(1)


async def test_asking_for_a_link_queues_an_email_for_a_customer_admin(client, sessionmaker):
    await existing_customer(sessionmaker, admin_email="boss@acme.example")
    response = await ask_for_link(client, "Boss@Acme.example")
    assert response.status_code == 200 and "sign-in link is on its way" in response.text
    assert (await emailed_link(sessionmaker, "boss@acme.example")).startswith("/auth/magic/")


async def test_unknown_email_gets_the_same_answer_and_no_email(client, sessionmaker):
    known = await ask_for_link(client, "nobody@nowhere.example")
    assert known.status_code == 200 and "sign-in link is on its way" in known.text
    async with sessionmaker() as db:
        assert (await db.scalar(select(OutboxEmail.id))) is None


async def test_link_form_without_csrf_token_is_rejected(client, sessionmaker):
    await existing_customer(sessionmaker, admin_email="boss@acme.example")
    await client.get("/my/login")
    assert (await client.post("/my/login", data={"email": "boss@acme.example"})).status_code == 403


async def test_magic_link_signs_the_customer_admin_in_and_lands_on_my(client, sessionmaker):
    customer_id = await existing_customer(sessionmaker, admin_email="boss@acme.example")
    await ask_for_link(client, "boss@acme.example")
    response = await client.get(await emailed_link(sessionmaker, "boss@acme.example"))
    assert response.status_code == 303 and response.headers["location"] == "/my"
    csrf = meta_token((await client.get("/my/login")).text)
    body = (await client.post("/graphql", json={"query": VIEWER}, headers={"x-csrf-token": csrf})).json()
    assert body["data"]["viewer"] == {"email": "boss@acme.example", "roles": [], "partner": None}
    own = to_global_id("Customer", customer_id)  # the session acts for this customer's org
    org = (await client.post("/graphql", json={"query": "query($c: ID!) { customer(id: $c) { id } }",
                                               "variables": {"c": own}}, headers={"x-csrf-token": csrf})).json()
    assert org == {"data": {"customer": {"id": own}}}


async def test_magic_link_works_only_once(client, sessionmaker):
    await existing_customer(sessionmaker, admin_email="boss@acme.example")
    await ask_for_link(client, "boss@acme.example")
    link = await emailed_link(sessionmaker, "boss@acme.example")
    assert (await client.get(link)).status_code == 303
    again = await client.get(link)
    assert again.status_code == 400 and "used already" in again.text


async def test_magic_link_expires_after_fifteen_minutes(client, sessionmaker):
    await existing_customer(sessionmaker, admin_email="boss@acme.example")
    await ask_for_link(client, "boss@acme.example")
    link = await emailed_link(sessionmaker, "boss@acme.example")
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(minutes=16))
    response = await client.get(link)
    assert response.status_code == 400 and "expired" in response.text
    assert "td_session" not in client.cookies


async def test_tampered_magic_link_is_a_clear_page(client):
    response = await client.get("/auth/magic/not-a-real-token")
    assert response.status_code == 400 and "not valid" in response.text


async def test_a_link_for_someone_no_longer_admin_opens_nothing(client, sessionmaker):
    await existing_customer(sessionmaker, admin_email="boss@acme.example")
    await ask_for_link(client, "boss@acme.example")
    link = await emailed_link(sessionmaker, "boss@acme.example")
    async with sessionmaker() as db, db.begin():
        person = await db.scalar(select(CustomerUser).where(CustomerUser.email == "boss@acme.example"))
        person.role = "USER"
    assert (await client.get(link)).status_code == 400
