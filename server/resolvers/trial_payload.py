"""The one way the lifecycle mutations answer: run one domain call in a unit of work, replay or
remember its `clientMutationId`, turn DomainErrors into userErrors (FORBIDDEN is also logged,
R-ROLE-02) and the trial row into a `Trial`."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from strawberry.types import Info

from jobs import kick
from server.domain.core import idempotency
from server.domain.trials.start import StartedTrial
from server.domain.core.errors import DomainError
from server.resolvers.answer import refused
from server.enums import TrialState
from server.schema.node import decode_id
from server.schema.types.customers import Customer
from server.schema.types.trials import Service, Trial, TrialPayload


def trial_pk(global_id: str) -> int | None:
    """None for a malformed or foreign-typed ID: the domain answers NOT_FOUND."""
    return decode_id(str(global_id), "Trial")


def answer(row: Any) -> Trial:
    """The `Trial` of a domain answer; a started trial comes with its customer and services as written
    (the answer does not read back what the transaction just wrote)."""
    if isinstance(row, StartedTrial):
        return Trial.from_row(row.trial, _customer=Customer.from_row(row.customer),
                              _services=[Service.from_row(s, row.trial.state) for s in row.services])
    return Trial.from_row(row)


async def _replayed(info: Info, stored: dict[str, Any]) -> TrialPayload:
    return TrialPayload(trial=await Trial.load(info, stored["trial"]), user_errors=[])


async def trial_payload(info: Info, operation: str, call: Callable[[Any], Awaitable[Any]],
                        client_mutation_id: str | None = None, *,
                        alone: Callable[[], Awaitable[Any]] | None = None) -> TrialPayload:
    """`call(db)` in a unit of work; without a clientMutationId, `alone()` instead when given: the
    same domain call as a transaction of its own (startTrial: no Session on PostgreSQL)."""
    context, actor = info.context, info.context.actor
    key = client_mutation_id
    try:
        if key is None and alone is not None:
            row = await alone()
            await context.after_write()
        else:
            if key is not None:
                async with context.unit_of_work() as db:
                    stored = await idempotency.replay(db, actor, key, operation)
                if stored is not None:
                    return await _replayed(info, stored)
            async with context.unit_of_work() as db:
                row = await call(db)
                if key is not None:
                    await idempotency.remember(db, actor, key, operation, {"trial": row.id})
    except DomainError as error:
        return TrialPayload(trial=None, user_errors=await refused(context, operation, error, actor))
    except IntegrityError:
        if key is None:
            raise
        async with context.unit_of_work() as db:
            stored = await idempotency.replay(db, actor, key, operation)
        if stored is None:
            raise
        return await _replayed(info, stored)
    if row.state == TrialState.PENDING_PROVISIONING.value:
        await kick.provision_now(context.redis)  # R-NEW-04: provisioning starts now, not at the next sweep
    return TrialPayload(trial=answer(row), user_errors=[])
