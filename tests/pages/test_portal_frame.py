"""Issue 27 items 2 and 4: every portal page is in one frame (header, nav, account, sign out);
settings pages add their sub-navigation and breadcrumbs; a page a role may not use says why and
what to do, and the nav shows no link the role cannot use (R-ROLE-02)."""
from __future__ import annotations

import re

import pytest

from server.enums import Role
from tests.factories import login, partner_team
from tests.helpers import gql


def nav_links(html: str) -> list[str]:
    header = re.search(r"<header.*?</header>", html, re.S).group(0)
    return re.findall(r'<a href="([^"]+)"', header)


def current(html: str, nav_class: str) -> list[str]:
    nav = re.search(rf'<nav class="{nav_class}".*?</nav>', html, re.S).group(0)
    return re.findall(r'<a href="([^"]+)"\s+aria-current="page"', nav)


def in_frame(html: str, email: str) -> bool:
    return email in html and 'action="/logout"' in html and 'href="/customers"' in html


@pytest.fixture
async def admin(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    email = team.emails[Role.PARTNER_FULL_ADMIN]
    csrf = await login(client, email)
    return email, csrf


async def test_settings_pages_keep_the_portal_frame_with_settings_nav_and_breadcrumbs(client, admin):
    email, csrf = admin
    created = await gql(client, 'mutation { createWebhookEndpoint(url: "http://127.0.0.1:9/in", eventTypes: ["trial.started"], '
                        'description: "CRM") { webhookEndpoint { id } } }', headers={"x-csrf-token": csrf})
    endpoint = created["data"]["createWebhookEndpoint"]["webhookEndpoint"]["id"]
    sent = await gql(client, "mutation($id: ID!) { sendTestWebhook(endpointId: $id) { delivery { id } } }",
                     {"id": endpoint}, headers={"x-csrf-token": csrf})
    delivery = sent["data"]["sendTestWebhook"]["delivery"]["id"]
    pages = {"/settings/users": ("/settings/users", ["Users"]),
             "/settings/tokens": ("/settings/tokens", ["API tokens"]),
             "/settings/webhooks": ("/settings/webhooks", ["Webhooks"]),
             f"/settings/webhooks/{endpoint}": ("/settings/webhooks", ["Webhooks", "http://127.0.0.1:9/in"]),
             f"/settings/webhooks/deliveries/{delivery}": ("/settings/webhooks", ["Webhooks", "Endpoint", "webhook.test"])}
    for path, (section, crumbs) in pages.items():
        html = (await client.get(path)).text
        assert in_frame(html, email), path
        assert current(html, "subnav") == [section], path
        assert re.search(r'<header.*href="/settings/users"\s+aria-current="page".*</header>', html, re.S), path
        trail = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
        assert [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<li>(.*?)</li>", trail, re.S)] == ["Settings", *crumbs], path


@pytest.mark.parametrize(("role", "path", "why"), [
    (Role.READ_ONLY, "/trials/new", "Starting trials needs a sales role"),
    (Role.PARTNER_ADMIN, "/trials/existing", "Starting trials needs a sales role"),
    (Role.SALES_ADMIN, "/settings/users", "Ask your partner full admin"),
    (Role.SALES_FULL_ADMIN, "/settings/webhooks", "Ask your partner full admin"),
    (Role.PARTNER_ADMIN, "/settings/tokens", "Ask your partner full admin"),
    (Role.READ_ONLY, "/trials-team", "trials team, who ship and take back devices"),
])
async def test_r_role_02_a_refused_page_says_why_in_the_frame(client, sessionmaker, role, path, why):
    team = await partner_team(sessionmaker, roles=[role])
    await login(client, team.emails[role])
    response = await client.get(path)
    assert response.status_code == 403
    assert why in response.text and in_frame(response.text, team.emails[role])


async def test_r_role_02_a_refused_page_is_audited_on_the_embedded_default_too(client, sessionmaker):
    """The denial's audit row is written while the page's own read is open: on SQLite (BEGIN
    IMMEDIATE for every transaction) it used to wait out the busy timeout and fail."""
    from sqlalchemy import select

    from server.db.models import AuditEvent

    team = await partner_team(sessionmaker, roles=[Role.READ_ONLY])
    await login(client, team.emails[Role.READ_ONLY])
    assert (await client.get("/settings/tokens")).status_code == 403
    async with sessionmaker() as db:
        denied = (await db.scalars(select(AuditEvent.after).where(AuditEvent.action == "permission.denied"))).all()
    assert {"action": "apiTokens", "detail": ""} in denied


@pytest.mark.parametrize(("role", "shown", "hidden"), [
    (Role.PARTNER_FULL_ADMIN, {"/", "/customers", "/settings/users"}, {"/trials/new", "/trials-team"}),
    (Role.SALES_ADMIN, {"/", "/customers", "/trials/new"}, {"/settings/users", "/settings/webhooks", "/trials-team"}),
    (Role.READ_ONLY, {"/", "/customers"}, {"/trials/new", "/settings/users", "/settings/webhooks", "/trials-team"}),
])
async def test_r_role_02_nav_shows_only_what_the_role_may_use(client, sessionmaker, role, shown, hidden):
    team = await partner_team(sessionmaker, roles=[role])
    await login(client, team.emails[role])
    links = set(nav_links((await client.get("/customers")).text))
    assert shown <= links and not hidden & links, links


async def test_an_unknown_page_answers_not_found_in_the_frame(client, admin):
    email, _ = admin
    response = await client.get("/no-such-page", headers={"accept": "text/html"})
    assert response.status_code == 404 and in_frame(response.text, email)
    assert (await client.get("/static/no-such-file.css")).text == "Not Found"
