"""R-SVC-06 across partners and trial states, as `availableServices` answers it (not only at the
database's unique index): another partner's trial of a customer holds its services while it is
pending consent, pending provisioning, active or expired in grace, and lets them go once it is
released, cancelled or declined. Each state is reached through the real entry points (request,
the customer admin's consent, provisioning, the worker's deadlines on the test clock).

Alpha (the kit's team) asks a customer for a Meetings trial (accepted, Alpha manages the customer);
Beta, which holds an admin grant on the customer, asks which services the customer may still try
(by ID: with the reason; by admin email, the existing-customer flow: reasons hidden, R-EX-01) and
asks for a Meetings trial itself.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from jobs.runtime import Runtime
from jobs.sweep import run_deadlines
from server import clock
from server.db.models import PartnerAccessGrant, Trial
from server.enums import Role, ServiceType
from server.schema.node import decode_id, to_global_id
from tests import factories
from tests.factories import existing_customer, partner_team
from tests.helpers import gql
from tests.trials.conftest import (
    ACCEPT, CANCEL, DECLINE, EXISTING, customer_admin, errors_of, new_customer_input, run_as, trial_of,
)

AVAILABLE = "query($c: ID, $e: String) { availableServices(customerId: $c, adminEmail: $e) { type available reason } }"
EMAIL = "boss@shared-customer.example"
HIDDEN = "Not available for this organization."
OTHER_PARTNER = "Another partner has it in a pending or active trial for this customer."
THIS_PARTNER = "This partner already has it in a pending or active trial."
HOLDING = ["PENDING_CONSENT", "PENDING_PROVISIONING", "ACTIVE", "EXPIRED"]
LET_GO = ["RELEASED", "CANCELLED", "DECLINED"]


async def _advance_and_sweep(app, days: int) -> None:
    """Move the test clock and apply every due deadline, as the worker does."""
    async with app.state.sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=days))
    state = app.state
    await run_deadlines(Runtime(settings=state.settings, engine=state.engine, sessionmaker=state.sessionmaker))


async def _alpha_trial_in(kit, state: str) -> tuple[int, factories.Team]:
    """Beta's customer with Alpha's Meetings trial in `state`: (customer pk, Beta's team)."""
    beta = await partner_team(kit.sessionmaker, "Beta")
    email = EMAIL
    # It pays for Calling, so it lives on after the trial's release (R-TIME-05 releases a trial-only org whole).
    customer = await existing_customer(kit.sessionmaker, admin_email=email, purchased=[ServiceType.CALLING])
    async with kit.sessionmaker() as db, db.begin():
        db.add(PartnerAccessGrant(customer_id=customer, partner_id=beta.partner_id, access="FULL_ADMIN",
                                  granted_at=clock.now()))
    trial = trial_of(await kit.call(EXISTING, {"input": new_customer_input(
        adminEmail=email, services=["MEETINGS"], durationDays=30)}), "requestTrialForExistingCustomer")
    admin = await customer_admin(kit.sessionmaker, customer)
    if state == "DECLINED":
        trial = trial_of(await run_as(kit.app, admin, DECLINE, {"t": trial["id"]}), "declineTrialConsent")
    elif state != "PENDING_CONSENT":
        trial = trial_of(await run_as(kit.app, admin, ACCEPT, {"t": trial["id"], "f": True}), "acceptTrialConsent")
    if state in ("ACTIVE", "EXPIRED", "RELEASED", "CANCELLED"):
        await factories.provisioned(kit.sessionmaker, trial["id"])
    if state == "CANCELLED":
        trial = trial_of(await kit.call(CANCEL, {"t": trial["id"]}), "cancelTrial")
    if state in ("EXPIRED", "RELEASED"):
        await _advance_and_sweep(kit.app, 31)
    if state == "RELEASED":
        await _advance_and_sweep(kit.app, 31)
    async with kit.sessionmaker() as db:  # a declined or released trial is out of Alpha's sight: read the row
        reached = (await db.get(Trial, decode_id(trial["id"], "Trial"))).state
    assert reached == ("CANCELLED" if state == "DECLINED" else state)  # a declined request ends its trial
    return customer, beta


async def _availability(kit, token: str, customer: int | None) -> dict[str, dict]:
    """By the customer's ID, or (None) by its admin email as the existing-customer flow asks."""
    variables = {"c": to_global_id("Customer", customer)} if customer else {"e": EMAIL}
    body = await gql(kit.client, AVAILABLE, variables, token=token)
    assert "errors" not in body, body
    return {row["type"]: row for row in body["data"]["availableServices"]}


def _ask(kit, token: str):
    return gql(kit.client, EXISTING, {"input": new_customer_input(adminEmail=EMAIL, services=["MEETINGS"])},
               token=token)


@pytest.mark.parametrize("state", HOLDING)
async def test_r_svc_06_another_partners_trial_holds_its_services(kit, state):
    """Kills: `availability.for_customer` reading only the caller's partner's trials (or none), its
    two reasons swapped, `TrialService.holds` released early by a state change (accept, provision,
    expiry), and a holding state missing from `lifecycle.HOLDING_STATES`."""
    customer, beta_team = await _alpha_trial_in(kit, state)
    beta = beta_team.tokens[Role.SALES_FULL_ADMIN]
    rows = await _availability(kit, beta, customer)
    assert rows["MEETINGS"] == {"type": "MEETINGS", "available": False, "reason": OTHER_PARTNER}
    assert rows["CALLING"] == {"type": "CALLING", "available": False, "reason": "The customer has purchased this service."}
    assert all(rows[s]["available"] and rows[s]["reason"] is None for s in ("MESSAGING", "DEVICES"))
    hidden = await _availability(kit, beta, None)
    assert hidden["MEETINGS"] == {"type": "MEETINGS", "available": False, "reason": HIDDEN}
    refused = await _ask(kit, beta)
    assert errors_of(refused, "requestTrialForExistingCustomer") == ["SERVICE_NOT_AVAILABLE"]
    assert refused["data"]["requestTrialForExistingCustomer"]["userErrors"][0]["message"] == f"MEETINGS: {OTHER_PARTNER}"
    own = await _availability(kit, kit.token(Role.SALES_FULL_ADMIN), customer)
    assert own["MEETINGS"] == {"type": "MEETINGS", "available": False, "reason": THIS_PARTNER}


@pytest.mark.parametrize("state", LET_GO)
async def test_r_svc_06_a_finished_trial_lets_its_services_go(kit, state):
    """Kills: `holds` kept after release, cancellation or a declined request (the service would stay
    unavailable for good), and `availability.for_customer` ignoring `holds`."""
    _, beta_team = await _alpha_trial_in(kit, state)
    beta = beta_team.tokens[Role.SALES_FULL_ADMIN]
    rows = await _availability(kit, beta, None)
    assert rows["MEETINGS"] == {"type": "MEETINGS", "available": True, "reason": None}
    asked = trial_of(await _ask(kit, beta), "requestTrialForExistingCustomer")
    assert (asked["state"], [s["type"] for s in asked["services"]]) == ("PENDING_CONSENT", ["MEETINGS"])
