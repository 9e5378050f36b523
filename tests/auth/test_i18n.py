"""The sign-in pages follow the portal language: the `td_locale` cookie (language switch), else Accept-Language."""
from __future__ import annotations

import re

from server import i18n
from server.enums import Role
from tests.factories import partner_team


def meta_token(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


async def attempt(client, email: str, password: str):
    token = meta_token((await client.get("/login")).text)
    return await client.post("/login", data={"email": email, "password": password, "csrf_token": token})


async def test_login_page_in_norwegian_after_the_language_switch(client, sessionmaker):
    token = meta_token((await client.get("/login")).text)
    switched = await client.post("/locale", data={"locale": "nb", "next": "/login", "csrf_token": token})
    assert switched.status_code == 303 and client.cookies.get(i18n.COOKIE) == "nb"
    page = await client.get("/login")
    assert page.status_code == 200 and '<html lang="nb">' in page.text
    assert "Logg på" in page.text and "E-post" in page.text and "Passord" in page.text
    assert 'name="csrf_token"' in page.text and "Password" not in page.text


async def test_failed_sign_in_in_norwegian_same_message_for_unknown_email(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.SALES_ADMIN])
    client.cookies.set(i18n.COOKIE, "nb")
    wrong = await attempt(client, team.emails[Role.SALES_ADMIN], "wrong wrong wrong")
    unknown = await attempt(client, "nobody@example.com", "wrong wrong wrong")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Feil e-postadresse eller passord." in response.text and "Wrong email or password." not in response.text


async def test_accept_language_norwegian_and_english_stays_english(client, sessionmaker):
    assert "Logg på med en lenke på e-post" in (await client.get("/my/login", headers={"accept-language": "nb"})).text
    page = await client.get("/login")
    assert '<html lang="en">' in page.text and "Sign in" in page.text and "Logg på" not in page.text
    failed = await attempt(client, "nobody@example.com", "wrong wrong wrong")
    assert failed.status_code == 400 and "Wrong email or password." in failed.text


async def test_dead_sign_in_link_in_norwegian(client):
    response = await client.get("/auth/magic/not-a-token", cookies={i18n.COOKIE: "nb"})
    assert response.status_code == 400 and "Denne påloggingslenken er ikke gyldig. Be om en ny." in response.text
