"""`/settings/audit` and its CSV (R-AUDIT-01): filters kept in the URL, keyset pages, a streamed
formula-safe CSV of the same filter; bad input answers a page with a message, never a 500."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from server import clock
from server.db.models import AuditEvent
from server.enums import Role
from tests.factories import login, partner_team

FULL = Role.PARTNER_FULL_ADMIN


async def _events(sessionmaker, partner_id: int, n: int, action: str = "trial.extended", actor: str = "system"):
    async with sessionmaker() as db, db.begin():
        now = await clock.refresh(db)
        db.add_all([AuditEvent(at=now - timedelta(minutes=i), actor=actor, action=action, subject_type="Trial",
                               subject_id=i, partner_id=partner_id, after={"note": f"=HYPERLINK(\"x{i}\")"})
                    for i in range(n)])


async def test_r_audit_01_the_page_filters_in_the_url_and_pages_through_the_log(client, sessionmaker):
    team = await partner_team(sessionmaker)
    await _events(sessionmaker, team.partner_id, 60)
    await _events(sessionmaker, team.partner_id, 3, action="webhook.created", actor="partner_user:x@p.example")
    await login(client, team.emails[FULL])
    page = await client.get("/settings/audit?action=trial")
    assert page.status_code == 200 and page.text.count('data-action="trial.extended"') == 50
    assert "webhook.created" not in page.text
    older = re.search(r'href="(/settings/audit\?[^"]*after=[^"]*)" rel="next"', page.text).group(1)
    assert "action=trial" in older
    second = await client.get(older.replace("&amp;", "&"))
    assert second.text.count('data-action="trial.extended"') == 10 and 'rel="next"' not in second.text
    assert 'value="trial"' in second.text                                  # the filter stays in the form
    by_actor = await client.get("/settings/audit?actor=x@p.example")
    assert by_actor.text.count('data-action="webhook.created"') == 3


async def test_r_audit_01_csv_export_of_the_filter_is_streamed_and_formula_safe(client, sessionmaker):
    team = await partner_team(sessionmaker)
    await _events(sessionmaker, team.partner_id, 130)
    await login(client, team.emails[FULL])
    response = await client.get("/settings/audit.csv?action=trial.extended")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Time (UTC)", "Actor", "Action"] and len(rows) == 131
    assert all(row[2] == "trial.extended" for row in rows[1:])
    assert all(not row[7].startswith("=") for row in rows[1:])
    assert rows[1][7].startswith("{")                                      # JSON, not a formula
    assert (await client.get("/settings/audit.csv?action=webhook")).text.count("\n") == 1


async def test_r_audit_01_bad_input_on_the_page_shows_a_message(client, sessionmaker):
    team = await partner_team(sessionmaker)
    await login(client, team.emails[FULL])
    for query in ("since=yesterday", "until=2026-13-45", "after=garbage", "customer=nope&since=2026-01-01"):
        response = await client.get(f"/settings/audit?{query}")
        assert response.status_code in (200, 400), (query, response.status_code)
        assert "Traceback" not in response.text
    assert (await client.get("/settings/audit?since=yesterday")).status_code == 400
    assert (await client.get("/settings/audit.csv?since=yesterday")).status_code == 400


async def test_r_audit_01_trials_team_gets_403_and_sales_admin_sees_their_customers_only(client, sessionmaker):
    team = await partner_team(sessionmaker)
    await _events(sessionmaker, team.partner_id, 2, action="settings.updated")
    await login(client, team.emails[Role.SALES_ADMIN])
    page = await client.get("/settings/audit")
    assert page.status_code == 200 and "settings.updated" not in page.text


async def test_r_audit_01_the_log_reads_in_words_like_the_history_never_the_raw_actor(client, sessionmaker):
    """Who did what in the customer history's words, moments in the reader's locale and zone (en + nb);
    the CSV keeps the machine values and adds the actor in words as its last column."""
    from sqlalchemy import update

    from server import i18n
    from server.db.models import User
    from tests.pages.test_words import text_of

    team = await partner_team(sessionmaker)
    kari = team.emails[Role.SALES_FULL_ADMIN]
    async with sessionmaker() as db, db.begin():
        await db.execute(update(User).where(User.email == kari).values(name="Kari Nordmann"))
        now = await clock.refresh(db)
        db.add_all([AuditEvent(at=now.replace(hour=12, minute=5), actor=f"partner_user:{kari}", action="trial.extended",
                               subject_type="Trial", subject_id=1, partner_id=team.partner_id, after={"days": 30}),
                    AuditEvent(at=now.replace(hour=12, minute=4), actor="system", action="trial.expired",
                               subject_type="Trial", subject_id=1, partner_id=team.partner_id),
                    AuditEvent(at=now.replace(hour=12, minute=3), actor="token:3", action="trial.started",
                               subject_type="Trial", subject_id=1, partner_id=team.partner_id)])
    await login(client, team.emails[FULL])
    html = (await client.get("/settings/audit?action=trial")).text
    table = text_of(html[html.index("<table"):html.index("</table>")])
    assert "Sales full admin Kari Nordmann" in table and "extended the trial by 30 days" in table
    assert "Trialdesk (automatically)" in table and "An API token" in table and "started the trial" in table
    assert "partner_user:" not in table and kari not in table and "SALES_FULL_ADMIN" not in table
    assert "trial.extended" not in table and "token:3" not in table
    at = now.replace(hour=12, minute=5)
    assert at.isoformat()[:16] not in table and at.isoformat()[:16].replace("T", " ") not in table
    assert text_of(i18n.format_moment("en", "UTC", at)) in table                     # en, UTC (no zone cookie)
    client.cookies.set("td_locale", "nb")
    client.cookies.set("td_tz", "Europe/Oslo")
    table = text_of((await client.get("/settings/audit?action=trial")).text)
    assert "Full salgsadministrator Kari Nordmann" in table and "forlenget prøveversjonen med 30 dager" in table
    assert text_of(i18n.format_moment("nb", "Europe/Oslo", at)) in table             # Oslo time, 24-hour clock
    assert i18n.format_moment("nb", "Europe/Oslo", at) != i18n.format_moment("nb", "UTC", at)
    rows = list(csv.reader(io.StringIO((await client.get("/settings/audit.csv")).text.lstrip("\ufeff"))))
    extended = next(r for r in rows if r[2] == "trial.extended")
    assert extended[1] == f"partner_user:{kari}" and extended[-1] == "Full salgsadministrator Kari Nordmann"
    assert extended[0].startswith(now.date().isoformat()) and "T12:05" in extended[0]   # machine time, UTC
