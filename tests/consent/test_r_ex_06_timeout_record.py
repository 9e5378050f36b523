"""R-EX-06's timeout, as the partner and the worker see it: the lapse is in the partner's audit log
with the request's state before and after (SPEC §9), and a request answered in time leaves no
timeout pending for the worker."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.db.models import ConsentRequest, Deadline
from server.domain import deadline_handlers
from server.enums import Role
from tests.consent.test_consent import customer_pk, request_trial
from tests.trials.conftest import ACCEPT, CANCEL_REQUEST, DECLINE, customer_admin, run_as, trial_of

LOG = """query($filter: AuditLogFilter) { auditLog(first: 10, filter: $filter) {
  edges { node { action actor subjectType before after } } } }"""


async def test_r_ex_06_the_lapse_is_audited_with_the_trial_and_the_request_before_and_after(kit):
    """Kills a renamed before/after key of `consent.consent_timed_out` (`timeout.on_consent_timeout`,
    e.g. `after={"state": after, "XXconsentXX": consent_after}`: a survivor of `make mutate`)."""
    await request_trial(kit)
    await kit.call("mutation { advanceClock(days: 31) }")
    async with kit.sessionmaker() as db, db.begin():
        deadline = await db.scalar(select(Deadline).where(Deadline.kind == "consent_timeout"))
        await deadline_handlers.HANDLERS["consent_timeout"](db, deadline)
    body = await kit.call(LOG, {"filter": {"action": "consent.consent_timed_out"}}, Role.PARTNER_FULL_ADMIN)
    assert [edge["node"] for edge in body["data"]["auditLog"]["edges"]] == [
        {"action": "consent.consent_timed_out", "actor": "system", "subjectType": "Trial",
         "before": {"state": "PENDING_CONSENT", "consent": "PENDING"},
         "after": {"state": "CANCELLED", "consent": "EXPIRED"}}]


async def _answer_by_accepting(kit, trial):
    admin = await customer_admin(kit.sessionmaker, await customer_pk(kit, trial))
    trial_of(await run_as(kit.app, admin, ACCEPT, {"t": trial["id"], "f": True}), "acceptTrialConsent")


async def _answer_by_declining(kit, trial):
    admin = await customer_admin(kit.sessionmaker, await customer_pk(kit, trial))
    trial_of(await run_as(kit.app, admin, DECLINE, {"t": trial["id"]}), "declineTrialConsent")


async def _withdraw(kit, trial):
    trial_of(await kit.call(CANCEL_REQUEST, {"t": trial["id"]}), "cancelTrialRequest")


@pytest.mark.parametrize("answer", [_answer_by_accepting, _answer_by_declining, _withdraw])
async def test_r_ex_06_a_request_answered_in_time_leaves_no_timeout_pending(kit, answer):
    """The CONSENT_TIMEOUT deadline is planned on the request and cancelled with it: kills its
    subject type changed when planned (`requests.request_trial`: "ConsentRequest" ->
    "XXConsentRequestXX", a survivor of `make mutate`), which left the timeout open after an
    answer (the handler's state check then hid it from every other test)."""
    trial = await request_trial(kit)
    async with kit.sessionmaker() as db:
        request_id = await db.scalar(select(ConsentRequest.id))
        planned = list(await db.scalars(select(Deadline).where(Deadline.kind == "consent_timeout")))
    assert [(d.subject_type, d.subject_id, d.done_at, d.cancelled_at) for d in planned] == [
        ("ConsentRequest", request_id, None, None)]
    await answer(kit, trial)
    async with kit.sessionmaker() as db:
        pending = list(await db.scalars(select(Deadline).where(
            Deadline.kind == "consent_timeout", Deadline.done_at.is_(None), Deadline.cancelled_at.is_(None))))
    assert pending == []
