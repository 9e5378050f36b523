"""Issue 24 in real Chromium, in en and nb: a partner full admin changes the reminder days, uploads a
logo (an SVG refused first), words and previews an email text (a refused placeholder shown live),
then filters, pages and exports the audit log; axe-core finds no serious or critical violation."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from server import clock
from server.db.models import AuditEvent
from server.enums import Role
from tests.pages.conftest import axe_violations, htmx_ready, shot
from tests.pages.test_browser_flows import sign_in

pytestmark = pytest.mark.browser
FULL = Role.PARTNER_FULL_ADMIN
OLDER = 55


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (160, 48), (20, 90, 160)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("locale", ["en", "nb"])
async def test_r_set_01_02_r_audit_01_settings_and_audit_log_in_the_browser(new_page, team, locale, sessionmaker):
    async with sessionmaker() as db, db.begin():  # last month's changes: the filtered log is two pages
        db.add_all(AuditEvent(at=clock.now() - timedelta(days=30, minutes=n), actor=f"partner_user:{team.emails[FULL]}",
                              action="settings.updated", subject_type="PartnerSettings", subject_id=team.partner_id,
                              partner_id=team.partner_id, before={"sender_name": None},
                              after={"sender_name": f"Nordlys {n}"}) for n in range(OLDER))
    page = await new_page(locale="nb-NO" if locale == "nb" else "en-US")
    await sign_in(page, team.emails[FULL], team.password)
    await page.click("header nav a[href='/settings/users']")
    await page.click("nav.subnav a[href='/settings/partner']")
    await page.wait_for_selector("input[name=reminderDays][value='14']")
    assert await axe_violations(page) == []
    await page.check("input[name=reminderDays][value='14']")
    await page.check("input[name=reminderDays][value='1']")
    await page.fill("#senderName", "Nordlys Salg")
    await page.click("form[action='/settings/partner'] button[type=submit]")
    await page.wait_for_url("**/settings/partner?saved=1")
    assert await page.is_checked("input[name=reminderDays][value='14']")
    await page.set_input_files("#logo-file", files=[{"name": "logo.svg", "mimeType": "image/svg+xml",
                                                     "buffer": b'<svg xmlns="http://www.w3.org/2000/svg"/>'}])
    await page.click("form[action='/settings/partner/logo'] button[value=upload]")
    await page.wait_for_selector("#logo-error")
    assert "PNG" in await page.text_content("#logo-error")
    await page.set_input_files("#logo-file", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": _logo()}])
    await page.click("form[action='/settings/partner/logo'] button[value=upload]")
    await page.wait_for_selector("img.partner-logo")
    assert await page.evaluate("() => document.querySelector('img.partner-logo').naturalWidth") == 160
    assert await axe_violations(page) == []
    await shot(page, f"partner-settings-{locale}")

    await page.click("a[href='/settings/partner/emails']")
    await page.wait_for_url("**/settings/partner/emails")
    await page.click("a[href='/settings/partner/emails?kind=warning_customer&locale=nb']")
    await page.wait_for_url("**/settings/partner/emails?kind=warning_customer&locale=nb")
    await page.wait_for_selector("input[name=kind][value=warning_customer]", state="attached")
    for field in ("#subject", "#introduction"):
        await htmx_ready(page, field)
    await page.fill("#subject", "{customer.__class__}")                      # refused live, as they type
    await page.wait_for_function("() => document.querySelector('#preview').textContent.includes('__class__')")
    assert await page.locator("#preview [role=alert]").count() == 1
    await page.fill("#subject", "{customer}: {days_left} dager igjen")
    await page.fill("#introduction", "Hei fra {partner}!")
    await page.wait_for_function("() => (document.querySelector('#preview-subject') || {}).textContent"
                                 " === 'Fjordkraft Demo AS: 7 dager igjen'")
    assert "Hei fra " in await page.text_content("#preview-text")
    assert await axe_violations(page) == []
    await shot(page, f"email-texts-{locale}")
    await page.click("button[value=save]")
    await page.wait_for_url("**saved=1")

    await page.click("nav.subnav a[href='/settings/audit']")
    await page.wait_for_selector("table")
    words = "changed an email text" if locale == "en" else "endret en e-posttekst"
    assert words in await page.text_content("table") and "partner_user:" not in await page.text_content("table")
    await page.fill("input[name=action]", "settings")
    await page.click("form[role=search] button[type=submit]")
    await page.wait_for_url("**/settings/audit?*action=settings*")
    actions = await page.eval_on_selector_all("tbody td[data-action]", "cells => cells.map(c => c.dataset.action)")
    assert len(actions) == 50 and all(a.startswith("settings.") for a in actions)
    assert await axe_violations(page) == []
    await shot(page, f"audit-log-{locale}")
    await page.click("nav a[rel=next]")                                         # the next page keeps the filter
    await page.wait_for_url("**/settings/audit?*action=settings*after=*")
    older = await page.eval_on_selector_all("tbody td[data-action]", "cells => cells.map(c => c.dataset.action)")
    assert 0 < len(older) < 50 and all(a == "settings.updated" for a in older)
    assert await page.locator("nav a[rel=next]").count() == 0
    await page.click("a[href='/settings/audit?action=settings']")               # "Newest events"
    await page.wait_for_selector("nav a[rel=next]")
    actions += older
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):   # no sideways scrolling
        await page.set_viewport_size(viewport)
        assert await page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    await page.set_viewport_size({"width": 1280, "height": 900})
    async with page.expect_download() as download:
        await page.click("#export-csv")
    path = await (await download.value).path()
    lines = open(path, encoding="utf-8-sig").read().splitlines()
    assert len(lines) == len(actions) + 1 and "settings.logo_changed" in "".join(lines)


async def test_r_audit_01_back_after_paging_the_audit_log_shows_the_newer_page(new_page, team, sessionmaker):
    """The Back button after an older page restores the newer one from htmx's history, without an
    error (app.js's swap listeners read a target and a request a restored page does not have)."""
    async with sessionmaker() as db, db.begin():
        db.add_all(AuditEvent(at=clock.now() - timedelta(days=30, minutes=n), actor="system", action="settings.updated",
                              subject_type="PartnerSettings", subject_id=team.partner_id, partner_id=team.partner_id)
                   for n in range(OLDER))
    page = await new_page(locale="en-US")
    await sign_in(page, team.emails[FULL], team.password)
    await page.goto("/settings/audit")
    await page.click("nav a[rel=next]")
    await page.wait_for_url("**/settings/audit?after=*")
    assert await page.locator("nav a[rel=next]").count() == 0
    await page.go_back()
    await page.wait_for_selector("nav a[rel=next]")
    assert await page.locator("tbody tr").count() == 50
