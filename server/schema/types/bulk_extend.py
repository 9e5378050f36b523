"""`extendTrials` (the bulk extend, beside the API.graphql contract): its input and its
answer, one `TrialExtension` per trial asked for. Rule: server.domain.trials.changes.extend_trials."""
from __future__ import annotations

import strawberry

from server.schema.errors import UserError
from server.schema.types.trials import Trial


@strawberry.input
class ExtendTrialsInput:
    trial_ids: list[strawberry.ID] = strawberry.field(description="At most 100; each is checked on its own.")
    days: int = strawberry.field(description="R-EXT-01: 30, 60 or 90, added to each trial's current end.")
    client_mutation_id: str | None = None


@strawberry.type(description="One trial's outcome: the extended trial, or userErrors saying why it was refused "
                 "(nothing of it changed).")
class TrialExtension:
    trial_id: strawberry.ID
    trial: Trial | None
    user_errors: list[UserError]


@strawberry.type
class ExtendTrialsPayload:
    results: list[TrialExtension] = strawberry.field(description="One per distinct trial ID asked, in order; empty "
                                                     "when the input itself was refused (see userErrors).")
    user_errors: list[UserError]
    client_mutation_id: str | None = None
