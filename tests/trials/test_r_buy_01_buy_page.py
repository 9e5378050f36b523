"""R-BUY-01 / R-TIME-01: the Buy link of the warning email opens the trial's Buy page (through a
sign-in link when signed out), which says who the partner is and how to reach them; its button
records the interest and the partner's admins get one email per trial and day, over real SMTP."""
from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import func, select

from server.auth import signin
from server.db.models import AuditEvent
from server.enums import Role
from tests.factories import partner_team
from tests.settings.kit import update
from tests.timeline.conftest import life, new_customer_trial, runtime, smtp_sink  # noqa: F401 - the fixtures, shared

FULL = Role.PARTNER_FULL_ADMIN
PARTNER = "Nordlys Partner AS"


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


async def warned_trial(client, sessionmaker, life, smtp_sink, reply_to: str | None = "sales@nordlys.example"):
    """A trial whose 7-day warnings went out over SMTP; (arranged, the Buy link's path in the en admin's email)."""
    t = await new_customer_trial(sessionmaker, days=30, team=await partner_team(sessionmaker, PARTNER))
    if reply_to:
        await update(client, t.team.tokens[FULL], replyTo=reply_to)
    await life.until(23)
    warning = next(m for m in smtp_sink.messages if m.kind == "warning_customer" and m.to.startswith("admin"))
    link = re.search(r"Buy: http://testserver(/my/trials/\S+/buy)", warning.text).group(1)
    assert f'href="http://testserver{link}"' in warning.html                  # the HTML button too
    return t, link


async def sign_in_through(client, life, smtp_sink, email: str, link: str) -> None:
    """Signed out, the Buy link asks for a sign-in link, which comes back to the Buy page."""
    asked = await client.get(link)
    assert asked.status_code == 303 and asked.headers["location"] == f"/my/login?next={quote(link)}"
    form = await client.get(asked.headers["location"])
    assert f'name="next" value="{link}"' in form.text
    sent = await client.post("/my/login", data={"email": email, "next": link, "csrf_token": csrf_of(form.text)})
    assert "sign-in link is on its way" in sent.text
    await life.run()                                                          # the sender, over SMTP
    mail = [m for m in smtp_sink.messages if m.kind == "magic_link" and m.to == email][-1]
    landed = await client.get(re.search(r"/auth/magic/\S+", mail.text).group(0))
    assert landed.status_code == 303 and landed.headers["location"] == link


async def test_r_buy_01_email_buy_link_signs_in_to_the_buy_page_which_tells_the_partner_once(
        client, sessionmaker, life, smtp_sink):
    t, link = await warned_trial(client, sessionmaker, life, smtp_sink)
    admin = t.customer_admins[0]
    await sign_in_through(client, life, smtp_sink, admin, link)
    page = await client.get(link)
    assert page.status_code == 200
    assert PARTNER in page.text and 'href="mailto:sales@nordlys.example"' in page.text   # who and how to reach
    assert "I&#39;m interested in buying" in page.text
    before = len(smtp_sink.messages)
    for _ in range(2):                                                        # clicked twice: one email each
        clicked = await client.post(link, data={"csrf_token": csrf_of(page.text)})
        assert clicked.status_code == 303 and clicked.headers["location"] == f"{link}?done=interest"
    done = await client.get(clicked.headers["location"])
    assert f"{PARTNER} has been told that you want to buy" in done.text
    await life.run()
    told = [m for m in smtp_sink.messages[before:] if m.kind == "purchase_interest"]
    assert sorted(m.to for m in told) == t.partner_admins                     # the partner's admins, once each
    assert all(admin in m.text for m in told)
    async with sessionmaker() as db:                                          # one recorded interest
        assert await db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "trial.purchase_interest", AuditEvent.subject_id == t.trial_id)) == 1
    await life.advance(1)                                                     # the next day is news again
    await sign_in_through(client, life, smtp_sink, admin, link)               # (the idle session has ended)
    page = await client.get(link)
    assert (await client.post(link, data={"csrf_token": csrf_of(page.text)})).status_code == 303
    await life.run()
    assert len([m for m in smtp_sink.messages[before:] if m.kind == "purchase_interest"]) == 2 * len(t.partner_admins)


async def test_r_buy_01_buy_page_in_norwegian_without_reply_to_and_for_other_orgs(
        client, sessionmaker, life, smtp_sink):
    t, link = await warned_trial(client, sessionmaker, life, smtp_sink, reply_to=None)
    boss = next(e for e in t.customer_admins if e.startswith("boss"))
    nb_mail = next(m for m in smtp_sink.messages if m.kind == "warning_customer" and m.to == boss)
    assert f"Kjøp: http://testserver{link}" in nb_mail.text                   # the same page from the nb email
    await sign_in_through(client, life, smtp_sink, boss, link)
    page = await client.get(link, headers={"accept-language": "nb"})
    assert "Kjøp Webex for" in page.text and "mailto:" not in page.text
    assert boss in page.text                                                  # the partner contacts you here
    other = await new_customer_trial(sessionmaker, days=30)                  # another org's trial: not found
    from server.schema.node import to_global_id
    assert (await client.get(f"/my/trials/{to_global_id('Trial', other.trial_id)}/buy")).status_code == 404


async def test_r_buy_01_sign_in_link_never_leads_off_the_customer_area(client, sessionmaker, life, smtp_sink):
    t, _ = await warned_trial(client, sessionmaker, life, smtp_sink, reply_to=None)
    admin, target = t.customer_admins[0], "https://evil.example/my"
    form = await client.get(f"/my/login?next={quote(target)}")
    assert re.search(r'name="next" value="(?!/my/login)', form.text) is None   # (the language switch's is its own)
    await client.post("/my/login", data={"email": admin, "next": target, "csrf_token": csrf_of(form.text)})
    await life.run()
    mail = [m for m in smtp_sink.messages if m.kind == "magic_link" and m.to == admin][-1]
    assert (await client.get(re.search(r"/auth/magic/\S+", mail.text).group(0))).headers["location"] == "/my"
    for target in ("//evil.example/my", "/my//evil.example", "/customers", "/myself", "/my/login?next=/x", "/my\\x"):
        assert signin.landing_after_link(target) is None, target
    for target in ("/my", "/my/trials/VHJpYWw6MQ/buy", "/my?done=x"):
        assert signin.landing_after_link(target) == target
