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


def history_of(html: str) -> str:
    """The customer page's history section, as read."""
    return text_of(html[html.index('aria-labelledby="audit-h"'):])


EXTEND = "mutation($t: ID!) { extendTrial(trialId: $t, days: 30) { userErrors { code } } }"
HISTORY = "query($c: ID!) { auditEvents(customerId: $c) { actor actorKind actorName actorRole action } }"


async def test_spec_9_the_history_names_who_acted_by_role_and_name_never_the_raw_actor(client, sessionmaker, team):
    from sqlalchemy import update

    from server.db.models import User
    from tests.helpers import gql

    customer, trial = await a_trial(client, sessionmaker, team, ["MESSAGING"])       # started with an API token
    kari = team.emails[Role.SALES_FULL_ADMIN]
    async with sessionmaker() as db, db.begin():
        await db.execute(update(User).where(User.email == kari).values(name="Kari Nordmann"))
    csrf = await factories.login(client, kari)
    assert (await gql(client, EXTEND, {"t": trial}, headers={"x-csrf-token": csrf}))["data"]["extendTrial"][
        "userErrors"] == []
    events = (await gql(client, HISTORY, {"c": customer}, headers={"x-csrf-token": csrf}))["data"]["auditEvents"]
    extended = next(e for e in events if e["action"] == "trial.extended")
    assert extended == {"actor": f"partner_user:{kari}", "actorKind": "PARTNER_USER", "actorName": "Kari Nordmann",
                        "actorRole": "SALES_FULL_ADMIN", "action": "trial.extended"}
    started = next(e for e in events if e["action"] == "trial.started")
    assert (started["actorKind"], started["actorName"], started["actorRole"]) == ("API_TOKEN", None, None)
    page = history_of((await client.get(f"/customers/{customer}")).text)
    assert "Sales full admin Kari Nordmann extended the trial by 30 days" in page
    assert "An API token started the trial" in page
    assert kari not in page and "partner_user:" not in page and "SALES_FULL_ADMIN" not in page
    client.cookies.set("td_locale", "nb")
    page = history_of((await client.get(f"/customers/{customer}")).text)
    assert "Full salgsadministrator Kari Nordmann forlenget prøveversjonen med 30 dager" in page


async def test_spec_9_a_person_without_a_name_reads_as_their_email_and_a_customer_admin_as_such(client, sessionmaker):
    from server.domain.core import audit_actors
    from server.enums import AuditActorKind

    facts = audit_actors.facts
    assert facts("customer_admin:it@org.example", None, ["SALES_ADMIN"]) == audit_actors.ActorFacts(
        AuditActorKind.CUSTOMER_ADMIN, "it@org.example", None)
    assert facts("partner_user:a@p.example", "", ["READ_ONLY", "PARTNER_ADMIN"]).role == Role.PARTNER_ADMIN
    assert facts("system", None, None) == audit_actors.ActorFacts(AuditActorKind.SYSTEM)
    assert facts("token:3", None, None).kind == AuditActorKind.API_TOKEN
    assert facts("anonymous", None, None).kind == AuditActorKind.ANONYMOUS
