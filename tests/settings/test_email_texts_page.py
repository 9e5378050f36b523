"""`/settings/partner/emails` (R-SET-02) through the real forms: choose a kind and language in the URL,
preview (htmx partial and the no-JavaScript button), save, a refused placeholder shown beside its
field with nothing saved, reset to the default; others 403."""
from __future__ import annotations

from server.enums import Role
from tests.factories import login, partner_team
from tests.helpers import gql

FULL = Role.PARTNER_FULL_ADMIN
TEXTS = "{ partnerEmailTexts { kind locale subject introduction } }"


async def _saved(client, token, kind, locale) -> dict:
    body = await gql(client, TEXTS, token=token)
    return next(t for t in body["data"]["partnerEmailTexts"] if (t["kind"], t["locale"]) == (kind, locale))


async def test_r_set_02_edit_preview_save_and_reset_in_the_portal(client, sessionmaker):
    team = await partner_team(sessionmaker, "Nordlys AS")
    csrf = await login(client, team.emails[FULL])
    page = await client.get("/settings/partner/emails?kind=expired_customer&locale=nb")
    assert page.status_code == 200 and 'name="kind" value="expired_customer"' in page.text
    assert "<code>{grace_end_date}</code>" in page.text
    partial = await client.get("/settings/partner/emails/preview", params={
        "kind": "expired_customer", "locale": "nb", "subject": "{customer} er utløpt", "introduction": "Hei fra {partner}"})
    assert partial.status_code == 200 and "Fjordkraft Demo AS er utløpt" in partial.text
    assert "Hei fra Nordlys AS" in partial.text
    refused = await client.get("/settings/partner/emails/preview", params={
        "kind": "expired_customer", "locale": "nb", "subject": "{customer.__class__}", "introduction": ""})
    assert "{customer.__class__}" in refused.text and 'role="alert"' in refused.text
    form = {"csrf_token": csrf, "kind": "expired_customer", "locale": "nb", "subject": "{customer} er utløpt",
            "introduction": "Hei fra {partner}"}
    preview = await client.post("/settings/partner/emails", data={**form, "action": "preview"})
    assert preview.status_code == 200 and "Fjordkraft Demo AS er utløpt" in preview.text
    bad = await client.post("/settings/partner/emails", data={**form, "introduction": "<b>Hei</b>", "action": "save"})
    assert bad.status_code == 400 and 'id="introduction-error"' in bad.text
    assert (await _saved(client, team.tokens[FULL], "expired_customer", "nb"))["subject"] == ""
    saved = await client.post("/settings/partner/emails", data={**form, "action": "save"})
    assert saved.status_code == 303 and "saved=1" in saved.headers["location"]
    assert (await _saved(client, team.tokens[FULL], "expired_customer", "nb"))["subject"] == "{customer} er utløpt"
    reset = await client.post("/settings/partner/emails", data={**form, "action": "reset"})
    assert reset.status_code == 303
    assert (await _saved(client, team.tokens[FULL], "expired_customer", "nb"))["subject"] == ""


async def test_r_set_02_other_roles_get_403(client, sessionmaker):
    team = await partner_team(sessionmaker)
    await login(client, team.emails[Role.SALES_FULL_ADMIN])
    assert (await client.get("/settings/partner/emails")).status_code == 403
    assert (await client.get("/settings/partner/emails/preview?kind=welcome&locale=en")).status_code == 403
