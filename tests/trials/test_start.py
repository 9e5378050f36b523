"""Starting a trial for a new customer: R-ORG-01/03, R-ROLE-01, R-NEW-01..04, R-SVC-01..05."""
from __future__ import annotations

from sqlalchemy import func, select

from server.db.models import CustomerOrg, Deadline, Trial
from server.enums import PartnerTier, Role
from tests.factories import existing_customer, partner_team
from tests.helpers import gql
from tests.trials.conftest import START, errors_of, new_customer_input


async def count(sessionmaker, model) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(model))


async def test_r_org_01_uncertified_partner_cannot_start(client, sessionmaker):
    team = await partner_team(sessionmaker, certified=False)
    body = await gql(client, START, {"input": new_customer_input()}, token=team.tokens[Role.SALES_ADMIN])
    assert errors_of(body, "startTrial") == ["PARTNER_NOT_CERTIFIED"]
    assert await count(sessionmaker, Trial) == 0


async def test_r_org_03_own_org_not_allowed(kit):
    own_domain = kit.team.emails[Role.SALES_ADMIN].split("@")[1]
    body = await kit.call(START, {"input": new_customer_input(adminEmail=f"it@{own_domain}")})
    assert errors_of(body, "startTrial") == ["OWN_ORG_NOT_ALLOWED"]


async def test_r_role_01_only_sales_roles_start_trials(kit, sessionmaker):
    for role in (Role.PARTNER_FULL_ADMIN, Role.PARTNER_ADMIN, Role.READ_ONLY):
        body = await kit.call(START, {"input": new_customer_input()}, role)
        assert errors_of(body, "startTrial") == ["FORBIDDEN"], role
    assert await count(sessionmaker, Trial) == 0
    assert (await kit.start(Role.SALES_FULL_ADMIN))["state"] == "PENDING_PROVISIONING"


async def test_r_new_01_embargoed_country_is_refused(kit):
    """Every comprehensively sanctioned country, each refused: kills one of `geography.EMBARGOED`
    renamed (e.g. "KP" -> "XXKPXX", a survivor of `make mutate`: only Cuba was tried)."""
    for country in ("CU", "IR", "KP", "SY", "RU", "BY"):
        body = await kit.call(START, {"input": new_customer_input(country=country)})
        assert errors_of(body, "startTrial") == ["UNSUPPORTED_LOCATION"], country
    body = await kit.call(START, {"input": new_customer_input(supportedLocationConfirmed=False)})
    assert errors_of(body, "startTrial") == ["UNSUPPORTED_LOCATION"]


async def test_r_new_01_bad_input_lists_every_error_and_changes_nothing(kit, sessionmaker):
    """Each error on its own field, so the form marks it: kills the vertical's field renamed
    (`start.check_form`: "businessVertical" -> "XXbusinessVerticalXX", a survivor of `make mutate`)."""
    body = await kit.call(START, {"input": new_customer_input(
        adminEmail="not-an-email", businessVertical="Space Piracy", country="XX", licenseCount=0, durationDays=45,
        companyName=" ")})
    assert set(errors_of(body, "startTrial")) == {"INVALID_EMAIL", "INVALID_INPUT", "INVALID_COUNTRY",
                                                  "LICENSE_COUNT_OUT_OF_RANGE", "INVALID_DURATION"}
    fields = {tuple(e["field"]): e["message"] for e in body["data"]["startTrial"]["userErrors"]}
    assert fields[("businessVertical",)] == "Pick a business vertical from the list."
    assert {("companyName",), ("adminEmail",), ("country",)} <= set(fields)
    assert await count(sessionmaker, CustomerOrg) == 0


async def test_r_new_02_admin_email_of_existing_org(kit, sessionmaker):
    await existing_customer(sessionmaker, admin_email="boss@existing.example")
    body = await kit.call(START, {"input": new_customer_input(adminEmail="Boss@Existing.example")})
    assert errors_of(body, "startTrial") == ["ORG_EXISTS"]


async def test_r_new_03_setup_now_is_recorded(kit, sessionmaker):
    trial = await kit.start(setupNow=True)
    async with sessionmaker() as db:
        assert (await db.scalar(select(Trial))).setup_now is True
    assert trial["customer"]["partnerAccess"] == "FULL_ADMIN"


async def test_r_new_04_provisioning_runs_asynchronously(kit, sessionmaker):
    trial = await kit.start()
    assert trial["state"] == "PENDING_PROVISIONING"
    assert trial["customer"]["provisioningStatus"] == "PROVISIONING"
    assert trial["daysLeft"] == 90 and trial["customer"]["managingPartner"] is not None
    async with sessionmaker() as db:
        kinds = set(await db.scalars(select(Deadline.kind)))
    assert {"provision", "trial_warning", "trial_expiry", "grace_end"} <= kinds


async def test_r_new_04_start_wakes_the_worker_to_provision_now(kit, app, settings):
    """The web app queues the worker's `provision_now` job after the commit, so provisioning starts
    within seconds instead of at the next minute's sweep."""
    from arq.jobs import Job

    queue = settings.queue_name  # arq keeps a queue as a sorted set named after it
    await app.state.redis.delete(queue)
    await kit.start()
    job_ids = [j.decode() for j in await app.state.redis.zrange(queue, 0, -1)]
    functions = [(await Job(j, app.state.redis, _queue_name=queue).info()).function for j in job_ids]
    assert functions == ["provision_now"]


async def test_r_svc_01_meetings_features(kit):
    trial = await kit.start(meetings={"edition": "BASIC", "features": ["MEETINGS_1000", "WEBEX_ASSISTANT"]})
    meetings = next(s for s in trial["services"] if s["type"] == "MEETINGS")["meetings"]
    assert meetings["features"] == ["MEETINGS_1000", "WEBEX_ASSISTANT"]


async def test_r_svc_01_service_options_need_their_service(kit, sessionmaker):
    """Options for a service not picked are refused on their field, saying which service they need,
    nothing started: kills the Meetings refusal's message mutated (`options.check`, "XXMeetings options
    need the MEETINGS service.XX", a survivor of `make mutate`)."""
    body = await kit.call(START, {"input": new_customer_input(services=["MESSAGING"], meetings={"edition": "BASIC"},
                                                              calling={"pstn": "CCP"})})
    errors = {(tuple(e["field"]), e["code"], e["message"]) for e in body["data"]["startTrial"]["userErrors"]}
    assert errors == {(("meetings",), "INVALID_INPUT", "Meetings options need the MEETINGS service."),
                      (("calling",), "INVALID_INPUT", "Calling options need the CALLING service.")}
    assert await count(sessionmaker, Trial) == 0


async def test_r_svc_02_enterprise_needs_valid_site_url_and_time_zone(kit):
    bad = await kit.call(START, {"input": new_customer_input(
        meetings={"edition": "ENTERPRISE", "siteUrl": "-acme.webex.com", "timeZone": "Mars/Olympus"})})
    assert set(errors_of(bad, "startTrial")) == {"INVALID_SITE_URL", "INVALID_TIME_ZONE"}
    trial = await kit.start(meetings={"edition": "ENTERPRISE", "siteUrl": "Acme-Oslo.webex.com",
                                      "timeZone": "Europe/Oslo"})
    meetings = next(s for s in trial["services"] if s["type"] == "MEETINGS")["meetings"]
    assert meetings == {"edition": "ENTERPRISE", "siteUrl": "acme-oslo.webex.com", "timeZone": "Europe/Oslo",
                        "features": []}


async def test_r_svc_02_site_url_is_unique_case_insensitive(kit):
    await kit.start(meetings={"edition": "ENTERPRISE", "siteUrl": "acme.webex.com", "timeZone": "Europe/Oslo"})
    body = await kit.call(START, {"input": new_customer_input(
        adminEmail="admin@other.example", meetings={"edition": "ENTERPRISE", "siteUrl": "ACME.webex.com",
                                                    "timeZone": "Europe/Oslo"})})
    assert errors_of(body, "startTrial") == ["SITE_URL_TAKEN"]
    # on the field the form marks, with its message (the unique index is the only check: the field
    # of `availability.integrity_error` mutated survived `make mutate`)
    [error] = body["data"]["startTrial"]["userErrors"]
    assert (error["field"], error["message"]) == (["meetings", "siteUrl"], "This site URL is taken.")


async def test_r_svc_03_calling_pstn_choice(kit):
    trial = await kit.start(services=["CALLING"], calling={"pstn": "PARTNER_DIDS"})
    assert trial["services"][0]["calling"] == {"pstn": "PARTNER_DIDS"}
    ccp = await kit.start(adminEmail="a@ccp.example", services=["CALLING"])
    assert ccp["services"][0]["calling"] == {"pstn": "CCP"}


async def test_r_svc_04_license_count_applies_to_every_service_but_devices(kit):
    """1 to 1 000 licenses, both ends included: kills the upper bound made exclusive
    (`options.check_license_count`, `count <= cap` -> `count < cap`, a survivor of `make mutate`)."""
    trial = await kit.start(services=["MESSAGING", "MEETINGS", "DEVICES"], licenseCount=200)
    counts = {s["type"]: s["licenseCount"] for s in trial["services"]}
    assert counts == {"MESSAGING": 200, "MEETINGS": 200, "DEVICES": None}
    body = await kit.call(START, {"input": new_customer_input(adminEmail="b@b.example", licenseCount=1001)})
    assert errors_of(body, "startTrial") == ["LICENSE_COUNT_OUT_OF_RANGE"]
    assert body["data"]["startTrial"]["userErrors"][0]["message"] == "The license count must be between 1 and 1000."
    most = await kit.start(adminEmail="c@c.example", licenseCount=1000)
    assert {s["licenseCount"] for s in most["services"]} == {1000}


async def test_r_svc_05_duration_is_30_60_or_90(kit):
    for days in (30, 60, 90):
        trial = await kit.start(adminEmail=f"d{days}@dur.example", durationDays=days)
        assert trial["daysLeft"] == days and trial["durationDays"] == days
    body = await kit.call(START, {"input": new_customer_input(durationDays=120)})
    assert errors_of(body, "startTrial") == ["INVALID_DURATION"]


async def test_tier2_partner_may_start_trials(client, sessionmaker):
    distributor = await partner_team(sessionmaker)
    team = await partner_team(sessionmaker, tier=PartnerTier.TIER2, distributor_id=distributor.partner_id)
    body = await gql(client, START, {"input": new_customer_input()}, token=team.tokens[Role.SALES_ADMIN])
    assert errors_of(body, "startTrial") == []


async def test_start_writes_the_same_rows_in_one_statement_on_postgresql(kit, sessionmaker):
    """Issue 5: PostgreSQL writes a start in one statement, SQLite with one insert per table; on
    PostgreSQL both ways write the same rows (everything but the database's ids)."""
    import pytest
    from sqlalchemy import text

    from server import clock
    from server.domain.trials import start_rows
    from server.domain.trials import start as trials
    from server.domain.core.actor import Actor, ActorKind

    if sessionmaker.kw["bind"].dialect.name != "postgresql":
        pytest.skip("the one-statement write is PostgreSQL's")
    actor = Actor(kind=ActorKind.API_TOKEN, user_id=kit.team.user_ids[Role.SALES_ADMIN],
                  partner_id=kit.team.partner_id, roles=frozenset({Role.SALES_ADMIN}), token_id=7)
    services = [dict(service="MEETINGS", license_count=50, holds=True, removed_at=None, meetings_edition="ENTERPRISE",
                     site_url="acme.webex.com", time_zone="Europe/Oslo", meetings_features=["MEETINGS_1000"],
                     pstn=None)]
    services.append(dict(service="CALLING", license_count=50, holds=True, removed_at=None, meetings_edition=None,
                         site_url=None, time_zone=None, meetings_features=None, pstn="CCP"))
    written, now = {}, clock.now()
    for way, write in (("one statement", start_rows._write_postgres), ("per table", start_rows._write_each)):
        email = f"admin@{way.replace(' ', '-')}.example"
        rows = start_rows.new_trial_rows(actor, name="Acme", business_vertical="Retail", country="NO", region="EU",
                                         email=email, locale=None, license_count=50, duration_days=90,
                                         setup_now=True, services=[dict(s) for s in services], now=now)
        async with sessionmaker() as db, db.begin():
            params = {"partner_id": kit.team.partner_id, "own_domain": trials.own_domain(email), "email": email}
            _, customer_id, trial_id, service_ids = await write(db, actor, rows,
                                                                start_rows.Checks(trials.START_CHECKS, params, trials.refuse))
            tables = {}
            for table, key in (("customer_orgs", "id"), ("customer_users", "customer_id"),
                               ("partner_access", "customer_id"), ("trials", "customer_id"),
                               ("trial_services", "customer_id"), ("audit_events", "customer_id")):
                result = await db.execute(text(f"SELECT * FROM {table} WHERE {key} = :c ORDER BY 1"), {"c": customer_id})
                tables[table] = [{k: v for k, v in row._mapping.items() if k not in ("id", "customer_id", "trial_id",
                                                                                   "subject_id", "at")}
                                 for row in result]
            result = await db.execute(text("SELECT * FROM deadlines WHERE subject_id = :t ORDER BY due_at, kind"),
                                      {"t": trial_id})
            tables["deadlines"] = [{k: v for k, v in row._mapping.items() if k not in ("id", "subject_id", "created_at")}
                                   for row in result]
            assert [s["service"] for s in tables["trial_services"]] == ["MEETINGS", "CALLING"]
            assert len(service_ids) == 2
            await db.rollback()
        for row in tables["customer_users"] + tables["customer_orgs"] + tables["audit_events"]:
            row.pop("email", None), row.pop("admin_email", None)
        for row in tables["audit_events"]:
            row["after"].pop("admin", None)
        written[way] = tables
    assert written["one statement"] == written["per table"]


async def test_parallel_identical_starts_make_one_customer(kit, sessionmaker):
    """Issue 5: without a clientMutationId a start on PostgreSQL is one autocommit statement on its
    own connection; twenty identical starts at once still make one customer, the others ORG_EXISTS."""
    import asyncio

    bodies = await asyncio.gather(*(kit.call(START, {"input": new_customer_input()}) for _ in range(20)))
    codes = [errors_of(body, "startTrial") for body in bodies]
    assert codes.count([]) == 1 and codes.count(["ORG_EXISTS"]) == 19, codes
    assert await count(sessionmaker, CustomerOrg) == 1
    assert await count(sessionmaker, Trial) == 1
