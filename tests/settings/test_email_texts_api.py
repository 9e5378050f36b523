"""R-SET-02 over GraphQL: a partner's own subject and introduction per kind and language, named
placeholders only, sandboxed (no attribute access, no markup: INVALID_TEMPLATE naming it), a preview
of the whole email before saving, reset to the default; the sent email uses it and keeps the facts."""
from __future__ import annotations

import pytest

from server.enums import Role
from tests.factories import partner_team
from tests.helpers import gql

FULL = Role.PARTNER_FULL_ADMIN
SAVE = """mutation($kind: String!, $locale: String!, $subject: String!, $intro: String!) {
  setPartnerEmailText(kind: $kind, locale: $locale, subject: $subject, introduction: $intro) {
    emailText { kind locale subject introduction placeholders } userErrors { code field message } } }"""
RESET = """mutation($kind: String!, $locale: String!) { resetPartnerEmailText(kind: $kind, locale: $locale) {
  emailText { subject introduction } userErrors { code } } }"""
PREVIEW = """query($kind: String!, $locale: String!, $subject: String!, $intro: String!) {
  previewPartnerEmail(kind: $kind, locale: $locale, subject: $subject, introduction: $intro) {
    preview { subject text html } userErrors { code field message } } }"""
TEXTS = "{ partnerEmailTexts { kind locale subject introduction placeholders } }"


@pytest.fixture
async def team(sessionmaker):
    return await partner_team(sessionmaker, "Nordlys Partner AS")


async def _save(client, token, kind="warning_customer", locale="en", subject="", intro="") -> dict:
    body = await gql(client, SAVE, {"kind": kind, "locale": locale, "subject": subject, "intro": intro}, token=token)
    assert "errors" not in body, body
    return body["data"]["setPartnerEmailText"]


async def _texts(client, token) -> dict:
    body = await gql(client, TEXTS, token=token)
    return {(t["kind"], t["locale"]): t for t in body["data"]["partnerEmailTexts"]}


@pytest.mark.parametrize("subject, intro, field, named", [
    ("{customer.__class__}", "", "subject", "{customer.__class__}"),
    ("Hi", "{customer.__init__.__globals__}", "introduction", "{customer.__init__.__globals__}"),
    ("{customer[0]}", "", "subject", "{customer[0]}"),
    ("{customer!r}", "", "subject", "{customer!r}"),
    ("{days_left:>99999999}", "", "subject", "{days_left:>99999999}"),
    ("Hi {name}", "", "subject", "{name}"),
    ("", "<b>Hello</b> {customer}", "introduction", "markup"),
    ("", "Hello <a href='https://evil.example'>x</a>", "introduction", "markup"),
    ("Hi {customer", "", "subject", "brace"),
    ("Hi\r\nBcc: x@example.com", "", "subject", "one line"),
])
async def test_r_set_02_bad_template_is_invalid_template_naming_it_and_changes_nothing(client, team, subject, intro,
                                                                                       field, named):
    payload = await _save(client, team.tokens[FULL], subject=subject, intro=intro)
    assert payload["emailText"] is None
    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_TEMPLATE", [field]) and named in error["message"]
    assert (await _texts(client, team.tokens[FULL]))[("warning_customer", "en")]["subject"] == ""
    body = await gql(client, PREVIEW, {"kind": "warning_customer", "locale": "en", "subject": subject, "intro": intro},
                     token=team.tokens[FULL])
    assert [e["code"] for e in body["data"]["previewPartnerEmail"]["userErrors"]] == ["INVALID_TEMPLATE"]


async def test_r_set_02_a_kinds_placeholders_only(client, team):
    texts = await _texts(client, team.tokens[FULL])
    assert texts[("access_ended", "nb")]["placeholders"] == ["customer", "partner"]
    payload = await _save(client, team.tokens[FULL], kind="access_ended", subject="Slutt om {days_left} dager")
    assert "{days_left}" in payload["userErrors"][0]["message"]


async def test_r_set_02_preview_save_and_reset(client, team):
    variables = {"kind": "warning_customer", "locale": "nb", "subject": "{customer}: {days_left} dager igjen",
                 "intro": ""}
    body = await gql(client, PREVIEW, {**variables, "intro": "Hei fra {partner} & co, {customer}."},
                     token=team.tokens[FULL])
    preview = body["data"]["previewPartnerEmail"]["preview"]
    assert preview["subject"] == "Fjordkraft Demo AS: 7 dager igjen"
    assert preview["text"].startswith("Hei fra Nordlys Partner AS & co, Fjordkraft Demo AS.")
    assert "Hei fra Nordlys Partner AS &amp; co, Fjordkraft Demo AS." in preview["html"]     # escaped in HTML mail
    assert "Kjøp:" in preview["text"] and "/buy" in preview["text"]                     # the facts follow
    assert (await _texts(client, team.tokens[FULL]))[("warning_customer", "nb")]["subject"] == ""   # unsaved
    saved = await _save(client, team.tokens[FULL], "warning_customer", "nb", "{customer}: {days_left} dager igjen",
                        "Hei fra {partner}!")
    assert saved["userErrors"] == [] and saved["emailText"]["subject"] == "{customer}: {days_left} dager igjen"
    reset = await gql(client, RESET, {"kind": "warning_customer", "locale": "nb"}, token=team.tokens[FULL])
    assert reset["data"]["resetPartnerEmailText"]["emailText"] == {"subject": "", "introduction": ""}
    assert (await _texts(client, team.tokens[FULL]))[("warning_customer", "nb")]["subject"] == ""


async def test_r_set_02_only_full_admins_and_known_kinds(client, team):
    payload = await _save(client, team.tokens[Role.PARTNER_ADMIN], subject="Hi")
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    assert [e["code"] for e in (await _save(client, team.tokens[FULL], kind="magic_link", subject="x"))["userErrors"]] \
        == ["INVALID_INPUT"]
    assert [e["code"] for e in (await _save(client, team.tokens[FULL], locale="de", subject="x"))["userErrors"]] \
        == ["INVALID_INPUT"]


async def test_r_set_02_the_preview_fills_every_placeholder_for_a_sample_trial_ending_in_7_days(client, team):
    """The preview's sample trial ends 7 days from today, its grace 30 days later, and every
    placeholder of the kind says so: kills the sample's end moved back (`preview.preview`: `now - 7
    days`) and `{grace_end_date}` left empty (`email_texts.placeholder_values`' key renamed), both
    survivors of `make mutate`."""
    from datetime import timedelta

    from babel.dates import format_date

    from server import clock

    subject = "{customer} / {partner} / {end_date} / {grace_end_date}"
    body = await gql(client, PREVIEW, {"kind": "expired_customer", "locale": "en", "subject": subject,
                                       "intro": "Ends {end_date}, grace until {grace_end_date}."},
                     token=team.tokens[FULL])
    assert body["data"]["previewPartnerEmail"]["userErrors"] == []
    preview = body["data"]["previewPartnerEmail"]["preview"]
    ends = clock.now().date() + timedelta(days=7)
    end_date, grace = (format_date(day, format="long", locale="en_GB") for day in (ends, ends + timedelta(days=30)))
    assert preview["subject"] == f"Fjordkraft Demo AS / Nordlys Partner AS / {end_date} / {grace}"
    assert f"Ends {end_date}, grace until {grace}." in preview["text"]


async def test_r_set_02_reset_is_audited_with_the_texts_it_removed(client, team):
    """R-AUDIT-01: the partner's audit log says which texts a reset removed: kills the reset's
    `before` key renamed (`email_texts.reset`: "subject" -> "XXsubjectXX", a survivor of `make mutate`)."""
    await _save(client, team.tokens[FULL], "warning_customer", "nb", "Snart slutt, {customer}", "Hei fra {partner}!")
    await gql(client, RESET, {"kind": "warning_customer", "locale": "nb"}, token=team.tokens[FULL])
    body = await gql(client, "{ auditLog(first: 1) { edges { node { action before after } } } }", token=team.tokens[FULL])
    assert body["data"]["auditLog"]["edges"][0]["node"] == {
        "action": "settings.email_text_changed",
        "before": {"kind": "warning_customer", "locale": "nb", "subject": "Snart slutt, {customer}",
                   "introduction": "Hei fra {partner}!"},
        "after": {"kind": "warning_customer", "locale": "nb", "reset": True}}


async def test_r_use_06_the_preview_of_a_warning_says_the_sample_trials_usage_per_service(client, team):
    """R-USE-06 in R-SET-02's preview: the sample trial's usage, per service, as the sent warning says
    it: kills a key of the sample usage renamed (`preview.SAMPLE_USAGE`: MEETINGS' "active_users_30d",
    a survivor of `make mutate`: the line would say ": of 50")."""
    body = await gql(client, PREVIEW, {"kind": "warning_customer", "locale": "en", "subject": "", "intro": ""},
                     token=team.tokens[FULL])
    text = body["data"]["previewPartnerEmail"]["preview"]["text"]
    assert "Active users in the last 30 days, of the licensed count:\n- Messaging: 8 of 50\n- Meetings: 5 of 50\n" in text
    assert "<li>Meetings: 5 of 50</li>" in body["data"]["previewPartnerEmail"]["preview"]["html"]
