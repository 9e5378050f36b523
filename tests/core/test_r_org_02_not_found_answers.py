"""R-ORG-02 "answer as if it did not exist": a customer ID that is malformed, of nobody, or another
partner's customer's gets one and the same answer — NOT_FOUND on the field, "No such customer." —
so the answer never tells a guessed ID from a real one."""
from __future__ import annotations

from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import existing_customer, partner_team
from tests.helpers import gql
from tests.trials.conftest import PAID


async def test_r_org_02_missing_malformed_and_foreign_customers_answer_alike(client, sessionmaker):
    """Kills: the noun of either NOT_FOUND in `visibility.get_customer` changed (no ID, and an ID out
    of reach), which would tell a guessed ID from a real one."""
    alpha = await partner_team(sessionmaker, "Alpha")
    beta = await partner_team(sessionmaker, "Beta")
    foreign = await existing_customer(sessionmaker, managed_by=beta.partner_id)
    answers = []
    for customer in ("garbage", to_global_id("Customer", 999999), to_global_id("Customer", foreign)):
        body = await gql(client, PAID, {"c": customer, "s": ["CALLING"], "n": 10, "d": 30},
                         token=alpha.tokens[Role.SALES_ADMIN])
        answers.append(body["data"]["addTrialToPaidCustomer"]["userErrors"])
    assert answers == [[{"code": "NOT_FOUND", "field": ["customerId"], "message": "No such customer."}]] * 3
