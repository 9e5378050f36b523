"""Page test fixtures: a partner team signed in through the real `/login` form."""
from __future__ import annotations

import re

import pytest_asyncio

from server.enums import Role
from tests import factories


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


@pytest_asyncio.fixture
async def team(sessionmaker):
    return await factories.partner_team(sessionmaker)


@pytest_asyncio.fixture
async def sales(client, team):
    """The client signed in as the team's sales admin; yields the session's CSRF token."""
    return await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)


# --- Browser tests: a live server and Debian's Chromium -------------------------------------------
import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


@pytest.fixture(scope="session")
def live_server(settings, app):
    """`trialdesk serve` on a free port, on the test database (the settings fixture exported the env)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "BASE_URL": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen(["uv", "run", "trialdesk", "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code in (200, 503):
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest_asyncio.fixture(scope="session")
async def browser():
    """One Chromium for the whole session (each test gets its own context: cookies, locale)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium): run scripts/ensure-chromium.sh")
    from playwright.async_api import async_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        shared = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield shared
        await shared.close()


class BrowserProblems:
    """Issue 16 items 1 and 8: what a page logged or failed to load, collected on every page of every
    browser test (`new_page` attaches it) and asserted empty when the test ends, so a new page is
    covered without asking: console errors (a CSP violation is one, as is an uncaught exception or a
    resource answering 4xx/5xx), requests that failed, subresources (script, style, image, font,
    htmx/fetch calls) answering 4xx/5xx. A document or htmx answer of 400/422 is a form with its
    errors (the product's answer, not a broken resource): not a problem, nor its "Failed to load
    resource" console line. A test that provokes a problem on purpose clears `problems` itself."""

    FORM_ANSWERS = (400, 422)

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.form_answers: set[str] = set()

    def watch(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if "Failed to load resource" in message.text and url in self.form_answers:
            return
        self.problems.append(f"console error: {message.text} ({url})")

    def _failed(self, request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure:
            return  # cancelled, not broken: a navigation or htmx request a newer one replaced
        self.problems.append(f"request failed: {request.method} {request.url} {failure}")

    def _response(self, response) -> None:
        if response.status < 400:
            return
        kind = response.request.resource_type
        if (kind == "document" and response.status < 500) or (response.status in self.FORM_ANSWERS
                                                                and kind in ("xhr", "fetch")):
            self.form_answers.add(response.url)
            return
        self.problems.append(f"{response.status} for {kind} {response.request.method} {response.url}")


@pytest_asyncio.fixture
async def new_page(browser, live_server, browser_problems):
    """`await new_page(locale="nb-NO")`: a page in a fresh browser context (closed after the test),
    watched by `browser_problems`."""
    contexts = []

    async def make(**options):
        options = {"viewport": {"width": 1280, "height": 900}, **options}  # a phone: {"width": 390, "height": 844}
        context = await browser.new_context(base_url=live_server, **options)
        context.set_default_timeout(15_000)
        context.on("page", browser_problems.watch)
        contexts.append(context)
        return await context.new_page()
    yield make
    for context in contexts:
        await context.close()
    assert browser_problems.problems == [], "the browser logged problems:\n" + "\n".join(browser_problems.problems)


@pytest.fixture
def browser_problems():
    return BrowserProblems()


@pytest_asyncio.fixture
async def browser_page(new_page):
    return await new_page()


async def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page."""
    # Evaluated over the DevTools protocol, which the page's CSP does not govern (a <script> tag with
    # axe inline would be refused: script-src 'self'), so the page keeps its real policy.
    if not await page.evaluate("() => typeof axe !== 'undefined'"):
        await page.evaluate(AXE.read_text() + "\n;undefined")
    result = await page.evaluate("async () => (await axe.run(document)).violations"
                                 ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))")
    return [v for v in result if v["impact"] in ("serious", "critical")]


async def htmx_ready(page, selector: str) -> None:
    """Wait until htmx has processed the element at `selector` (its hx-* listeners are on). After an
    hx-boost navigation the new content is in the page, and the URL changed, before htmx binds it:
    text typed then sent no request (a flaky test under load)."""
    await page.wait_for_function("(s) => { const e = document.querySelector(s);"
                                 " return !!(e && e['htmx-internal-data'] && e['htmx-internal-data'].initHash); }",
                                 arg=selector)


async def shot(page, name: str) -> None:
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
