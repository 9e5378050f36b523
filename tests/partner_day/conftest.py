"""The partner's day (issue 18): the lifecycle kit, plus arrangements that put a trial in each
"needs attention" category."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from server import clock
from server.db.models import ConsentRequest, CustomerOrg, DeviceExtensionRequest, Shipment, Trial
from server.schema.node import decode_id
from tests.trials.conftest import kit  # noqa: F401 - the fixture, shared

ATTENTION = """query($first: Int) { attention(first: $first) { kind totalCount
  items { customerId customerName trialId day daysLeft overdue } } }"""
WEEKS = """query($weeks: Int) { trialsByWeek(weeks: $weeks) { conversionRate
  weeks { weekStart isoWeek started converted expired released conversionRate } } }"""
EXTEND_MANY = """mutation($input: ExtendTrialsInput!) { extendTrials(input: $input) {
  clientMutationId userErrors { code field message }
  results { trialId trial { id endsAt daysLeft state } userErrors { code field message } } } }"""


def pk(trial: dict) -> int:
    return decode_id(trial["id"], "Trial")


async def set_trial(sessionmaker, trial: dict, **values) -> None:
    async with sessionmaker() as db, db.begin():
        await db.execute(update(Trial).where(Trial.id == pk(trial)).values(**values))


async def in_grace(sessionmaker, trial: dict, days_ago: int = 5) -> None:
    now = clock.now()
    await set_trial(sessionmaker, trial, state="EXPIRED", ends_at=now - timedelta(days=days_ago),
                    grace_ends_at=now - timedelta(days=days_ago) + timedelta(days=30))


async def provisioning_failed(sessionmaker, customer_id: int) -> None:
    async with sessionmaker() as db, db.begin():
        await db.execute(update(CustomerOrg).where(CustomerOrg.id == customer_id)
                         .values(provisioning_status="UNABLE_TO_PROVISION"))


async def consent_sent_days_ago(sessionmaker, trial: dict, days: int) -> None:
    async with sessionmaker() as db, db.begin():
        await db.execute(update(ConsentRequest).where(ConsentRequest.trial_id == pk(trial))
                         .values(created_at=clock.now() - timedelta(days=days),
                                 expires_at=clock.now() + timedelta(days=30 - days)))


async def shipment(sessionmaker, trial: dict, customer_id: int, *, return_in_days: int, status: str = "SHIPPED",
                   device_type: str = "PHONE") -> None:
    today = clock.today()
    async with sessionmaker() as db, db.begin():
        db.add(Shipment(trial_id=pk(trial), customer_id=customer_id, device_type=device_type,
                        model="Cisco Desk Phone 9841", quantity=1, status=status, country="NO",
                        due_date=today + timedelta(days=return_in_days - 14),
                        return_by=today + timedelta(days=return_in_days), created_at=clock.now()))


async def extension_waiting(sessionmaker, trial: dict) -> None:
    async with sessionmaker() as db, db.begin():
        db.add(DeviceExtensionRequest(trial_id=pk(trial), days=30, status="PENDING", created_at=clock.now()))


def lists(body: dict) -> dict[str, dict]:
    assert "errors" not in body, body
    return {entry["kind"]: entry for entry in body["data"]["attention"]}
