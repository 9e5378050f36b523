"""The existing-customer flow: R-EX-01..06, R-ROLE-03/04, consent links."""
from __future__ import annotations

from sqlalchemy import select

from server.auth import links
from server.db.models import ConsentRequest, CustomerOrg, OutboxEmail, PartnerOrg, Trial
from server.domain.consent import requests as consent
from server.enums import Role, ServiceType
from tests.factories import existing_customer
from tests.trials.conftest import (
    ACCEPT, CANCEL_REQUEST, CUSTOMERS, DECLINE, EXISTING, RESEND, customer_admin, errors_of, new_customer_input,
    run_as, trial_of,
)


async def request_trial(kit, email="boss@existing.example", services=("CALLING",), **org) -> dict:
    await existing_customer(kit.sessionmaker, admin_email=email, **org)
    body = await kit.call(EXISTING, {"input": new_customer_input(adminEmail=email, services=list(services))})
    return trial_of(body, "requestTrialForExistingCustomer")


async def emails(sessionmaker, kind: str) -> list[str]:
    async with sessionmaker() as db:
        return sorted(await db.scalars(select(OutboxEmail.recipient).where(OutboxEmail.kind == kind)))


async def test_r_ex_01_unknown_email_is_not_an_existing_org(kit):
    body = await kit.call(EXISTING, {"input": new_customer_input(adminEmail="ghost@nowhere.example")})
    assert errors_of(body, "requestTrialForExistingCustomer") == ["NOT_AN_EXISTING_ORG"]


async def test_r_ex_02_bought_calling_cannot_try_calling(kit):
    await existing_customer(kit.sessionmaker, admin_email="x@bought.example",
                            purchased=[ServiceType.CALLING, ServiceType.MEETINGS])
    body = await kit.call(EXISTING, {"input": new_customer_input(adminEmail="x@bought.example",
                                                                 services=["CALLING"])})
    assert errors_of(body, "requestTrialForExistingCustomer") == ["SERVICE_NOT_AVAILABLE"]
    body = await kit.call(EXISTING, {"input": new_customer_input(adminEmail="x@bought.example",
                                                                 services=["MESSAGING"])})
    assert trial_of(body, "requestTrialForExistingCustomer")["state"] == "PENDING_CONSENT"


async def test_r_ex_03_full_admin_alone_gets_the_consent_request(kit):
    """The request names who asks, for which org, in its subject: kills the partner's name given to the
    email renamed (`notify.context_for`: "partner_name" -> "XXpartner_nameXX", a survivor of `make
    mutate`): the subject would start " asks to start"."""
    trial = await request_trial(kit, extra_admins=["second@existing.example"])
    assert trial["state"] == "PENDING_CONSENT" and trial["startsAt"] is None
    assert await emails(kit.sessionmaker, "consent_request") == ["boss@existing.example"]
    async with kit.sessionmaker() as db:
        mail = await db.scalar(select(OutboxEmail).where(OutboxEmail.kind == "consent_request"))
        asked = await db.get(Trial, mail.trial_id)
        partner, customer = await db.get(PartnerOrg, asked.partner_id), await db.get(CustomerOrg, asked.customer_id)
    assert mail.subject == f"{partner.name} asks to start a Webex trial for {customer.name}"


async def test_r_ex_03_otherwise_every_admin_gets_it(kit):
    await request_trial(kit, email="plain@existing.example", full_admin=False, extra_admins=["other@existing.example"])
    assert await emails(kit.sessionmaker, "consent_request") == ["other@existing.example", "plain@existing.example"]


async def test_r_ex_04_accept_as_full_admin(kit):
    trial = await request_trial(kit)
    admin = await customer_admin(kit.sessionmaker, await customer_pk(kit, trial))
    accepted = trial_of(await run_as(kit.app, admin, ACCEPT, {"t": trial["id"], "f": True}), "acceptTrialConsent")
    assert accepted["state"] == "PENDING_PROVISIONING" and accepted["daysLeft"] == 90
    listed = (await kit.call(CUSTOMERS))["data"]["customers"]["edges"]
    assert listed[0]["node"]["subscriptionStatus"] == "PENDING_PROVISIONING"
    view = (await kit.call("query($id: ID!) { trial(id: $id) { customer { partnerAccess managingPartner { name } } } }",
                           {"id": trial["id"]}))["data"]["trial"]["customer"]
    assert view["partnerAccess"] == "FULL_ADMIN" and view["managingPartner"]


async def test_r_role_03_unchecked_means_provisioning_admin(kit):
    trial = await request_trial(kit)
    admin = await customer_admin(kit.sessionmaker, await customer_pk(kit, trial))
    await run_as(kit.app, admin, ACCEPT, {"t": trial["id"], "f": False})
    view = (await kit.call("query($id: ID!) { trial(id: $id) { customer { partnerAccess } } }",
                           {"id": trial["id"]}))["data"]["trial"]["customer"]
    assert view["partnerAccess"] == "PROVISIONING_ADMIN"


async def test_r_role_04_only_the_orgs_admins_may_answer(kit):
    trial = await request_trial(kit)
    stranger_org = await existing_customer(kit.sessionmaker, admin_email="someone@else.example")
    stranger = await customer_admin(kit.sessionmaker, stranger_org)
    body = await run_as(kit.app, stranger, ACCEPT, {"t": trial["id"], "f": True})
    assert errors_of(body, "acceptTrialConsent") == ["NOT_FOUND"]
    body = await kit.call(ACCEPT, {"t": trial["id"], "f": True})
    assert errors_of(body, "acceptTrialConsent") == ["FORBIDDEN"]


async def test_r_ex_04_decline_removes_customer_from_list(kit):
    trial = await request_trial(kit)
    admin = await customer_admin(kit.sessionmaker, await customer_pk(kit, trial))
    declined = trial_of(await run_as(kit.app, admin, DECLINE, {"t": trial["id"]}), "declineTrialConsent")
    assert declined["state"] == "CANCELLED"
    assert (await kit.call(CUSTOMERS))["data"]["customers"]["totalCount"] == 0


async def test_r_ex_05_resend_and_cancel_and_delete(kit):
    trial = await request_trial(kit)
    assert (await kit.call(CUSTOMERS))["data"]["customers"]["totalCount"] == 1
    trial_of(await kit.call(RESEND, {"t": trial["id"]}), "resendConsent")
    assert await emails(kit.sessionmaker, "consent_reminder") == ["boss@existing.example"]
    cancelled = trial_of(await kit.call(CANCEL_REQUEST, {"t": trial["id"]}), "cancelTrialRequest")
    assert cancelled["state"] == "CANCELLED"
    assert (await kit.call(CUSTOMERS))["data"]["customers"]["totalCount"] == 0
    body = await kit.call(RESEND, {"t": trial["id"]})
    assert errors_of(body, "resendConsent") == ["NOT_FOUND"]


async def test_r_ex_06_consent_link_is_single_use_and_dies_on_resend(kit, settings):
    trial = await request_trial(kit)
    async with kit.sessionmaker() as db:
        request = await db.scalar(select(ConsentRequest))
    first = consent.link_url(settings, request, "boss@existing.example").rsplit("/", 1)[1]
    second = consent.link_url(settings, request, "boss@existing.example").rsplit("/", 1)[1]
    async with kit.sessionmaker() as db, db.begin():
        user, _ = await consent.redeem_link(db, settings, first)
        assert user.email == "boss@existing.example"
    async with kit.sessionmaker() as db, db.begin():
        try:
            await consent.redeem_link(db, settings, first)
            raise AssertionError("a consent link opened twice")
        except links.LinkError as error:
            assert error.reason == "used"
    trial_of(await kit.call(RESEND, {"t": trial["id"]}), "resendConsent")
    async with kit.sessionmaker() as db, db.begin():
        try:
            await consent.redeem_link(db, settings, second)
            raise AssertionError("a link survived the resend")
        except links.LinkError as error:
            assert error.reason == "invalid"


async def test_r_ex_06_consent_timeout_cancels_the_request(kit):
    from server.db.models import Deadline
    from server.domain import deadline_handlers

    trial = await request_trial(kit)
    await kit.call("mutation { advanceClock(days: 31) }")
    async with kit.sessionmaker() as db, db.begin():
        deadline = await db.scalar(select(Deadline).where(Deadline.kind == "consent_timeout"))
        await deadline_handlers.HANDLERS["consent_timeout"](db, deadline)
    assert (await kit.call(CUSTOMERS))["data"]["customers"]["totalCount"] == 0
    body = await kit.call("query($id: ID!) { trial(id: $id) { state } }", {"id": trial["id"]})
    assert body["data"]["trial"] is None


async def test_r_ex_06_a_lapsed_request_tells_the_partner_who_asked_by_email(kit):
    """Issue 27 item 12: besides the webhook (trial.consent_expired), the user who sent the request
    gets an email saying the customer did not answer and how to ask again."""
    from server.db.models import Deadline, OutboxEmail
    from server.domain import deadline_handlers

    await request_trial(kit)
    await kit.call("mutation { advanceClock(days: 31) }")
    async with kit.sessionmaker() as db, db.begin():
        deadline = await db.scalar(select(Deadline).where(Deadline.kind == "consent_timeout"))
        await deadline_handlers.HANDLERS["consent_timeout"](db, deadline)
    async with kit.sessionmaker() as db:
        lapsed = (await db.scalars(select(OutboxEmail).where(OutboxEmail.kind == "consent_lapsed"))).all()
    assert [e.recipient for e in lapsed] == [kit.team.emails[Role.SALES_ADMIN]]
    assert "did not answer your trial request" in lapsed[0].subject and "/trials/existing" in lapsed[0].body_text


async def customer_pk(kit, trial: dict) -> int:
    from server.schema.node import decode_id

    return decode_id(trial["customer"]["id"], "Customer")


async def test_r_ex_06_only_a_pending_request_can_be_sent_again(kit):
    """A trial not waiting for consent has no request to resend: refused on the trial, saying so.
    Kills that refusal's message mutated (`requests.pending_request`, "XXThis trial is not waiting for
    the customer's consent.XX", a survivor of `make mutate`)."""
    started = await kit.start()
    body = await kit.call(RESEND, {"t": started["id"]})
    assert [(e["code"], e["field"], e["message"]) for e in body["data"]["resendConsent"]["userErrors"]] == [
        ("INVALID_STATE", ["trialId"], "This trial is not waiting for the customer's consent.")]
