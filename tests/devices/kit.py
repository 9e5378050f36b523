"""Devices and calling test kit: an active trial arranged as rows, GraphQL documents, due deadlines."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from server import clock
from server.db.models import Deadline, Trial, TrialService
from server.domain import deadline_handlers
from server.enums import Role, TrialKind, TrialState
from server.schema.node import to_global_id
from tests.factories import Team, existing_customer, partner_team, trials_team_token
from tests.helpers import gql

SHIPMENT_FIELDS = """id deviceType status demoOrderNumber carrier dueDate returnBy model quantity country shippedOn
  returnInstructions returnLabelsRequested returnMismatch { missing unexpected } items { model serialNumber }"""
SHIPMENT_PAYLOAD = f"shipment {{ {SHIPMENT_FIELDS} }} userErrors {{ code field message }}"
REQUEST = (f"mutation($t: ID!, $d: DeviceRequest!) {{ requestShipment(trialId: $t, device: $d) "
           f"{{ {SHIPMENT_PAYLOAD} }} }}")
RECORD = (f"mutation($s: ID!, $o: String!, $n: [String!]!, $on: Date!) {{ recordShipment(shipmentId: $s, "
          f"demoOrderNumber: $o, serialNumbers: $n, shippedOn: $on) {{ {SHIPMENT_PAYLOAD} }} }}")
RETURN = (f"mutation($s: ID!, $n: [String!]!) {{ recordReturn(shipmentId: $s, serialNumbers: $n) "
          f"{{ {SHIPMENT_PAYLOAD} }} }}")
LABEL = f"mutation($s: ID!) {{ requestReturnLabel(shipmentId: $s) {{ {SHIPMENT_PAYLOAD} }} }}"
EXT_PAYLOAD = "request { id days status note reason trial { id } } userErrors { code field message }"
ASK = (f"mutation($t: ID!, $d: Int!, $r: String) {{ requestDeviceExtension(trialId: $t, days: $d, reason: $r) "
       f"{{ {EXT_PAYLOAD} }} }}")
DECIDE = (f"mutation($r: ID!, $a: Boolean!, $n: String) {{ decideDeviceExtension(requestId: $r, approve: $a, note: $n) "
          f"{{ {EXT_PAYLOAD} }} }}")
PHONE = {"type": "PHONE", "model": "Cisco Desk Phone 9841", "quantity": 2, "poeConfirmed": True}


@dataclass
class Arranged:
    team: Team
    customer_id: int
    trial_id: int
    trials_team: str

    @property
    def trial_gid(self) -> str:
        return to_global_id("Trial", self.trial_id)

    @property
    def customer_gid(self) -> str:
        return to_global_id("Customer", self.customer_id)

    @property
    def sales(self) -> str:
        return self.team.tokens[Role.SALES_ADMIN]


async def active_trial(sessionmaker, *, country: str = "US", services=("MESSAGING", "DEVICES"), duration: int = 90,
                       licenses: int = 10, pstn: str | None = None, team: Team | None = None,
                       trials_team: str | None = None) -> Arranged:
    """A customer managed by a partner with an ACTIVE trial started by its sales admin (rows, as
    startTrial would leave them once provisioned)."""
    team = team or await partner_team(sessionmaker)
    customer_id = await existing_customer(sessionmaker, country=country, managed_by=team.partner_id)
    now = clock.now()
    async with sessionmaker() as db, db.begin():
        trial = Trial(customer_id=customer_id, partner_id=team.partner_id,
                      started_by_user_id=team.user_ids[Role.SALES_ADMIN], kind=TrialKind.PAID_CUSTOMER.value,
                      state=TrialState.ACTIVE.value, license_count=licenses, duration_days=duration, starts_at=now,
                      ends_at=now + timedelta(days=duration), grace_ends_at=now + timedelta(days=duration + 30),
                      version=1, created_at=now)
        db.add(trial)
        await db.flush()
        db.add_all([TrialService(trial_id=trial.id, customer_id=customer_id, service=s, holds=True,
                                 license_count=None if s == "DEVICES" else licenses,
                                 pstn=pstn if s == "CALLING" else None) for s in services])
        trial_id = trial.id
    return Arranged(team, customer_id, trial_id, trials_team or await trials_team_token(sessionmaker))


def ok(body: dict, name: str, key: str) -> dict:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload[key]


def codes(body: dict, name: str) -> list[str]:
    assert "errors" not in body, body
    return [e["code"] for e in body["data"][name]["userErrors"]]


async def advance(sessionmaker, days: int) -> None:
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=days))


async def run_due(sessionmaker, kinds=None) -> list[str]:
    """Apply due deadlines through their handlers (server/domain/deadline_handlers.py), each once
    (as the sweep does)."""
    ran = []
    async with sessionmaker() as db, db.begin():
        rows = list(await db.scalars(select(Deadline).where(
            Deadline.due_at <= clock.now(), Deadline.done_at.is_(None), Deadline.cancelled_at.is_(None))
            .order_by(Deadline.due_at, Deadline.id)))
        for row in rows:
            if (kinds is None or row.kind in kinds) and row.kind in deadline_handlers.HANDLERS:
                await deadline_handlers.HANDLERS[row.kind](db, row)
                row.done_at = clock.now()
                ran.append(row.kind)
    return ran


async def request_and_ship(client, arranged: Arranged, device=PHONE, serials=("SN1", "SN2"), shipped_on=None) -> dict:
    shipment = ok(await gql(client, REQUEST, {"t": arranged.trial_gid, "d": device}, token=arranged.sales),
                  "requestShipment", "shipment")
    on = (shipped_on or clock.today()).isoformat()
    return ok(await gql(client, RECORD, {"s": shipment["id"], "o": "DEMO-1", "n": list(serials), "on": on},
                        token=arranged.trials_team), "recordShipment", "shipment")
