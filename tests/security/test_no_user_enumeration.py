"""Issue 16 item 2: no user enumeration on sign-in. `/login` and `/my/login` answer a known email
(wrong password / a customer admin) and an unknown email with the same status and the same bytes
(one client, so the CSRF token in both pages is the same), and an unknown email costs an argon2
verification of the dummy hash, as a wrong password costs one of the user's hash."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from server.auth import passwords
from server.db.models import OutboxEmail
from server.enums import Role
from tests import factories


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


async def post_form(client, path: str, data: dict):
    token = csrf_of((await client.get(path)).text)
    return await client.post(path, data={**data, "csrf_token": token})


def same_answer(a, b) -> None:
    assert a.status_code == b.status_code
    assert a.headers["content-length"] == b.headers["content-length"]
    assert a.content == b.content


async def test_login_answers_a_wrong_password_and_an_unknown_email_byte_identically(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    known = team.emails[Role.SALES_ADMIN]
    wrong_password = await post_form(client, "/login", {"email": known, "password": "not the password at all"})
    unknown_email = await post_form(client, "/login", {"email": "nobody.at.all@nowhere.example",
                                                      "password": "not the password at all"})
    assert wrong_password.status_code == 400 and "Wrong email or password." in wrong_password.text
    same_answer(wrong_password, unknown_email)
    assert known not in wrong_password.text and "nobody.at.all" not in unknown_email.text


async def test_login_refusals_stay_identical_in_norwegian_and_for_a_deactivated_user(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    token = csrf_of((await client.post("/locale", data={"locale": "nb", "next": "/login",
                                                        "csrf_token": csrf_of((await client.get("/login")).text)},
                                       follow_redirects=True)).text)
    assert token
    from server.db.models import User

    async with sessionmaker() as db, db.begin():
        user = await db.get(User, team.user_ids[Role.READ_ONLY])
        user.active = False
    deactivated = await post_form(client, "/login", {"email": team.emails[Role.READ_ONLY], "password": team.password})
    unknown = await post_form(client, "/login", {"email": "ingen@ingensteds.example", "password": team.password})
    assert deactivated.status_code == 400 and 'lang="nb"' in deactivated.text
    same_answer(deactivated, unknown)


async def test_an_unknown_email_costs_one_argon2_verification_like_a_wrong_password(client, sessionmaker):
    """The suite's hasher (tests/conftest.py) is the real argon2id one, memoized: it remembers each
    (hash, password) pair it verified, so the dummy hash's verification is visible."""
    await post_form(client, "/login", {"email": "ghost@nowhere.example", "password": "a password for the dummy"})
    assert (passwords._dummy_hash(), "a password for the dummy") in passwords.hasher.outcomes


async def test_my_login_answers_a_customer_admin_and_an_unknown_email_byte_identically(client, sessionmaker):
    await factories.existing_customer(sessionmaker, admin_email="boss@fjord.example")
    admin = await post_form(client, "/my/login", {"email": "boss@fjord.example"})
    unknown = await post_form(client, "/my/login", {"email": "nobody@fjord.example"})
    assert admin.status_code == 200 and "sign-in link is on its way" in admin.text
    same_answer(admin, unknown)
    async with sessionmaker() as db:                                        # only the admin got an email
        assert await db.scalar(select(func.count()).select_from(OutboxEmail)) == 1
