"""Partner sign-in with password, server-side sessions, logout, expiry, CSRF (issue 4)."""
from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest_asyncio
from sqlalchemy import select

from server import clock
from server.db.models import AuditEvent, WebSession
from server.enums import Role
from tests.factories import login, partner_team, trials_team_token

VIEWER = "{ viewer { email roles partner { name } } }"
GR = "application/graphql-response+json"


def meta_token(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


async def viewer(client, csrf_token: str | None = None) -> httpx.Response:
    headers = {"accept": GR}
    if csrf_token:
        headers["x-csrf-token"] = csrf_token
    return await client.post("/graphql", json={"query": VIEWER}, headers=headers)


@pytest_asyncio.fixture
async def team(sessionmaker):
    return await partner_team(sessionmaker)


async def test_login_page_carries_a_csrf_token_and_cookie(client):
    response = await client.get("/login")
    assert response.status_code == 200
    assert meta_token(response.text) and 'name="csrf_token"' in response.text
    cookie = response.headers["set-cookie"]
    assert "td_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_password_login_starts_a_session_and_lands_on_customers(client, team):
    token = meta_token((await client.get("/login")).text)
    response = await client.post("/login", data={"email": team.emails[Role.SALES_ADMIN], "password": team.password,
                                                 "csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/customers"
    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("td_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=43200" in cookie
    csrf = meta_token((await client.get("/login")).text)
    body = (await viewer(client, csrf)).json()
    assert body["data"]["viewer"]["email"] == team.emails[Role.SALES_ADMIN]
    assert body["data"]["viewer"]["roles"] == ["SALES_ADMIN"]


async def test_session_cookie_is_secure_outside_dev_and_test(settings):
    from server.auth.middleware import cookie_header

    production = settings.model_copy(update={"env": "production"})
    assert "Secure" in cookie_header(production, "td_session", "x")
    assert "Secure" not in cookie_header(settings, "td_session", "x")


async def test_table_stores_only_a_hash_of_the_session_id(client, team, sessionmaker):
    await login(client, team.emails[Role.READ_ONLY])
    raw = client.cookies["td_session"].split(".")[0]
    async with sessionmaker() as db:
        ids = list(await db.scalars(select(WebSession.id)))
    assert len(ids) == 1 and raw not in ids[0] and len(ids[0]) == 64


async def test_unknown_email_and_wrong_password_get_the_same_message(client, team):
    token = meta_token((await client.get("/login")).text)
    wrong = await client.post("/login", data={"email": team.emails[Role.SALES_ADMIN], "password": "nope nope nope",
                                              "csrf_token": token})
    unknown = await client.post("/login", data={"email": "nobody@nowhere.example", "password": "nope nope nope",
                                                "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong email or password." in wrong.text and "Wrong email or password." in unknown.text
    assert "td_session" not in client.cookies


async def test_login_form_without_csrf_token_is_rejected(client, team):
    await client.get("/login")
    response = await client.post("/login", data={"email": team.emails[Role.SALES_ADMIN], "password": team.password})
    assert response.status_code == 403 and "CSRF" in response.text
    assert "td_session" not in client.cookies


async def test_login_form_with_a_foreign_csrf_token_is_rejected(client, team, app):
    await client.get("/login")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        foreign = meta_token((await other.get("/login")).text)
    response = await client.post("/login", data={"email": team.emails[Role.SALES_ADMIN], "password": team.password,
                                                 "csrf_token": foreign})
    assert response.status_code == 403


async def test_graphql_cookie_post_without_csrf_header_is_403(client, team, sessionmaker):
    await login(client, team.emails[Role.SALES_ADMIN])
    response = await viewer(client)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"


async def test_graphql_cookie_post_with_wrong_csrf_header_is_403(client, team):
    await login(client, team.emails[Role.SALES_ADMIN])
    assert (await viewer(client, "not-the-token")).status_code == 403


async def test_graphql_bearer_needs_no_csrf_header(client, team):
    response = await client.post("/graphql", json={"query": VIEWER},
                                 headers={"authorization": f"Bearer {team.tokens[Role.SALES_ADMIN]}", "accept": GR})
    assert response.status_code == 200 and response.json()["data"]["viewer"]["roles"] == ["SALES_ADMIN"]


async def test_logout_revokes_the_session(client, team):
    csrf = await login(client, team.emails[Role.SALES_ADMIN])
    stolen = client.cookies["td_session"]
    response = await client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    client.cookies.set("td_session", stolen)  # the old cookie, replayed, opens nothing
    body = (await viewer(client, csrf)).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_without_csrf_token_is_rejected(client, team):
    await login(client, team.emails[Role.SALES_ADMIN])
    assert (await client.post("/logout")).status_code == 403


async def test_session_expires_after_twelve_hours(client, team, sessionmaker):
    csrf = await login(client, team.emails[Role.SALES_ADMIN])
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(hours=11, minutes=59))
    assert (await viewer(client, csrf)).json()["data"]["viewer"]
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(minutes=2))
    response = await viewer(client, csrf)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_tampered_session_cookie_is_anonymous(client, team):
    csrf = await login(client, team.emails[Role.SALES_ADMIN])
    client.cookies.set("td_session", client.cookies["td_session"] + "x")
    response = await client.post("/graphql", json={"query": VIEWER}, headers={"accept": GR, "x-csrf-token": csrf})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_trials_team_user_signs_in_as_trials_team(client, sessionmaker):
    await trials_team_token(sessionmaker)
    from server.db.models import User

    async with sessionmaker() as db:
        email = await db.scalar(select(User.email).where(User.partner_id.is_(None)))
    token = meta_token((await client.get("/login")).text)
    response = await client.post("/login", data={"email": email, "password": "correct horse battery staple",
                                                 "csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/trials-team"
    csrf = meta_token((await client.get("/login")).text)
    body = (await viewer(client, csrf)).json()
    assert body["data"]["viewer"] == {"email": email, "roles": ["TRIALS_TEAM"], "partner": None}


async def test_sign_in_is_audited(client, team, sessionmaker):
    await login(client, team.emails[Role.READ_ONLY])
    async with sessionmaker() as db:
        actions = list(await db.scalars(select(AuditEvent.action)))
    assert "session.signed_in" in actions
