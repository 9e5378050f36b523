"""SPEC §9 "every state change writes an audit event (who, what, when, before, after)", read back
the way a partner reads it (`auditEvents` of the customer): a new customer's trial started,
provisioned and extended, and an existing customer's consent — each event with its actor, subject,
state before and after."""
from __future__ import annotations

from server.schema.node import decode_id
from tests.factories import existing_customer, provisioned
from tests.trials.conftest import (
    ACCEPT, EXISTING, EXTEND, RESEND, START, customer_admin, new_customer_input, run_as, trial_of,
)

AUDIT = "query($c: ID!) { auditEvents(customerId: $c) { action actor subjectType before after } }"


async def _trail(kit, customer_gid: str) -> list[dict]:
    body = await kit.call(AUDIT, {"c": customer_gid})
    assert "errors" not in body, body
    return list(reversed(body["data"]["auditEvents"]))  # oldest first


async def test_spec_9_new_customer_trial_start_provision_extend_are_audited(kit):
    """Kills: the subject type or a before/after key of `customer.created` and `trial.started`
    (`start_rows._audit_events`), `trial.provisioned` (`provisioning.provision`: "provisioning") and
    `trial.extended` (`changes.extend_trial`: "days") changed, or an event dropped."""
    started = trial_of(await kit.call(START, {"input": new_customer_input()}), "startTrial")
    await provisioned(kit.sessionmaker, started["id"])
    extended = trial_of(await kit.call(EXTEND, {"t": started["id"], "d": 30}), "extendTrial")
    token = await kit_token_label(kit)
    span = {"starts_at": started["startsAt"], "ends_at": started["endsAt"]}
    assert await _trail(kit, started["customer"]["id"]) == [
        {"action": "customer.created", "actor": token, "subjectType": "Customer", "before": None,
         "after": {"name": "Acme AS", "country": "NO", "region": "EU", "admin": "admin@acme-new.example"}},
        {"action": "trial.started", "actor": token, "subjectType": "Trial", "before": None,
         "after": {"state": "PENDING_PROVISIONING", "license_count": 200, "version": 1, **span,
                   "services": ["MESSAGING", "MEETINGS"], "kind": "NEW_CUSTOMER"}},
        {"action": "trial.provisioned", "actor": "system", "subjectType": "Trial",
         "before": {"state": "PENDING_PROVISIONING", "provisioning": "PROVISIONING"},
         "after": {"state": "ACTIVE", "provisioning": "PROVISIONED", "region": "EU"}},
        {"action": "trial.extended", "actor": token, "subjectType": "Trial",
         "before": {"state": "ACTIVE", "license_count": 200, "version": 2, **span},
         "after": {"state": "ACTIVE", "license_count": 200, "version": 3, "starts_at": started["startsAt"],
                   "ends_at": extended["endsAt"], "days": 30}},
    ]


async def test_spec_9_consent_acceptance_is_audited_with_the_state_before(kit):
    """Kills: the "state" key of the consent decision's before/after (`consent.requests._close`)
    changed, the grant's event dropped, the first request's count (`request_trial`: sent once, so a
    resend is the second), and the trial's kind in its `trial.started` event renamed (`start.create_trial`:
    "kind" -> "XXkindXX", a survivor of `make mutate`: the event would not say how the trial began)."""
    await existing_customer(kit.sessionmaker, admin_email="boss@asked.example")
    asked = trial_of(await kit.call(EXISTING, {"input": new_customer_input(adminEmail="boss@asked.example",
                                                                          services=["CALLING"])}),
                     "requestTrialForExistingCustomer")
    trial_of(await kit.call(RESEND, {"t": asked["id"]}), "resendConsent")
    started = [e for e in await _trail(kit, asked["customer"]["id"]) if e["action"] == "trial.started"]
    assert [(e["subjectType"], e["after"]["state"], e["after"]["kind"]) for e in started] == [
        ("Trial", "PENDING_CONSENT", "EXISTING_CUSTOMER")]
    resent = [e for e in await _trail(kit, asked["customer"]["id"]) if e["action"] == "consent.resent"]
    assert [(e["subjectType"], e["after"]) for e in resent] == [("ConsentRequest", {"sent_count": 2})]
    admin = await customer_admin(kit.sessionmaker, decode_id(asked["customer"]["id"], "Customer"))
    trial_of(await run_as(kit.app, admin, ACCEPT, {"t": asked["id"], "f": True}), "acceptTrialConsent")
    decided = [e for e in await _trail(kit, asked["customer"]["id"]) if e["actor"] == "customer_admin:boss@asked.example"]
    assert [(e["action"], e["subjectType"], e["before"], e["after"]) for e in decided] == [
        ("consent.consent_accepted", "Trial", {"state": "PENDING_CONSENT", "consent": "PENDING"},
         {"state": "PENDING_PROVISIONING", "consent": "ACCEPTED"}),
        ("partner_access.granted", "Customer", {"managing_partner": None, "provisioning": "PROVISIONED"},
         {"managing_partner": kit.team.partner_id, "access": "FULL_ADMIN"}),
    ]


async def kit_token_label(kit) -> str:
    """How the audit trail names the kit's sales admin token (`token:<id>`)."""
    from sqlalchemy import select

    from server.db.models import ApiToken
    from server.enums import Role

    async with kit.sessionmaker() as db:
        token_id = await db.scalar(select(ApiToken.id).where(ApiToken.user_id == kit.team.user_ids[Role.SALES_ADMIN]))
    return f"token:{token_id}"


async def test_spec_9_conversion_is_audited_with_its_order_and_services(kit):
    """R-CONV-01's conversion in the trail: the order number and the services bought, with the
    omitted ones and the provisioning email: kills the `after` key renamed (`conversion.convert_trial`:
    "order" -> "XXorderXX", a survivor of `make mutate`: the trail would not say which order it was)."""
    from tests.trials.conftest import CONVERT

    customer = await kit.paid_customer(admin_email="boss@conv9.example")
    trial = await kit.paid_trial(customer, services=("CALLING", "MESSAGING"))
    trial_of(await kit.call(CONVERT, {"t": trial["id"], "o": "ORD-9", "e": "boss@conv9.example", "s": ["CALLING"],
                                      "c": True}), "convertTrial")
    converted = [e for e in await _trail(kit, trial["customer"]["id"]) if e["action"] == "trial.converted"]
    assert [(e["subjectType"], e["after"]["state"], e["after"]["order"], e["after"]["services"],
             e["after"]["omitted"], e["after"]["provisioning_email"]) for e in converted] == [
        ("Trial", "CONVERTED", "ORD-9", ["CALLING"], ["MESSAGING"], "boss@conv9.example")]
