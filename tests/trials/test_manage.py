"""Managing trials: R-PAID-01, R-EDIT-01, R-EXT-01, R-BUY-01, R-CONV-01, R-CANCEL-01, R-ROLE-02 reach."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from server import clock
from server.db.models import OutboxEmail, PurchasedService, Shipment, Trial
from server.enums import PartnerTier, Role
from server.schema.node import decode_id, to_global_id
from tests.factories import partner_team
from tests.helpers import gql
from tests.trials.conftest import (
    CANCEL, CONVERT, EXTEND, INTEREST, PAID, UPDATE, customer_admin, errors_of, run_as, trial_of,
)


async def recipients(sessionmaker, kind: str) -> list[str]:
    async with sessionmaker() as db:
        return sorted(await db.scalars(select(OutboxEmail.recipient).where(OutboxEmail.kind == kind)))


async def set_trial(sessionmaker, trial: dict, **values) -> None:
    async with sessionmaker() as db, db.begin():
        await db.execute(update(Trial).where(Trial.id == decode_id(trial["id"], "Trial")).values(**values))


async def test_r_paid_01_trial_for_paid_customer_emails_every_admin(kit):
    customer = await kit.paid_customer(purchased=["MEETINGS"], admin_email="a@paid.example",
                                       extra_admins=["b@paid.example"])
    trial = await kit.paid_trial(customer, services=("CALLING", "MESSAGING"))
    assert trial["state"] == "ACTIVE" and trial["customer"]["subscriptionStatus"] == "TRIAL_ACTIVE"
    assert await recipients(kit.sessionmaker, "trial_started") == ["a@paid.example", "b@paid.example"]
    body = await kit.call(PAID, {"c": to_global_id("Customer", customer), "s": ["MEETINGS"], "n": 5, "d": 30})
    assert errors_of(body, "addTrialToPaidCustomer") == ["SERVICE_NOT_AVAILABLE"]


async def test_r_edit_01_license_count_and_services(kit):
    customer = await kit.paid_customer()
    trial = await kit.paid_trial(customer, services=("CALLING", "MESSAGING"))
    body = await kit.call(UPDATE, {"t": trial["id"], "v": trial["version"], "n": 50, "add": ["MEETINGS"],
                                   "rm": ["MESSAGING"]})
    edited = trial_of(body, "updateTrial")
    assert {s["type"]: s["licenseCount"] for s in edited["services"]} == {"CALLING": 50, "MEETINGS": 50}
    assert edited["version"] == trial["version"] + 1


async def test_r_edit_01_removing_devices_with_devices_out_is_refused(kit):
    customer = await kit.paid_customer()
    trial = await kit.paid_trial(customer, services=("MESSAGING", "DEVICES"))
    async with kit.sessionmaker() as db, db.begin():
        db.add(Shipment(trial_id=decode_id(trial["id"], "Trial"), customer_id=customer, device_type="PHONE",
                        model="Cisco Desk Phone 9841", quantity=1, status="SHIPPED", country="NO",
                        created_at=clock.now()))
    body = await kit.call(UPDATE, {"t": trial["id"], "v": trial["version"], "rm": ["DEVICES"]})
    assert errors_of(body, "updateTrial") == ["DEVICES_OUTSTANDING"]


async def test_r_edit_01_stale_version_conflicts(kit):
    trial = await kit.paid_trial(await kit.paid_customer())
    trial_of(await kit.call(UPDATE, {"t": trial["id"], "v": trial["version"], "n": 20}), "updateTrial")
    body = await kit.call(UPDATE, {"t": trial["id"], "v": trial["version"], "n": 30})
    assert errors_of(body, "updateTrial") == ["VERSION_CONFLICT"]


async def test_r_ext_01_extend_adds_to_current_end(kit):
    trial = await kit.paid_trial(await kit.paid_customer(), days=90)
    await kit.call("mutation { advanceClock(days: 25) }")
    extended = trial_of(await kit.call(EXTEND, {"t": trial["id"], "d": 30}), "extendTrial")
    assert extended["daysLeft"] == 95
    body = await kit.call(EXTEND, {"t": trial["id"], "d": 45})
    assert errors_of(body, "extendTrial") == ["INVALID_DURATION"]


async def test_r_ext_01_extending_in_grace_reactivates(kit):
    trial = await kit.paid_trial(await kit.paid_customer(), days=30)
    await kit.call("mutation { advanceClock(days: 40) }")
    await set_trial(kit.sessionmaker, trial, state="EXPIRED")
    extended = trial_of(await kit.call(EXTEND, {"t": trial["id"], "d": 30}), "extendTrial")
    assert extended["state"] == "ACTIVE" and extended["daysLeft"] == 20


async def test_r_buy_01_interest_emails_partner_admins(kit):
    customer = await kit.paid_customer()
    trial = await kit.paid_trial(customer)
    admin = await customer_admin(kit.sessionmaker, customer)
    trial_of(await run_as(kit.app, admin, INTEREST, {"t": trial["id"]}), "expressPurchaseInterest")
    team = kit.team.emails
    expected = sorted([team[Role.PARTNER_FULL_ADMIN], team[Role.PARTNER_ADMIN], team[Role.SALES_FULL_ADMIN],
                       team[Role.SALES_ADMIN]])
    assert await recipients(kit.sessionmaker, "purchase_interest") == expected
    body = await kit.call(INTEREST, {"t": trial["id"]})
    assert errors_of(body, "expressPurchaseInterest") == ["FORBIDDEN"]


async def test_r_conv_01_tier1_converts_with_full_order(kit):
    customer = await kit.paid_customer(admin_email="boss@conv.example")
    trial = await kit.paid_trial(customer, services=("CALLING", "MESSAGING"))
    vars = {"t": trial["id"], "o": "ORD-1", "e": "boss@conv.example", "s": ["CALLING"]}
    assert errors_of(await kit.call(CONVERT, vars), "convertTrial") == ["SERVICES_OMITTED"]
    bad = await kit.call(CONVERT, {**vars, "e": "someone@new.example", "c": True})
    assert errors_of(bad, "convertTrial") == ["PROVISIONING_EMAIL_MISMATCH"]
    converted = trial_of(await kit.call(CONVERT, {**vars, "c": True}), "convertTrial")
    assert converted["state"] == "CONVERTED"
    async with kit.sessionmaker() as db:
        assert set(await db.scalars(select(PurchasedService.service))) == {"CALLING"}


async def test_r_conv_01_tier2_contacts_distributor_who_may_convert(client, sessionmaker):
    from tests.factories import existing_customer

    distributor = await partner_team(sessionmaker)
    tier2 = await partner_team(sessionmaker, tier=PartnerTier.TIER2, distributor_id=distributor.partner_id)
    customer = await existing_customer(sessionmaker, managed_by=tier2.partner_id, admin_email="x@t2.example")
    body = await gql(client, PAID, {"c": to_global_id("Customer", customer), "s": ["CALLING"], "n": 5, "d": 30},
                     token=tier2.tokens[Role.SALES_ADMIN])
    trial = trial_of(body, "addTrialToPaidCustomer")
    vars = {"t": trial["id"], "o": "ORD-2", "e": "x@t2.example", "s": ["CALLING"]}
    body = await gql(client, CONVERT, vars, token=tier2.tokens[Role.SALES_ADMIN])
    assert errors_of(body, "convertTrial") == ["CONTACT_DISTRIBUTOR"]
    # what the tier-2 partner reads (its text mutated survived `make mutate`)
    assert body["data"]["convertTrial"]["userErrors"][0]["message"] == "Tier-2 partners convert through their distributor."
    body = await gql(client, CONVERT, vars, token=distributor.tokens[Role.PARTNER_ADMIN])
    assert trial_of(body, "convertTrial")["state"] == "CONVERTED"


async def test_r_conv_01_allowed_in_grace_not_after_cancel(kit):
    customer = await kit.paid_customer(admin_email="g@grace.example")
    trial = await kit.paid_trial(customer)
    await set_trial(kit.sessionmaker, trial, state="EXPIRED")
    vars = {"t": trial["id"], "o": "ORD-3", "e": "g@grace.example", "s": ["CALLING"]}
    assert trial_of(await kit.call(CONVERT, vars), "convertTrial")["state"] == "CONVERTED"
    assert errors_of(await kit.call(CONVERT, vars), "convertTrial") == ["INVALID_STATE"]


async def test_r_cancel_01_partner_cancels_and_frees_the_service(kit):
    customer = await kit.paid_customer()
    trial = await kit.paid_trial(customer)
    cancelled = trial_of(await kit.call(CANCEL, {"t": trial["id"]}), "cancelTrial")
    assert cancelled["state"] == "CANCELLED"
    assert await recipients(kit.sessionmaker, "trial_cancelled")
    assert (await kit.paid_trial(customer))["state"] == "ACTIVE"


async def test_r_cancel_01_customer_admin_may_cancel(kit):
    customer = await kit.paid_customer()
    trial = await kit.paid_trial(customer)
    admin = await customer_admin(kit.sessionmaker, customer)
    assert trial_of(await run_as(kit.app, admin, CANCEL, {"t": trial["id"]}), "cancelTrial")["state"] == "CANCELLED"


async def test_r_role_02_read_only_cannot_manage_and_sales_admin_only_own(kit):
    customer = await kit.paid_customer()
    trial = await kit.paid_trial(customer, role=Role.SALES_FULL_ADMIN)
    body = await kit.call(EXTEND, {"t": trial["id"], "d": 30}, Role.READ_ONLY)
    assert errors_of(body, "extendTrial") == ["FORBIDDEN"]
    body = await kit.call(EXTEND, {"t": trial["id"], "d": 30}, Role.SALES_ADMIN)
    assert errors_of(body, "extendTrial") == ["NOT_FOUND"]
    assert trial_of(await kit.call(EXTEND, {"t": trial["id"], "d": 30}, Role.PARTNER_ADMIN), "extendTrial")


async def test_r_time_07_subscription_status_follows_days_left(kit):
    trial = await kit.paid_trial(await kit.paid_customer(), days=90)
    query = "query($id: ID!) { trial(id: $id) { daysLeft customer { subscriptionStatus } } }"
    seen = []
    for days in (0, 31, 30, 30):
        await kit.call(f"mutation {{ advanceClock(days: {days}) }}")
        view = (await kit.call(query, {"id": trial["id"]}))["data"]["trial"]
        seen.append((view["daysLeft"], view["customer"]["subscriptionStatus"]))
    assert seen == [(90, "TRIAL_ACTIVE"), (59, "TRIAL_EXPIRING_60"), (29, "TRIAL_EXPIRING_30"),
                    (0, "TRIAL_EXPIRING_30")]
    await set_trial(kit.sessionmaker, trial, state="EXPIRED")
    filtered = await kit.call("{ customers(status: TRIAL_EXPIRED) { totalCount } }")
    assert filtered["data"]["customers"]["totalCount"] == 1


async def test_r_time_07_status_filter_matches_each_customers_derived_status(kit):
    """`customers(status: X)` returns exactly the customers whose `subscriptionStatus` is X, for every
    rule of the precedence (the filter is sargable SQL, the field is derived in Python)."""
    await kit.paid_customer()  # no trial: the stored status
    soon = lambda days: clock.now() + timedelta(days=days)  # noqa: E731
    for values in ({}, {"ends_at": soon(45)}, {"ends_at": soon(10)}, {"state": "EXPIRED"},
                   {"state": "PENDING_PROVISIONING"}, {"state": "PENDING_CONSENT"}):
        trial = await kit.paid_trial(await kit.paid_customer())
        if values:
            await set_trial(kit.sessionmaker, trial, **values)
    both = await kit.paid_customer()  # an expiring trial wins over an expired one
    await set_trial(kit.sessionmaker, await kit.paid_trial(both, services=("MESSAGING",)), state="EXPIRED")
    await set_trial(kit.sessionmaker, await kit.paid_trial(both, services=("CALLING",)), ends_at=soon(20))
    everyone = (await kit.call("{ customers(first: 100) { edges { node { id subscriptionStatus } } } }", {},
                               Role.PARTNER_ADMIN))["data"]["customers"]
    derived: dict[str, set[str]] = {}
    for node in (edge["node"] for edge in everyone["edges"]):
        derived.setdefault(node["subscriptionStatus"], set()).add(node["id"])
    assert len(derived) == 7, sorted(derived)  # every rule is exercised
    query = "query($s: SubscriptionStatus) { customers(first: 100, status: $s) { totalCount edges { node { id } } } }"
    for value in ("ACTIVE", "SUSPENDED", "TRIAL_ACTIVE", "TRIAL_EXPIRING_60", "TRIAL_EXPIRING_30", "TRIAL_EXPIRED",
                  "PENDING_PROVISIONING", "PENDING_CONSENT"):
        page = (await kit.call(query, {"s": value}, Role.PARTNER_ADMIN))["data"]["customers"]
        assert {edge["node"]["id"] for edge in page["edges"]} == derived.get(value, set()), value
        assert page["totalCount"] == len(derived.get(value, set())), value
