"""SPEC §10 R-USE-05 where partners work: the customers list (health badge with activation, filter,
sort), the CSV export's columns, the customer page's per-service chart and table, the home page's
"Low adoption, ending soon" and the customer admin's `/my`; in Chromium with axe, en and nb."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from server import clock
from server.enums import Role
from tests import factories
from tests.pages.conftest import axe_violations, shot
from tests.pages.test_browser_flows import sign_in
from tests.pages.test_customer_view import csrf_of, requested_trial
from tests.pages.test_customers_export import parse
from tests.partner_day.conftest import set_trial
from tests.trials.conftest import Kit
from tests.usage.conftest import activity, assigned, platform_token, send


async def three_trials(client, app, sessionmaker, team) -> dict[str, dict]:
    """Healthy (3 of 10 active), low (1 of 10, ending in 9 days) and inactive (no use in 10 days)."""
    kit = Kit(client, app, sessionmaker, team)
    platform = await platform_token(sessionmaker)
    now, today = clock.now(), clock.today()
    trials = {}
    for name, users, ends_in in (("Aurora Helse AS", 3, 60), ("Bryggen Bakeri AS", 1, 9), ("Fjord Frakt AS", 0, 60)):
        customer = await kit.paid_customer(name=name)
        trial = await kit.paid_trial(customer, services=("MEETINGS", "MESSAGING"), role=Role.SALES_FULL_ADMIN)
        await set_trial(sessionmaker, trial, state="ACTIVE", starts_at=now - timedelta(days=20),
                        ends_at=now + timedelta(days=ends_in, hours=1))
        lines = [activity(customer, today - timedelta(days=d), "MEETINGS", f"u{n}", 2, 45)
                 for n in range(users) for d in range(3)]
        lines += [assigned(customer, today, "MEETINGS", 7)]
        assert (await send(client, platform, lines)).json()["rejected"] == []
        trials[name] = {**trial, "customer_id": customer}
    return trials


def names_in(html: str) -> list[str]:
    return re.findall(r'<a href="/customers/[^"]+">([^<]+)</a>', html)


async def test_r_use_05_the_customers_list_shows_health_filters_and_sorts(client, app, sessionmaker, team):
    await three_trials(client, app, sessionmaker, team)
    await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
    page = (await client.get("/customers")).text
    assert "Healthy · 30 % active" in page and "Low adoption · 10 % active" in page and "Inactive · 0 % active" in page
    assert names_in((await client.get("/customers?adoption=LOW")).text) == ["Bryggen Bakeri AS"]
    assert names_in((await client.get("/customers?order=ADOPTION")).text) == [
        "Fjord Frakt AS", "Bryggen Bakeri AS", "Aurora Helse AS"]
    assert (await client.get("/customers?adoption=NOPE&order=NOPE")).status_code == 200
    rows = parse((await client.get("/customers.csv?order=ADOPTION")).content)
    assert [r[0] for r in rows[1:]] == ["Fjord Frakt AS", "Bryggen Bakeri AS", "Aurora Helse AS"]
    assert [r[9:] for r in rows[1:]] == [["Inactive", "0", "0 %"], ["Low adoption", "1", "10 %"],
                                         ["Healthy", "3", "30 %"]]


async def test_r_use_05_the_customer_page_charts_daily_active_users_per_service(client, app, sessionmaker, team):
    trials = await three_trials(client, app, sessionmaker, team)
    await factories.login(client, team.emails[Role.READ_ONLY], team.password)
    trial = trials["Aurora Helse AS"]
    page = (await client.get(f"/customers/{trial['customer']['id']}")).text
    assert "Active users: 3 in 7 days, 3 in 30 days of 10 licenses (30 %)." in page
    assert page.count('class="usage-line s0"') == 22 and "<polyline" in page  # 21 days + the line
    table = re.search(r"Daily active users per service, last 30 days</caption>(.*?)</table>", page, re.S).group(1)
    assert len(re.findall(r"<tr><th scope=\"row\">", table)) == 21      # from the start (20 days ago) to today
    client.cookies.set("td_locale", "nb")
    assert "Daglige aktive brukere per tjeneste" in (await client.get(f"/customers/{trial['customer']['id']}")).text


async def test_r_use_05_home_lists_low_adoption_ending_soon(client, app, sessionmaker, team):
    await three_trials(client, app, sessionmaker, team)
    await factories.login(client, team.emails[Role.PARTNER_ADMIN], team.password)
    home = (await client.get("/")).text
    section = re.search(r'id="attention-low_adoption_ending_soon".*?</article>', home, re.S).group(0)
    assert "Low adoption, ending soon" in section and "Bryggen Bakeri AS" in section
    assert "Fjord Frakt AS" not in section                     # inactive, but 60 days left


async def test_r_use_05_a_customer_admin_sees_the_orgs_usage_at_my(client, sessionmaker, settings, team):
    trial_id = await requested_trial(client, sessionmaker, team)
    url = await factories.consent_url(sessionmaker, settings, trial_id, "cio@org.example")
    opened = await client.get(url.replace(settings.base_url, ""))
    page = await client.get(opened.headers["location"])
    await client.post(f"/my/consent/{trial_id}", data={"csrf_token": csrf_of(page.text), "go": "accept"})
    trial = {"id": trial_id}
    await set_trial(sessionmaker, trial, state="ACTIVE", starts_at=clock.now() - timedelta(days=5),
                    ends_at=clock.now() + timedelta(days=25))
    from server.schema.node import decode_id
    from sqlalchemy import select
    from server.db.models import Trial
    async with sessionmaker() as db:
        org = await db.scalar(select(Trial.customer_id).where(Trial.id == decode_id(trial_id, "Trial")))
    await send(client, await platform_token(sessionmaker), [activity(org, clock.today(), "MESSAGING", "a1", 6)])
    mine = (await client.get("/my")).text
    assert "Active users: 1 in 7 days, 1 in 30 days of 10 licenses (10 %)." in mine
    assert "Usage per service, last 30 days" in mine


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en", "nb"])
async def test_r_use_05_usage_in_chromium(new_page, client, app, sessionmaker, team, locale):
    trials = await three_trials(client, app, sessionmaker, team)
    page = await new_page(locale="nb-NO" if locale == "nb" else "en-US")
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    await page.select_option("#adoption", "LOW")
    await page.wait_for_url("**adoption=LOW**")
    await page.wait_for_function("document.querySelectorAll('#customer-rows tr').length === 1")
    assert await axe_violations(page) == []
    await shot(page, f"customers-adoption-{locale}")
    await page.goto(f"/customers/{trials['Aurora Helse AS']['customer']['id']}")
    await page.wait_for_selector("figure.usage-chart svg polyline")
    await page.click("section.usage details summary")
    assert await axe_violations(page) == []
    await shot(page, f"customer-usage-{locale}")
    await page.goto("/")
    await page.wait_for_selector("#attention-low_adoption_ending_soon li")
    assert "Bryggen Bakeri AS" in await page.text_content("#attention-low_adoption_ending_soon")
    assert await axe_violations(page) == []


#: Each chart text's height on the screen (px), the drawn text's extent within its drawing's
#: viewBox, and the words of headers and `td.words` cells drawn on two lines (broken inside the word).
LEGIBILITY = """(selector) => {
  const texts = Array.from(document.querySelectorAll(selector + ' svg text')).filter(t => t.getClientRects().length);
  const outside = Array.from(document.querySelectorAll('figure svg')).filter(s => s.getClientRects().length)
    .flatMap(svg => Array.from(svg.querySelectorAll('text')).filter(t => {
      const box = t.getBBox(), view = svg.viewBox.baseVal;
      return box.x < -1 || box.x + box.width > view.width + 1;
    }).map(t => t.textContent));
  // a word drawn on two lines has two client rects
  const splitWords = (cell) => {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT), found = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('.visually-hidden')) continue;
      for (const match of node.textContent.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index); range.setEnd(node, match.index + match[0].length);
        if (range.getClientRects().length > 1) found.push(match[0]);
      }
    }
    return found;
  };
  const broken = Array.from(document.querySelectorAll('main th, main td.words')).filter(cell => {
    const head = cell.closest('thead');  // on a phone the header row is visually hidden (cells carry data-label)
    return cell.getClientRects().length && !(head && head.getBoundingClientRect().width <= 1);
  }).flatMap(splitWords);
  return {heights: texts.map(t => t.getBoundingClientRect().height), outside, broken,
          key: Array.from(document.querySelectorAll(selector + ' .chart-key li')).map(li => li.textContent.trim())};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("screen", ["desktop", "phone"])
async def test_r_use_05_charts_read_on_a_desktop_and_a_phone(new_page, client, app, sessionmaker, team, screen):
    """The usage and week charts: their key is HTML (it wraps, keeps its size), their axis text stays
    ≥ 8 px on a phone (the drawing shrinks to ~45 %), no label leaves its drawing (the timeline's
    last one did), and no table header, name or email breaks inside a word ("Messagin g")."""
    trials = await three_trials(client, app, sessionmaker, team)
    phone = screen == "phone"
    page = await new_page(**({"viewport": {"width": 390, "height": 844}, "locale": "nb-NO", "is_mobile": True}
                             if phone else {"viewport": {"width": 1280, "height": 900}, "locale": "en-US"}))
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    await page.goto(f"/customers/{trials['Aurora Helse AS']['customer']['id']}")
    facts = await page.evaluate(LEGIBILITY, "figure.usage-chart")
    await shot(page, f"customer-usage-legible-{screen}")
    assert facts["key"] == (["Møter", "Meldinger"] if phone else ["Meetings", "Messaging"]), facts["key"]
    assert facts["heights"] and min(facts["heights"]) >= 8, facts["heights"]
    assert facts["outside"] == [] and facts["broken"] == [], facts
    await page.goto("/customers")
    assert (await page.evaluate(LEGIBILITY, "figure"))["broken"] == []     # names and emails whole
    await page.goto("/")
    facts = await page.evaluate(LEGIBILITY, "figure.week-chart")
    assert len(facts["key"]) == 5 and min(facts["heights"]) >= 8 and facts["outside"] == [], facts
