"""SPEC §8 / issue 27 item 7: no email shows a raw value — no service, state, role, health, status or
country code — in either language, whatever values its context carries."""
from __future__ import annotations

import re

import pytest
from markupsafe import escape

from server.domain.notifications import emails
from server.domain.notifications.outbox import EmailKind
from server.domain.partner_settings.preview import SAMPLE_USAGE

#: Every code a context may carry (SPEC enums), as a word on its own.
RAW = re.compile(r"\b(MESSAGING|MEETINGS|CALLING|DEVICES|ACTIVE|EXPIRED|PENDING_\w+|CONVERTED|CANCELLED|RELEASED|"
                 r"PARTNER_\w+|SALES_\w+|READ_ONLY|TRIALS_TEAM|HEALTHY|LOW|INACTIVE|NOT_STARTED|APPROVED|DENIED|"
                 r"SHIPPED|OVERDUE|RETURN_DUE|ROOM_DEVICE|DESK_DEVICE|PHONE|HEADSET|NO|EU|CCP|PARTNER_DIDS|"
                 r"ENTERPRISE|WEBEX_ASSISTANT)\b")
CONTEXT = {"customer_name": "Fjordkraft AS", "partner_name": "Nordlys AS", "trial_id": 7, "customer_id": 3,
           "ends_at": "2027-01-06", "grace_ends_at": "2027-02-05", "expires_at": "2027-01-06", "due_at": "2027-01-06",
           "days_left": 7, "services": ["MESSAGING", "MEETINGS", "CALLING", "DEVICES"], "usage": SAMPLE_USAGE,
           "status": "APPROVED", "approved": True, "state": "ACTIVE", "country": "NO", "region": "EU",
           "customer_admin": "it@fjordkraft.example", "admin_email": "it@fjordkraft.example", "carrier": "UPS",
           "demo_order_number": "D-1", "order_number": "O-1", "failures": 5, "url": "http://testserver/x",
           "minutes": 15, "inviter": "Kari", "note": "ok"}


@pytest.mark.parametrize("locale", ["en", "nb"])
@pytest.mark.parametrize("kind", list(EmailKind))
def test_no_raw_value_in_any_email(kind, locale):
    subject, text, html = emails.render(kind, locale, dict(CONTEXT))
    for part in (subject, text, re.sub(r"<[^>]+>", " ", html or "")):
        found = RAW.findall(part)
        assert not found, (kind.value, locale, found)


@pytest.mark.parametrize("locale", ["en", "nb"])
@pytest.mark.parametrize("kind", list(EmailKind))
def test_spec_8_every_html_email_is_titled_with_its_subject(kind, locale):
    """The HTML part's <title> (what a mail client or browser shows for the opened message) is the
    email's subject, in the reader's language. Kills the subject's key given to the templates renamed
    (`emails.render`: values["subject"] -> values["XXsubjectXX"], a survivor of `make mutate`): the
    title would be empty."""
    subject, _, html = emails.render(kind, locale, dict(CONTEXT))
    assert subject.strip()
    assert f"<title>{escape(subject)}</title>" in html, (kind.value, locale)


@pytest.mark.parametrize("kind, locale, subject", [
    ("invite", "en", "You're invited to Trialdesk"), ("invite", "nb", "Du er invitert til Trialdesk"),
    ("consent_request", "nb", "Nordlys AS ber om samtykke til en prøveversjon av Webex for Fjordkraft AS")])
def test_spec_8_the_subject_in_the_readers_language(kind, locale, subject):
    """Kills these subjects mutated (`emails.SUBJECTS`: "XXYou're invited to TrialdeskXX", "XXDu er
    invitert ...XX", "XX{partner_name} ber om samtykke ...XX", survivors of `make mutate`)."""
    assert emails.render(kind, locale, dict(CONTEXT))[0] == subject


@pytest.mark.parametrize("locale, word", [("en", "Low"), ("nb", "Lav")])
def test_r_use_06_the_partners_warning_names_the_health_in_the_readers_words(locale, word):
    """R-USE-04's health in GLOSSARY.md's words, in the 7-day warning to the partner (R-USE-06): kills
    a health word mutated (`emails.HEALTH_NAMES["nb"]["LOW"]` -> "XXLavXX", a survivor of `make mutate`)."""
    _, text, html = emails.render("warning_partner", locale, dict(CONTEXT))
    assert re.search(rf"\b{word}\b", text) and re.search(rf"\b{word}\b", html), text
