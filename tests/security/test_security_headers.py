"""Issue 16 item 1: the security headers on every kind of response (page, redirect, /graphql,
static file, 404, 403, 500), HSTS only in production, GraphiQL's own relaxed policy in dev."""
from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Route

from server import clock
from server.app import create_app
from server.enums import Role
from server.logging import configure as configure_logging
from server.middleware import CONTENT_SECURITY_POLICY
from server.settings import Settings
from tests import factories

EXPECTED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_secure(response: httpx.Response, *, policy: str = CONTENT_SECURITY_POLICY) -> None:
    for name, value in {**EXPECTED, "content-security-policy": policy}.items():
        assert response.headers.get_list(name) == [value], (response.request.url, name, response.headers)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # not in dev/test: plain http


def test_the_policy_allows_only_our_own_scripts_and_styles():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


async def test_security_headers_on_pages_graphql_static_and_errors(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    assert_secure(await client.get("/login"))                                   # a page, signed out
    assert_secure(await client.get("/customers"))                               # a redirect to /login
    assert_secure(await client.get("/static/app.css"))                          # a static file
    assert_secure(await client.get("/static/nope.js"))                          # a static 404
    assert_secure(await client.get("/no-such-page"))                            # a routing 404
    assert_secure(await client.post("/login", data={"email": "x@y.z"}))         # 403: no CSRF token
    token = team.tokens[Role.SALES_FULL_ADMIN]
    answer = await client.post("/graphql", json={"query": "{ viewer { email } }"},
                               headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert_secure(answer)                                                       # /graphql
    assert_secure(await client.post("/graphql", content=b"{", headers={"content-type": "application/json"}))
    await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
    page = await client.get("/customers")
    assert page.status_code == 200
    assert_secure(page)                                                         # a page, signed in


async def test_security_headers_on_an_unhandled_500(app):
    """A bug's 500 comes from Starlette's ServerErrorMiddleware, outside the user middleware: the
    headers middleware wraps it too."""
    async def boom(request):
        raise RuntimeError("a bug")

    route = Route("/test-boom", boom)
    app.router.routes.insert(0, route)
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/test-boom")
    finally:
        app.router.routes.remove(route)
    assert response.status_code == 500
    assert "RuntimeError" not in response.text
    assert_secure(response)


@pytest.fixture
def other_env(settings):
    """`other_env("production")`: an app built for another TRIALDESK_ENV (logging set back after)."""
    def make(env: str):
        values = {**settings.model_dump(by_alias=True), "TRIALDESK_ENV": env}
        if env == "production":
            values["TRIALDESK_TEST_CLOCK"] = False
        return create_app(Settings(**values))
    yield make
    configure_logging(settings.env)
    clock.configure(settings.test_clock)


async def test_hsts_only_in_production(other_env, client):
    assert "strict-transport-security" not in (await client.get("/static/app.css")).headers
    production = other_env("production")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=production), base_url="https://td") as c:
        response = await c.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


async def test_graphiql_in_dev_is_served_from_our_origin_under_the_same_policy(other_env):
    """Issue 27 item 14: GraphiQL's React and GraphiQL bundles are vendored (web/static/graphiql/), so
    the page names no third-party origin, has no inline script or style, and gets every page's CSP."""
    dev = other_env("dev")
    async with dev.router.lifespan_context(dev):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=dev), base_url="http://testserver") as c:
            page = await c.get("/graphql", headers={"Accept": "text/html"})
            api = await c.post("/graphql", json={"query": "{ __typename }"})
            assets = [await c.get(src) for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)]
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert_secure(page)
    assert "https://" not in page.text and "<style" not in page.text and not re.search(r"<script>", page.text)
    assert len(assets) >= 5 and all(a.status_code == 200 for a in assets), [str(a.url) for a in assets]
    assert_secure(api)
