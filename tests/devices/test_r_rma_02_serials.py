"""R-RMA-02's two halves: returned serial numbers must match the shipped ones exactly. Every shipped
serial plus a foreign one is a mismatch, and so is a partial return; each stays RETURN_MISMATCH with
the difference recorded, its overdue deadline still planned and the shipment in the trials team's
reconcile queue. The exact set (the rest arriving later: serials accumulate) closes the return."""
from __future__ import annotations

from sqlalchemy import select

from server.db.models import Deadline
from server.domain.timeline.deadlines import DeadlineKind
from server.schema.node import decode_id
from tests.devices.kit import PHONE, RETURN, active_trial, ok, request_and_ship
from tests.helpers import gql

RECONCILE = "{ returnsToReconcile { id status } }"


async def _open_overdue_deadlines(sessionmaker, shipment_gid: str) -> int:
    async with sessionmaker() as db:
        rows = await db.scalars(select(Deadline.id).where(
            Deadline.subject_type == "Shipment", Deadline.subject_id == decode_id(shipment_gid, "Shipment"),
            Deadline.kind == DeadlineKind.RETURN_OVERDUE.value, Deadline.cancelled_at.is_(None),
            Deadline.done_at.is_(None)))
        return len(list(rows))


async def _return(client, t, shipment_gid: str, serials: list[str]) -> dict:
    return ok(await gql(client, RETURN, {"s": shipment_gid, "n": serials}, token=t.trials_team), "recordReturn",
              "shipment")


async def _stays_open(client, sessionmaker, t, shipment: dict, missing: list[str], unexpected: list[str]) -> None:
    assert shipment["status"] == "RETURN_MISMATCH"
    assert shipment["returnMismatch"] == {"missing": missing, "unexpected": unexpected}
    assert await _open_overdue_deadlines(sessionmaker, shipment["id"]) == 1
    queue = (await gql(client, RECONCILE, token=t.trials_team))["data"]["returnsToReconcile"]
    assert queue == [{"id": shipment["id"], "status": "RETURN_MISMATCH"}]


async def _closes(client, sessionmaker, t, shipment: dict) -> None:
    assert shipment["status"] == "RETURNED" and shipment["returnMismatch"] is None
    assert await _open_overdue_deadlines(sessionmaker, shipment["id"]) == 0
    assert (await gql(client, RECONCILE, token=t.trials_team))["data"]["returnsToReconcile"] == []


async def test_r_rma_02_every_shipped_serial_plus_a_foreign_one_stays_open(client, sessionmaker):
    """Kills: the mismatch test `missing or unexpected` cut to `missing` (a foreign serial with all
    shipped ones would close the return), and `unexpected` computed against the returned items only."""
    t = await active_trial(sessionmaker)
    shipped = await request_and_ship(client, t, serials=("SN1", "SN2"))
    mismatch = await _return(client, t, shipped["id"], ["SN1", "SN2", "FOREIGN-9"])
    await _stays_open(client, sessionmaker, t, mismatch, [], ["FOREIGN-9"])
    await _closes(client, sessionmaker, t, await _return(client, t, shipped["id"], ["SN1", "SN2"]))


async def test_r_rma_02_a_partial_return_stays_open(client, sessionmaker):
    """Kills: the mismatch test `missing or unexpected` cut to `unexpected` (or made an `and`: a
    partial return would close the shipment with a device still at the customer), and returned
    items not accumulated across boxes (the rest arriving later would not close it)."""
    t = await active_trial(sessionmaker)
    shipped = await request_and_ship(client, t, {**PHONE, "quantity": 3}, serials=("SN1", "SN2", "SN3"))
    partial = await _return(client, t, shipped["id"], ["SN2"])
    await _stays_open(client, sessionmaker, t, partial, ["SN1", "SN3"], [])
    await _closes(client, sessionmaker, t, await _return(client, t, shipped["id"], ["SN1", "SN3"]))
