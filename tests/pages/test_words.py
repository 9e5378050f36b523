"""Issue 27 items 7 and 8: no raw value where a person reads (countries by name, the data residency
region as its own fact, verticals, time zones and dates in the reader's language, the history in
words, roles by name), and the timeline says what each point is (R-TIME-05, R-TIME-06) in the same
words and dates as the home page."""
from __future__ import annotations

import re
from datetime import timedelta

from babel.dates import format_date

from server import clock
from server.enums import Role
from tests import factories
from tests.pages.test_customer_setup_forms import a_trial
from tests.partner_day.conftest import set_trial

GRACE_END = "Grace ends: the organization is released"


def text_of(html: str) -> str:
    """What a person reads: tags and attributes dropped."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_r_time_05_06_the_timeline_says_what_each_point_is(client, sessionmaker, team, sales):
    calling_customer, calling_trial = await a_trial(client, sessionmaker, team, ["MESSAGING", "CALLING"])
    html = text_of((await client.get(f"/customers/{calling_customer}")).text)
    for words in ("Trial starts", "7-day warning emails", "Trial ends, grace period starts", GRACE_END,
                  "Phone numbers released"):
        assert words in html, words
    grace = re.search(rf"{GRACE_END} (\w+ \d+, \d{{4}})", html).group(1)
    numbers = re.search(r"Phone numbers released (\w+ \d+, \d{4})", html).group(1)
    assert grace != numbers                                            # R-TIME-06: 15 days after grace
    plain, _ = await a_trial(client, sessionmaker, team, ["MESSAGING"], adminEmail="it@other.example")
    assert "Phone numbers released" not in (await client.get(f"/customers/{plain}")).text


async def test_r_time_05_the_home_page_says_the_grace_end_in_the_timelines_words_and_date(client, sessionmaker, team,
                                                                                         sales):
    customer, trial = await a_trial(client, sessionmaker, team, ["MESSAGING"])
    now = clock.now()
    await set_trial(sessionmaker, {"id": trial}, state="EXPIRED", ends_at=now - timedelta(days=2),
                    grace_ends_at=now + timedelta(days=28))
    home = text_of((await client.get("/")).text)
    day = format_date((now + timedelta(days=28)).date(), "medium", locale="en")
    assert f"{GRACE_END} {day}" in home
    assert f"{GRACE_END} {day}" in text_of((await client.get(f"/customers/{customer}")).text)


async def test_no_raw_values_on_the_customer_page_and_list_in_norwegian(client, sessionmaker, team, sales):
    customer, _ = await a_trial(client, sessionmaker, team, ["MESSAGING", "CALLING"])
    client.cookies.set("td_locale", "nb")
    client.cookies.set("td_tz", "Europe/Oslo")
    page = text_of((await client.get(f"/customers/{customer}")).text)
    assert "Land Norge" in page and "Forretningsvertikal Utdanning" in page
    assert "startet prøveversjonen" in page and "opprettet kunden" in page               # the history in words
    assert not re.search(r"\btrial\.started\b|partner_user:|\bNO\b|T\d\d:\d\d", page), page
    assert "Et API-token" in page                                          # "token:3" is a token, not "3"
    assert format_date(clock.now().date(), "medium", locale="nb") in page                  # 7. des. 2026
    listing = text_of((await client.get("/customers")).text)
    assert "Norge" in listing and "Datalagringsområde: EU" in listing
    assert "Norge (" not in listing                                   # the region is its own fact


async def test_roles_read_as_words_on_the_settings_pages(client, sessionmaker):
    admin_team = await factories.partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN, Role.SALES_ADMIN])
    await factories.login(client, admin_team.emails[Role.PARTNER_FULL_ADMIN])
    for path in ("/settings/users", "/settings/tokens"):
        page = text_of((await client.get(path)).text)
        assert "Partner full admin" in page and "Sales admin" in page
        assert not re.search(r"\b(PARTNER_FULL_ADMIN|SALES_ADMIN|READ_ONLY)\b", page), path
