"""R-TIME-07 / R-ORG-02: the customers list's `expiringWithinDays` filter (our extension of the
list's filters): the customers with one of the viewer's own ACTIVE trials ending within that many
days — not another partner's trial of the same customer, not an expired one, not a later one."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import update

from server import clock
from server.db.models import PartnerAccessGrant, Trial
from server.enums import Role
from server.schema.node import decode_id
from tests.factories import partner_team
from tests.helpers import gql

QUERY = """query($d: Int) { customers(first: 50, expiringWithinDays: $d) {
  totalCount edges { node { name } } } }"""


async def _ends(sessionmaker, trial: dict, days: float, state: str = "ACTIVE") -> None:
    async with sessionmaker() as db, db.begin():
        await db.execute(update(Trial).where(Trial.id == decode_id(trial["id"], "Trial"))
                         .values(state=state, ends_at=clock.now() + timedelta(days=days)))


async def _names(kit, token: str, days: int | None) -> list[str]:
    body = await gql(kit.client, QUERY, {"d": days}, token=token)
    assert "errors" not in body, body
    names = [edge["node"]["name"] for edge in body["data"]["customers"]["edges"]]
    assert body["data"]["customers"]["totalCount"] == len(names)
    return names


async def test_r_time_07_expiring_within_days_reads_own_active_trials_only(kit):
    """Kills, in `customers._conditions`: the filter applied when not asked (`is None`), the trial's
    customer join negated (another customer's trial would qualify), the viewer's trial condition
    dropped (another partner's trial on a shared customer would qualify), the ACTIVE state dropped
    (an expired trial would qualify), and the horizon computed the wrong way."""
    soon = await kit.paid_customer(name="Soon AS")
    later = await kit.paid_customer(name="Later AS")
    expired = await kit.paid_customer(name="Expired AS")
    await _ends(kit.sessionmaker, await kit.paid_trial(soon), 3)
    await _ends(kit.sessionmaker, await kit.paid_trial(later), 50)
    await _ends(kit.sessionmaker, await kit.paid_trial(expired), -2, state="EXPIRED")
    # Another partner's trial of "Later AS" ends in 2 days: never Alpha's reason to list it.
    beta = await partner_team(kit.sessionmaker, "Beta")
    async with kit.sessionmaker() as db, db.begin():
        now = clock.now()
        db.add(PartnerAccessGrant(customer_id=later, partner_id=beta.partner_id, access="FULL_ADMIN", granted_at=now))
        db.add(Trial(customer_id=later, partner_id=beta.partner_id, started_by_user_id=beta.user_ids[Role.SALES_ADMIN],
                     kind="EXISTING_CUSTOMER", state="ACTIVE", license_count=5, duration_days=30, starts_at=now,
                     ends_at=now + timedelta(days=2), created_at=now))
    alpha = kit.token(Role.PARTNER_FULL_ADMIN)
    assert await _names(kit, alpha, None) == ["Expired AS", "Later AS", "Soon AS"]
    assert await _names(kit, alpha, 10) == ["Soon AS"]
    assert await _names(kit, alpha, 60) == ["Later AS", "Soon AS"]
    assert await _names(kit, alpha, 1) == []
    assert await _names(kit, beta.tokens[Role.PARTNER_FULL_ADMIN], 10) == ["Later AS"]
    assert await _names(kit, beta.tokens[Role.PARTNER_FULL_ADMIN], 1) == []


STATUSES = """query($s: SubscriptionStatus) { customers(first: 50, status: $s) {
  edges { node { name subscriptionStatus } } } }"""


async def test_r_time_07_trial_expiring_60_is_at_most_60_days_left(kit):
    """TRIAL_EXPIRING_60 is 31 to 60 days left (whole days, rounded up): 60 days is expiring, 61 is
    not, in the status shown and in the list's status filter alike. Kills the window widened
    (`status.EXPIRING_SOON` = (30, 60) -> (30, 61), a survivor of `make mutate`)."""
    sixty, sixty_one = await kit.paid_customer(name="Sixty AS"), await kit.paid_customer(name="Sixty-one AS")
    await _ends(kit.sessionmaker, await kit.paid_trial(sixty), 59.5)
    await _ends(kit.sessionmaker, await kit.paid_trial(sixty_one), 60.5)
    token = kit.token(Role.PARTNER_FULL_ADMIN)
    body = await gql(kit.client, STATUSES, {"s": None}, token=token)
    shown = {e["node"]["name"]: e["node"]["subscriptionStatus"] for e in body["data"]["customers"]["edges"]}
    assert shown == {"Sixty AS": "TRIAL_EXPIRING_60", "Sixty-one AS": "TRIAL_ACTIVE"}
    body = await gql(kit.client, STATUSES, {"s": "TRIAL_EXPIRING_60"}, token=token)
    assert [e["node"]["name"] for e in body["data"]["customers"]["edges"]] == ["Sixty AS"]



@pytest.mark.parametrize(("days", "status", "not_listed_by"), [(30, "TRIAL_EXPIRING_30", "TRIAL_EXPIRING_60"),
                                                               (60, "TRIAL_EXPIRING_60", "TRIAL_ACTIVE")])
async def test_r_time_07_a_trial_ending_exactly_30_or_60_days_from_now_is_expiring_30_or_60(
        kit, monkeypatch, days, status, not_listed_by):
    """The boundaries, with the clock held still: a trial ending exactly 30 (60) days from now has 30
    (60) days left (whole days, rounded up), so TRIAL_EXPIRING_30 (_60) in the status shown and in the
    list's status filter alike. Kills the filter's boundaries made strict (`status._trial_rules`:
    `Trial.ends_at <= ends_by(30)` -> `<`, and the same of 60, survivors of `make mutate`; the 60-day
    one had been listed equivalent "because the wall clock moves": it need not)."""
    customer = await kit.paid_customer(name=f"Flat {days} AS")
    trial = await kit.paid_trial(customer)
    now = clock.now().replace(microsecond=0)
    monkeypatch.setattr(clock, "now", lambda: now)
    async with kit.sessionmaker() as db, db.begin():
        await db.execute(update(Trial).where(Trial.id == decode_id(trial["id"], "Trial"))
                         .values(state="ACTIVE", ends_at=now + timedelta(days=days)))
    token = kit.token(Role.PARTNER_FULL_ADMIN)
    body = await gql(kit.client, STATUSES, {"s": None}, token=token)
    assert [(e["node"]["name"], e["node"]["subscriptionStatus"]) for e in body["data"]["customers"]["edges"]] == [
        (f"Flat {days} AS", status)]
    for filtered, listed in ((status, [f"Flat {days} AS"]), (not_listed_by, [])):
        body = await gql(kit.client, STATUSES, {"s": filtered}, token=token)
        assert [e["node"]["name"] for e in body["data"]["customers"]["edges"]] == listed, filtered
