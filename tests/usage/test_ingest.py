"""SPEC §10 ingest: POST /ingest/usage and `trialdesk usage import` (R-USE-01, R-USE-02, R-USE-08)."""
from __future__ import annotations

from datetime import timedelta

import orjson

from server import clock
from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import existing_customer, partner_team
from tests.helpers import gql
from tests.cli.test_cli import cli
from tests.usage.conftest import activity, assigned, last_active, platform_token, rows, send

USER_ROWS = "SELECT day, service, user_key, events, minutes FROM usage_user_days WHERE org_id = :org ORDER BY 1, 2, 3"
TOTALS = "SELECT day, service, active_users, events, minutes FROM usage_daily_totals WHERE org_id = :org ORDER BY 1, 2"


async def test_r_use_01_a_report_replaces_per_key_and_a_batch_sent_twice_changes_nothing(client, sessionmaker,
                                                                                         platform):
    org = await existing_customer(sessionmaker)
    today = clock.today()
    yesterday = today - timedelta(days=1)
    batch = [activity(org, yesterday, "MEETINGS", "k1", 3, 95), activity(org, yesterday, "MEETINGS", "k2", 1, 0),
             activity(org, today, "MEETINGS", "k1", 0, 0), activity(org, today, "MESSAGING", "k2", 7),
             assigned(org, today, "MEETINGS", 37)]
    first = await send(client, platform, batch)
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 5, "rejected": []}
    stored = await rows(sessionmaker, USER_ROWS, org=org)
    totals = await rows(sessionmaker, TOTALS, org=org)
    last = [row[1:] for row in await last_active(sessionmaker, org)]
    assert len(stored) == 4
    assert [(str(d), s, a, e, m) for d, s, a, e, m in totals] == [
        (str(yesterday), "MEETINGS", 2, 4, 95), (str(today), "MEETINGS", 0, 0, 0), (str(today), "MESSAGING", 1, 7, 0)]
    assert [(s, u, str(d)) for s, u, d in last] == [("MEETINGS", "k1", str(yesterday)), ("MEETINGS", "k2", str(yesterday)),
                                                    ("MESSAGING", "k2", str(today))]

    again = await send(client, platform, batch)
    assert again.json() == {"accepted": 5, "rejected": []}
    assert await rows(sessionmaker, USER_ROWS, org=org) == stored
    assert await rows(sessionmaker, TOTALS, org=org) == totals

    # the same keys again replace: k1 was active today after all, k2 not yesterday, licenses 40
    replaced = await send(client, platform, [activity(org, today, "MEETINGS", "k1", 2, 30),
                                             activity(org, yesterday, "MEETINGS", "k2", 0, 0),
                                             assigned(org, today, "MEETINGS", 40)])
    assert replaced.json()["accepted"] == 3
    assert [(str(d), s, a, e, m) for d, s, a, e, m in await rows(sessionmaker, TOTALS, org=org)] == [
        (str(yesterday), "MEETINGS", 1, 3, 95), (str(today), "MEETINGS", 1, 2, 30), (str(today), "MESSAGING", 1, 7, 0)]
    assert [(s, u, str(d)) for _, s, u, d in await last_active(sessionmaker, org)] == [
        ("MEETINGS", "k1", str(today)), ("MESSAGING", "k2", str(today))]
    assert await rows(sessionmaker, "SELECT assigned FROM usage_assigned_licenses WHERE org_id = :org", org=org) == [(40,)]


async def test_r_use_01_only_a_platform_token_reports_and_a_refused_request_stores_nothing(client, sessionmaker,
                                                                                           platform):
    org = await existing_customer(sessionmaker)
    team = await partner_team(sessionmaker)
    line = [activity(org, clock.today(), "MEETINGS", "k1", 1)]
    assert (await send(client, None, line)).status_code == 401
    assert (await send(client, "not-a-token", line)).status_code == 401
    assert (await send(client, team.tokens[Role.PARTNER_FULL_ADMIN], line)).status_code == 403
    assert (await send(client, platform, line, {"content-type": "application/json"})).status_code == 415
    assert (await send(client, platform, line, {"content-type": "text/plain"})).status_code == 415
    too_many = await send(client, platform, line * 50_001)
    assert too_many.status_code == 413
    too_big = await client.post("/ingest/usage", content=b"{}\n" * 10,
                                headers={"authorization": f"Bearer {platform}", "content-type": "application/x-ndjson",
                                         "content-length": str(16 * 1024 * 1024 + 1)})
    assert too_big.status_code == 413
    assert await rows(sessionmaker, USER_ROWS, org=org) == []
    ok = await send(client, platform, line * 50_000)
    assert ok.json() == {"accepted": 50_000, "rejected": []}


async def test_r_use_02_a_bad_line_is_refused_alone_with_its_line_code_and_field(client, sessionmaker, platform, kit):
    org = await existing_customer(sessionmaker)
    released = await existing_customer(sessionmaker)
    async with sessionmaker() as db, db.begin():
        from sqlalchemy import update

        from server.db.models import CustomerOrg
        await db.execute(update(CustomerOrg).where(CustomerOrg.id == released).values(subscription_status="RELEASED"))
    today = clock.today()
    good = activity(org, today, "CALLING", "k1", 2, 4)
    lines = [
        good,                                                                   # 1
        activity(10**9, today, "CALLING", "k1", 1),                             # 2 not a customer
        {**good, "org": to_global_id("Partner", kit.team.partner_id)},          # 3 a partner's ID
        activity(released, today, "CALLING", "k1", 1),                          # 4 RELEASED
        activity(org, today + timedelta(days=1), "CALLING", "k1", 1),           # 5 tomorrow
        activity(org, today - timedelta(days=401), "CALLING", "k1", 1),         # 6 over 400 days ago
        activity(org, today, "CALLING", "k1", -1),                              # 7 negative
        activity(org, today, "CALLING", "k1", 1.5),                             # 8 not whole
        activity(org, today, "FAX", "k1", 1),                                   # 9 unknown service
        activity(org, today, "CALLING", "", 1),                                 # 10 empty user
        activity(org, today, "CALLING", "x" * 65, 1),                           # 11 too long
        activity(org, today, "CALLING", "ola@acme.example", 1),                 # 12 an email
        b"{not json",                                                           # 13
        {**good, "day": "07/12/2026"},                                          # 14
        {k: v for k, v in good.items() if k != "minutes"},                      # 15 missing minutes
        assigned(org, today, "CALLING", -3),                                    # 16
        activity(org, today - timedelta(days=400), "CALLING", "k2", 1),         # 17 400 days ago: kept
        assigned(org, today, "CALLING", 12),                                    # 18
    ]
    response = await send(client, platform, lines)
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 3
    assert [(r["line"], r["code"], r["field"]) for r in answer["rejected"]] == [
        (2, "NOT_FOUND", "org"), (3, "NOT_FOUND", "org"), (4, "NOT_FOUND", "org"), (5, "INVALID_USAGE", "day"),
        (6, "INVALID_USAGE", "day"), (7, "INVALID_USAGE", "events"), (8, "INVALID_USAGE", "events"),
        (9, "INVALID_USAGE", "service"), (10, "INVALID_USAGE", "user"), (11, "INVALID_USAGE", "user"),
        (12, "INVALID_USAGE", "user"), (13, "INVALID_USAGE", None), (14, "INVALID_USAGE", "day"),
        (15, "INVALID_USAGE", "minutes"), (16, "INVALID_USAGE", "assignedLicenses")]
    assert all(r["message"] for r in answer["rejected"])
    assert [(u, e) for _, _, u, e, _ in await rows(sessionmaker, USER_ROWS, org=org)] == [("k2", 1), ("k1", 2)]


async def test_r_use_02_the_platform_reads_nothing_of_partners_data(client, sessionmaker, platform, kit):
    customer = await kit.paid_customer(name="Hidden AS")
    trial = await kit.paid_trial(customer)
    body = await gql(client, "{ viewer { roles partner { id } } }", token=platform)
    assert body["data"]["viewer"] == {"roles": ["PLATFORM"], "partner": None}
    for query in ["{ customers(first: 5) { totalCount edges { node { id } } } }",
                  f'{{ customer(id: "{to_global_id("Customer", customer)}") {{ id }} }}',
                  f'{{ trial(id: "{trial["id"]}") {{ id }} }}']:
        body = await gql(client, query, token=platform)
        data = body.get("data") or {}
        assert not any(data.values()) or data.get("customers", {}).get("totalCount") == 0, body


async def test_r_use_01_usage_import_runs_the_same_ingest_from_a_file(app, sessionmaker, tmp_path):
    org = await existing_customer(sessionmaker)
    today = clock.today()
    from tests.usage.conftest import body

    path = tmp_path / "usage.ndjson"
    path.write_bytes(body([activity(org, today, "MEETINGS", "k1", 2, 50), activity(org, today, "FAX", "k1", 1)]))
    result = cli("usage", "import", str(path))
    assert result.returncode == 1
    assert result.stdout.strip() == "accepted 1 rejected 1"
    assert "line 2: INVALID_USAGE service" in result.stderr
    assert [(u, e, m) for _, _, u, e, m in await rows(sessionmaker, USER_ROWS, org=org)] == [("k1", 2, 50)]
    path.write_bytes(body([activity(org, today, "MEETINGS", "k1", 3, 50)]))
    result = cli("usage", "import", str(path))
    assert (result.returncode, result.stdout.strip()) == (0, "accepted 1 rejected 0")
    assert cli("usage", "import", str(tmp_path / "missing.ndjson")).returncode == 1


async def test_r_use_01_the_platform_user_has_no_partner_no_other_role_and_no_password(app, sessionmaker):
    import pytest

    from server.domain.orgs import directory
    from server.domain.core.errors import DomainError

    created = cli("user", "create", "--email", "svc@platform.example", "--role", "PLATFORM")
    assert created.returncode == 0, created.stderr
    assert await platform_token(sessionmaker, "svc@platform.example")
    team = await partner_team(sessionmaker, roles=[Role.READ_ONLY])
    for roles, partner, password in [([Role.PLATFORM, Role.READ_ONLY], None, None),
                                     ([Role.PLATFORM], team.partner_id, None),
                                     ([Role.PLATFORM], None, "a long password here")]:
        with pytest.raises(DomainError):
            async with sessionmaker() as db, db.begin():
                await directory.create_user(db, "x@platform.example", roles, partner_id=partner, password=password)


async def test_r_use_01_usage_simulate_writes_through_the_ingest(app, sessionmaker):
    org = await existing_customer(sessionmaker)
    result = cli("usage", "simulate", "--customer", to_global_id("Customer", org), "--days", "3", "--users", "4",
                 "--service", "MEETINGS")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("accepted ") and result.stdout.strip().endswith("rejected 0")
    totals = await rows(sessionmaker, TOTALS, org=org)
    assert len(totals) == 3 and all(service == "MEETINGS" for _, service, _, _, _ in totals)
    assert cli("usage", "simulate", "--customer", "nope").returncode == 1


async def test_r_use_02_a_refused_line_says_why_on_its_field(client, sessionmaker, platform):
    """The platform's developer reads why a line was refused: kills the messages and fields of
    `lines._user_key` and `lines._read` mutated (an email as the user key, a line with both a
    user's activity and assigned licenses: survivors of `make mutate`)."""
    org = await existing_customer(sessionmaker)
    today = clock.today()
    answer = (await send(client, platform, [activity(org, today, "CALLING", "ann@customer.example", 1),
                                            {**activity(org, today, "CALLING", "k1", 1), "assignedLicenses": 3}])).json()
    assert answer["accepted"] == 0
    assert [(r["line"], r["code"], r["field"], r["message"]) for r in answer["rejected"]] == [
        (1, "INVALID_USAGE", "user", "`user` must be an opaque key, never an email (no `@`)."),
        (2, "INVALID_USAGE", "assignedLicenses",
         "A line reports either a user's activity or assigned licenses, not both.")]


async def test_r_use_01_simulated_usage_is_what_the_ingest_accepts(client, sessionmaker, platform):
    """`trialdesk usage simulate`'s lines (server.domain.usage.simulate) posted in-process to the
    platform's endpoint: every one accepted and stored for its org. Kills a key of the simulated
    line renamed (e.g. "org" -> "XXorgXX", a survivor of `make mutate`: the CLI test runs in a
    subprocess the mutation run cannot reach)."""
    from server.domain.usage import simulate

    org = await existing_customer(sessionmaker)
    today = clock.today()
    lines = [orjson.loads(line) for line in simulate.lines(to_global_id("Customer", org), org, today, days=3, users=4,
                                                           services=["MEETINGS"])]
    answer = (await send(client, platform, lines)).json()
    assert answer == {"accepted": len(lines), "rejected": []}
    totals = await rows(sessionmaker, TOTALS, org=org)
    assert [str(day) for day, *_ in totals] == [str(today - timedelta(days=n)) for n in (2, 1, 0)]
    assert await rows(sessionmaker, "SELECT assigned FROM usage_assigned_licenses WHERE org_id = :org", org=org) == [
        (4,)] * 3
