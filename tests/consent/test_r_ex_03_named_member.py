"""R-EX-03: the consent request goes to a full admin alone; otherwise to *that address* and every admin
of the org — also when the address is a member of the org who is not an admin."""
from __future__ import annotations

from server import clock
from server.db.models import CustomerUser
from server.enums import CustomerRole
from tests.consent.test_consent import emails
from tests.factories import existing_customer
from tests.trials.conftest import EXISTING, new_customer_input, trial_of


async def test_r_ex_03_a_plain_member_named_gets_it_with_every_admin(kit):
    """Kills (fresh make mutate): `user = await db.scalar(select(CustomerUser)...)` -> `user = None` in
    consent.requests.recipients (the named member, no admin, was left out)."""
    org = await existing_customer(kit.sessionmaker, admin_email="boss@member.example",
                                  extra_admins=["deputy@member.example"])
    async with kit.sessionmaker() as db, db.begin():
        db.add(CustomerUser(customer_id=org, email="member@member.example", role=CustomerRole.USER.value,
                            locale="en", created_at=clock.now()))
    body = await kit.call(EXISTING, {"input": new_customer_input(adminEmail="member@member.example",
                                                                 services=["MESSAGING"])})
    assert trial_of(body, "requestTrialForExistingCustomer")["state"] == "PENDING_CONSENT"
    assert await emails(kit.sessionmaker, "consent_request") == [
        "boss@member.example", "deputy@member.example", "member@member.example"]
