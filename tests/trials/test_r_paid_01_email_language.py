"""R-PAID-01 with SPEC §8 "each email in the recipient's locale": the trial-started email of a paid
customer names the trial's services in each admin's own language, as the outbox sender delivers it."""
from __future__ import annotations

from sqlalchemy import select, update

from jobs import mailer
from server.db.models import CustomerUser, OutboxEmail
from tests.timeline.conftest import runtime, smtp_sink  # noqa: F401 - the fixtures, shared

SERVICES = ("CALLING", "DEVICES", "MEETINGS", "MESSAGING")
#: What each reader sees for each service, by locale.
LABELS = {"en": {"CALLING": "Calling", "DEVICES": "Devices", "MEETINGS": "Meetings", "MESSAGING": "Messaging"},
          "nb": {"CALLING": "Ringer", "DEVICES": "Webex-enheter", "MEETINGS": "Møter", "MESSAGING": "Meldinger"}}


async def test_r_paid_01_trial_started_email_names_every_service_in_the_readers_language(kit, runtime, smtp_sink):
    """Kills the mutants of `emails.SERVICE_NAMES` (survivors of `make mutate`): a label changed in
    either language (e.g. "Ringer" -> "XXRingerXX", "Devices" -> "XXDevicesXX") or the "nb" key
    renamed (a Norwegian reader would get the English names), and `_services` reading the wrong
    locale's table."""
    customer = await kit.paid_customer(admin_email="english@paid.example", extra_admins=["norsk@paid.example"])
    async with kit.sessionmaker() as db, db.begin():
        await db.execute(update(CustomerUser).where(CustomerUser.email == "norsk@paid.example").values(locale="nb"))
    await kit.paid_trial(customer, services=SERVICES)
    assert await mailer.flush(runtime) == 2
    async with kit.sessionmaker() as db:
        sent = {row.recipient: row for row in await db.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == "trial_started"))}
    assert {email: row.locale for email, row in sent.items()} == {"english@paid.example": "en",
                                                                  "norsk@paid.example": "nb"}
    for email, locale in (("english@paid.example", "en"), ("norsk@paid.example", "nb")):
        listed = ", ".join(LABELS[locale][service] for service in SERVICES)
        other = "en" if locale == "nb" else "nb"
        for body in (sent[email].body_text, sent[email].body_html):
            assert f": {listed}." in body, (locale, body)
            assert not any(LABELS[other][s] in body for s in SERVICES if LABELS[other][s] != LABELS[locale][s])
