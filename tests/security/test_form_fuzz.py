"""Issue 16 item 9: every portal form POST with malformed fields answers a page (a form message, a
redirect, a Forbidden or Not found page), never a 500 or a stack trace, and no outgoing email
carries an injected header.

The forms are found, not listed: each page a role sees is fetched and every `<form method=post>` on it
is posted back with all its fields missing, then with every field (inputs, selects, textareas; the
submit button keeps its value so the route takes its branch) set to one malformed value: empty, huge,
unicode with a right-to-left override, CRLF with a Bcc header (names and emails that end up in email
headers), a number out of range, a NUL, and twice (a list where one value is expected). A page added
later is covered by adding its path to PAGES."""
from __future__ import annotations

import re
from email import message_from_bytes
from html import unescape
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from jobs.mailer import build_message
from server.db.models import OutboxEmail
from server.enums import Role
from tests import factories
from tests.pages.test_customer_setup_forms import a_trial
from tests.pages.test_customer_view import requested_trial

MALFORMED = ["", "x" * 100_000, "Ærøskøbing ✓ 中文 \u202egnp.exe", "Mallory\r\nBcc: victim@attacker.example",
             "evil@attacker.example\r\nBcc: victim@attacker.example", "99999999999999999999", "-1", "1.5e309",
             "nul\x00byte"]
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
FIELD = re.compile(r"<(input|select|textarea|button)\b([^>]*)>", re.I)
ATTR = re.compile(r'([a-zA-Z-]+)="([^"]*)"')
SKIP_FIELDS = {"csrf_token"}


def forms_of(html: str) -> list[tuple[str, dict[str, str], list[str]]]:
    """(action, the submit button's name/value, the other field names) of each POST form on a page."""
    found = []
    for form in FORM.findall(html):
        head = dict(ATTR.findall(form[:form.index(">")]))
        if head.get("method", "get").lower() != "post" or not head.get("action"):
            continue
        button, names = {}, []
        for tag, attrs in FIELD.findall(form):
            attrs = dict(ATTR.findall(attrs))
            name = attrs.get("name")
            if not name or name in SKIP_FIELDS:
                continue
            if tag.lower() == "button" or attrs.get("type") == "submit":
                button.setdefault(name, unescape(attrs.get("value", "")))
            elif name not in names:
                names.append(name)
        found.append((unescape(head["action"]), button, names))
    return found


async def post_malformed(client, paths: list[str]) -> int:
    """Post every form of every page in `paths` malformed; returns how many posts were made."""
    posts, seen = 0, set()
    for path in paths:
        page = await client.get(path)
        assert page.status_code < 500, (path, page.status_code)
        token = re.search(r'<meta name="csrf-token" content="([^"]*)"', page.text).group(1)
        for action, button, names in forms_of(page.text):
            if (action, tuple(names)) in seen or action == "/logout":
                continue
            seen.add((action, tuple(names)))
            variants = [{}] + [{name: value for name in names} for value in MALFORMED]
            variants.append([(name, value) for name in names for value in ("1", "two")])   # repeated keys
            for fields in variants:
                pairs = list(fields.items()) if isinstance(fields, dict) else fields
                data = [("csrf_token", token), *button.items(), *pairs]
                answer = await client.post(action, content=urlencode(data),
                                           headers={"content-type": "application/x-www-form-urlencoded"})
                posts += 1
                assert answer.status_code < 500, (action, pairs[:2], answer.status_code, answer.text[:300])
                assert "Traceback" not in answer.text and 'File "/' not in answer.text, (action, answer.text[:500])
    return posts


async def assert_no_header_injection(sessionmaker, settings) -> None:
    """Each queued email builds (the mailer's own code) into one with a single To, no Bcc, no CR/LF
    inside a header value."""
    async with sessionmaker() as db:
        rows = list(await db.scalars(select(OutboxEmail)))
    for row in rows:
        assert "\r" not in row.recipient and "\n" not in row.recipient, row.recipient
        parsed = message_from_bytes(build_message(row, settings).as_bytes())
        assert parsed.get_all("Bcc") is None and len(parsed.get_all("To")) == 1, parsed.items()
        assert "attacker" not in "".join(f"{k}: {v}" for k, v in parsed.items() if k != "To") or row.recipient


@pytest.fixture
async def arranged(client, sessionmaker, settings):
    team = await factories.partner_team(sessionmaker, "Fuzz Partner AS")
    customer_id, trial_id = await a_trial(client, sessionmaker, team, ["MESSAGING", "CALLING", "DEVICES"],
                                          calling={"pstn": "PARTNER_DIDS"})
    requested = await requested_trial(client, sessionmaker, team)
    return team, customer_id, trial_id, requested


async def test_malformed_partner_form_posts_answer_a_page_never_a_500_nor_inject_mail_headers(
        client, sessionmaker, settings, arranged):
    team, customer_id, trial_id, _ = arranged
    await factories.login(client, team.emails[Role.PARTNER_FULL_ADMIN], team.password)
    admin_posts = await post_malformed(client, ["/settings/users", "/settings/tokens", "/settings/partner",
                                                "/settings/partner/emails"])
    await client.post("/logout", data={"csrf_token": re.search(
        r'name="csrf-token" content="([^"]*)"', (await client.get("/customers")).text).group(1)})
    await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
    sales_posts = await post_malformed(client, ["/", "/customers", f"/customers/{customer_id}",
                                                f"/customers/{customer_id}/setup", "/trials/new", "/trials/existing",
                                                f"/customers/{customer_id}/trials/{trial_id}/cancel"])
    assert admin_posts > 20 and sales_posts > 50, (admin_posts, sales_posts)
    await assert_no_header_injection(sessionmaker, settings)


async def test_malformed_sign_in_and_customer_admin_form_posts_answer_a_page(client, sessionmaker, settings,
                                                                             arranged):
    _, _, _, requested = arranged
    await post_malformed(client, ["/login", "/my/login"])
    consent = await factories.consent_url(sessionmaker, settings, requested, "cio@org.example")
    opened = await client.get(consent.replace(settings.base_url, ""))
    assert opened.status_code == 303
    posts = await post_malformed(client, [opened.headers["location"], "/my"])
    assert posts > 5
    await assert_no_header_injection(sessionmaker, settings)
