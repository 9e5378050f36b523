"""R-RMA-02 / SPEC §9: a return the trials team records while the sweep flags the same shipment
overdue waits for the sweep and starts from what it left, so the shipment's audit trail reads as
one history (overdue, then returned). PostgreSQL only: its row lock (`shipments.get_shipment`'s
refresh with FOR UPDATE) orders the two; SQLite takes the whole database for a write."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from server import clock
from server.db.models import AuditEvent, Deadline, Shipment
from server.domain import deadline_handlers
from server.domain.timeline.deadlines import DeadlineKind
from server.schema.node import decode_id
from tests.devices.kit import RETURN, active_trial, request_and_ship
from tests.helpers import gql
from tests.locks import until_waiting

async def test_r_rma_02_a_return_recorded_while_the_sweep_flags_it_overdue_follows_the_overdue(
        client, sessionmaker, postgres):
    """Kills `get_shipment`'s row lock dropped (`db.refresh(shipment, with_for_update=True)` -> `False`,
    a survivor of `make mutate` on both backends): the return would be recorded from the shipment as it
    was before the sweep's change (RETURN_DUE), and the trail would skip the OVERDUE it was in."""
    t = await active_trial(sessionmaker, country="NO")
    shipped = await request_and_ship(client, t)
    shipment_id = decode_id(shipped["id"], "Shipment")
    async with sessionmaker() as db, db.begin():      # its return window passed yesterday
        await db.execute(update(Shipment).where(Shipment.id == shipment_id).values(
            status="RETURN_DUE", due_date=clock.today() - timedelta(days=15), return_by=clock.today() - timedelta(days=1)))
    async with sessionmaker() as sweep, sweep.begin():
        overdue = await sweep.scalar(select(Deadline).where(
            Deadline.subject_type == "Shipment", Deadline.subject_id == shipment_id,
            Deadline.kind == DeadlineKind.RETURN_OVERDUE.value))
        await deadline_handlers.HANDLERS[overdue.kind](sweep, overdue)
        await sweep.flush()                            # OVERDUE written, the shipment's row locked
        request = asyncio.create_task(gql(client, RETURN, {"s": shipped["id"], "n": ["SN1", "SN2"]},
                                          token=t.trials_team))
        await until_waiting(sessionmaker, request)  # until the request waits on the sweep's lock
    body = await request
    assert body["data"]["recordReturn"]["shipment"]["status"] == "RETURNED", body
    async with sessionmaker() as db:
        trail = list(await db.execute(select(AuditEvent.action, AuditEvent.before, AuditEvent.after).where(
            AuditEvent.subject_type == "Shipment", AuditEvent.subject_id == shipment_id,
            AuditEvent.action.in_(["shipment.overdue", "shipment.return_recorded"])).order_by(AuditEvent.id)))
    assert [(action, before["status"], after["status"]) for action, before, after in trail] == [
        ("shipment.overdue", "RETURN_DUE", "OVERDUE"), ("shipment.return_recorded", "OVERDUE", "RETURNED")]
