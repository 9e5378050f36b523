"""Concurrency and cost: R-SVC-06 under 20 parallel requests, clientMutationId replay,
and a customers page costing the same statements for 1, 10 and 50 customers."""
from __future__ import annotations

import asyncio

from sqlalchemy import event, func, select

from server.db.models import Trial
from server.schema.node import to_global_id
from tests.factories import existing_customer
from tests.trials.conftest import PAID, START, errors_of, new_customer_input, trial_of


async def test_r_svc_06_twenty_parallel_requests_make_one_trial(kit, sessionmaker):
    customer = await kit.paid_customer()
    variables = {"c": to_global_id("Customer", customer), "s": ["CALLING"], "n": 10, "d": 90}
    bodies = await asyncio.gather(*(kit.call(PAID, variables) for _ in range(20)))
    codes = [errors_of(b, "addTrialToPaidCustomer") for b in bodies]
    assert codes.count([]) == 1 and codes.count(["SERVICE_NOT_AVAILABLE"]) == 19, codes
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Trial)) == 1


async def test_client_mutation_id_replays_the_first_answer(kit, sessionmaker):
    data = new_customer_input(clientMutationId="key-1")
    first = trial_of(await kit.call(START, {"input": data}), "startTrial")
    again = trial_of(await kit.call(START, {"input": data}), "startTrial")
    assert again["id"] == first["id"]
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Trial)) == 1


async def test_client_mutation_id_under_concurrency(kit, sessionmaker):
    data = new_customer_input(clientMutationId="key-2")
    bodies = await asyncio.gather(*(kit.call(START, {"input": data}) for _ in range(5)))
    ids = {trial_of(b, "startTrial")["id"] for b in bodies if not errors_of(b, "startTrial")}
    assert len(ids) == 1
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Trial)) == 1


LIST_PAGE = """query($first: Int) { customers(first: $first) { totalCount edges { node {
  id name subscriptionStatus provisioningStatus purchasedServices managingPartner { name }
  trials { id state daysLeft services { type licenseCount expired } } } } } }"""
FULL_PAGE = """query($first: Int) { customers(first: $first) { totalCount edges { node {
  id name subscriptionStatus provisioningStatus purchasedServices managingPartner { name } partnerAccess locations { id }
  trials { id state daysLeft services { type licenseCount expired } shipments { id status } } } } } }"""


async def test_customers_page_costs_the_same_for_1_10_and_50(kit, app):
    """Per-request DataLoaders: the SELECTs of a page do not grow with its size (auth and clock
    reads, the same for every request, are left out)."""
    for i in range(50):
        customer = await existing_customer(kit.sessionmaker, managed_by=kit.team.partner_id, name=f"C{i:02}")
        await kit.paid_trial(customer, services=("CALLING", "MESSAGING"))
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "api_tokens" not in statement \
                and "clock_state" not in statement:
            statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        costs: dict[tuple[str, int], int] = {}
        for name, page in (("list", LIST_PAGE), ("full", FULL_PAGE)):
            for size in (1, 10, 50):
                statements.clear()
                body = await kit.call(page, {"first": size})
                assert len(body["data"]["customers"]["edges"]) == size
                costs[name, size] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert costs["list", 1] == costs["list", 10] == costs["list", 50] <= 6, costs
    assert costs["full", 1] == costs["full", 10] == costs["full", 50], costs
