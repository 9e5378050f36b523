"""R-SET-01: every customer email carries the partner's sender name (the platform's From address),
reply-to and logo, whether rendered when queued (a user's action: the welcome email) or when sent
(the sweep's reminders); the partner's own copies keep the platform's look; each goes out once."""
from __future__ import annotations

from collections import Counter

from server.enums import Role
from tests.helpers import gql
from tests.settings.images import b64, image
from tests.settings.kit import update
from tests.timeline.conftest import new_customer_trial

FULL = Role.PARTNER_FULL_ADMIN
UPLOAD = "mutation($image: String!) { uploadPartnerLogo(image: $image) { settings { logoUrl } userErrors { code } } }"


async def test_r_set_01_customer_emails_carry_sender_name_reply_to_and_logo(client, sessionmaker, life, smtp_sink,
                                                                             settings):
    t = await new_customer_trial(sessionmaker, days=30)
    await update(client, t.team.tokens[FULL], senderName="Nordlys Sales", replyTo="trials@nordlys.example")
    logo = (await gql(client, UPLOAD, {"image": b64(image())}, token=t.team.tokens[FULL])
            )["data"]["uploadPartnerLogo"]["settings"]["logoUrl"]
    await life.run()
    await life.until(23)
    customer = [m for m in smtp_sink.messages if m.kind in ("welcome", "warning_customer")]
    assert {m.kind for m in customer} == {"welcome", "warning_customer"}
    smtp_address = settings.smtp_from.rsplit("<", 1)[-1].rstrip(">")
    for message in customer:
        assert message.sender == f"Nordlys Sales <{smtp_address}>", message.sender
        assert message.reply_to == "trials@nordlys.example"
        assert f'src="{settings.base_url.rstrip("/")}{logo}"' in message.html
    partner = [m for m in smtp_sink.messages if m.kind == "warning_partner"]
    assert partner and all(m.reply_to is None and "Nordlys Sales" not in m.sender and logo not in (m.html or "")
                           for m in partner)
    assert max(Counter((m.to, m.kind) for m in smtp_sink.messages).values()) == 1


async def test_r_set_02_sent_emails_use_the_partners_words_and_keep_the_facts(client, sessionmaker, life, smtp_sink):
    t = await new_customer_trial(sessionmaker, days=30)
    save = """mutation($k: String!, $l: String!, $s: String!, $i: String!) { setPartnerEmailText(kind: $k, locale: $l,
      subject: $s, introduction: $i) { userErrors { code } } }"""
    for locale, subject, intro in (("en", "{customer}: {days_left} days left", "Hi from {partner}, ends {end_date}."),
                                   ("nb", "{customer}: {days_left} dager igjen", "Hei fra {partner}!")):
        body = await gql(client, save, {"k": "warning_customer", "l": locale, "s": subject, "i": intro},
                         token=t.team.tokens[FULL])
        assert body["data"]["setPartnerEmailText"]["userErrors"] == []
    await life.run()
    await life.until(23)
    warnings = {m.to: m for m in smtp_sink.messages if m.kind == "warning_customer"}
    boss = next(m for to, m in warnings.items() if to.startswith("boss"))             # nb
    admin = next(m for to, m in warnings.items() if to.startswith("admin"))           # en
    assert boss.subject.endswith(": 7 dager igjen") and boss.text.startswith("Hei fra ")
    assert admin.subject.endswith(": 7 days left") and admin.text.startswith("Hi from ")
    assert "Buy: " in admin.text and "Kjøp: " in boss.text                             # the facts follow
