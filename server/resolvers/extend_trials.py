"""`extendTrials`: many R-EXT-01 extensions in one unit of work (server.domain.trials.changes.extend_trials:
a savepoint per trial). Translates IDs in and outcomes out; a `clientMutationId` replays the first
answer (stored with the changes it describes, server.domain.core.idempotency); a FORBIDDEN outcome is
logged like any denial (R-ROLE-02)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from strawberry.types import Info

from server.domain.core import idempotency
from server.domain.trials import changes as trial_changes
from server.domain.core.errors import DomainError
from server.enums import ErrorCode
from server.resolvers.answer import audit_denied, refused
from server.resolvers.trial_payload import trial_pk
from server.schema.enums import ErrorCode as ErrorCodeType
from server.schema.errors import UserError
from server.schema.types.bulk_extend import ExtendTrialsInput, ExtendTrialsPayload, TrialExtension
from server.schema.types.trials import Trial

OPERATION = "extendTrials"


def _stored(ids: list[str], outcomes: list[trial_changes.Extension]) -> dict[str, Any]:
    """The answer as the idempotency row keeps it: each trial's ID and pk, or its errors."""
    return {"results": [{"trialId": gid, "trial": o.trial.id if o.trial is not None else None,
                         "errors": [{"code": e.code.value, "field": e.field, "message": e.message}
                                    for e in (o.error.errors if o.error else [])]}
                        for gid, o in zip(ids, outcomes, strict=True)]}


async def _answer(info: Info, stored: dict[str, Any], key: str | None) -> ExtendTrialsPayload:
    results = []
    for item in stored["results"]:
        trial = await Trial.load(info, item["trial"]) if item["trial"] is not None else None
        errors = [UserError(code=ErrorCodeType(e["code"]), field=e["field"], message=e["message"])
                  for e in item["errors"]]
        results.append(TrialExtension(trial_id=item["trialId"], trial=trial, user_errors=errors))
    return ExtendTrialsPayload(results=results, user_errors=[], client_mutation_id=key)


async def extend_trials(info: Info, data: ExtendTrialsInput) -> ExtendTrialsPayload:
    context, actor, key = info.context, info.context.actor, data.client_mutation_id
    ids = list(dict.fromkeys(str(i) for i in data.trial_ids))
    try:
        if key is not None:
            async with context.unit_of_work() as db:
                replayed = await idempotency.replay(db, actor, key, OPERATION)
            if replayed is not None:
                return await _answer(info, replayed, key)
        async with context.unit_of_work() as db:
            outcomes = await trial_changes.extend_trials(db, actor, [trial_pk(i) for i in ids], data.days)
            stored = _stored(ids, outcomes)
            if key is not None:
                await idempotency.remember(db, actor, key, OPERATION, stored)
    except DomainError as error:
        return ExtendTrialsPayload(results=[], user_errors=await refused(context, OPERATION, error, actor),
                                   client_mutation_id=key)
    except IntegrityError:  # a concurrent twin with the same key committed first: its answer
        async with context.unit_of_work() as db:
            replayed = await idempotency.replay(db, actor, key, OPERATION) if key is not None else None
        if replayed is None:
            raise
        return await _answer(info, replayed, key)
    if any(o.error is not None and o.error.code is ErrorCode.FORBIDDEN for o in outcomes):
        await audit_denied(context, OPERATION, actor)
    return await _answer(info, stored, key)
