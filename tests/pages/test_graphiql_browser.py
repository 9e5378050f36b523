"""Issue 27 item 14: GraphiQL works without the internet. Its React and GraphiQL bundles are served
from our origin (web/static/graphiql/) under every page's CSP; in Chromium the schema's docs open and
a query runs. `new_page` fails the test on any console error (a CSP violation is one) or failed
request, such as one to a third-party origin."""
from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx
import pytest

from server.enums import Role
from tests.pages.test_browser_flows import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def dev_server(settings, live_server):
    """`trialdesk serve` in dev (GraphiQL is dev only) on the test database."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(["uv", "run", "trialdesk", "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env={**os.environ, "TRIALDESK_ENV": "dev", "BASE_URL": url},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):  # until it serves, as the live_server fixture waits
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_graphiql_loads_from_our_origin_opens_the_docs_and_runs_a_query(browser, browser_problems, dev_server,
                                                                               team):
    context = await browser.new_context(base_url=dev_server, viewport={"width": 1280, "height": 900})
    context.on("page", browser_problems.watch)
    seen: set[str] = set()
    context.on("request", lambda request: seen.add(request.url.split("/")[2]))
    try:
        page = await context.new_page()
        await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
        await page.goto("/graphql", wait_until="networkidle")
        await page.click("button[aria-label='Show Documentation Explorer']")
        await page.wait_for_selector(".graphiql-doc-explorer >> text=Query")
        await page.click(".graphiql-query-editor .CodeMirror")
        await page.keyboard.press("Control+A")
        await page.keyboard.type("{ viewer { email } }")
        await page.click("button[aria-label='Execute query (Ctrl-Enter)']")
        await page.wait_for_selector(f".graphiql-response >> text={team.emails[Role.SALES_FULL_ADMIN]}")
        assert seen == {dev_server.split("/")[2]}                           # nothing from another origin
    finally:
        await context.close()
    assert browser_problems.problems == [], browser_problems.problems
