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
    assert page.status_code == 200 and page.text.count("<code>trial.extended</code>") == 50
    assert "webhook.created" not in page.text
    older = re.search(r'href="(/settings/audit\?[^"]*after=[^"]*)" rel="next"', page.text).group(1)
    assert "action=trial" in older
    second = await client.get(older.replace("&amp;", "&"))
    assert second.text.count("<code>trial.extended</code>") == 10 and 'rel="next"' not in second.text
    assert 'value="trial"' in second.text                                  # the filter stays in the form
    by_actor = await client.get("/settings/audit?actor=x@p.example")
    assert by_actor.text.count("<code>webhook.created</code>") == 3


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
