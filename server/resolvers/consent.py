"""The existing-customer flow's mutations (R-EX-01..06): request, resend, accept, decline, withdraw."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from server.domain.consent import requests as consent
from server.resolvers.trial_payload import trial_payload, trial_pk
from server.resolvers.trials import customer_form, request_of
from server.schema.permissions import IsAuthenticated
from server.schema.types.trials import ExistingCustomerTrialInput, TrialPayload

AUTH = [IsAuthenticated]


@strawberry.type
class ConsentMutation:
    @strawberry.mutation(permission_classes=AUTH, description="R-EX-01..03: emails a consent request.")
    async def request_trial_for_existing_customer(self, info: Info, input: ExistingCustomerTrialInput) -> TrialPayload:
        actor, settings = info.context.actor, info.context.settings
        return await trial_payload(info, "requestTrialForExistingCustomer", lambda db: consent.request_trial(
            db, actor, customer_form(input), request_of(input), settings=settings), input.client_mutation_id)

    @strawberry.mutation(permission_classes=AUTH, description="R-EX-05: the consent email again; older links die.")
    async def resend_consent(self, info: Info, trial_id: strawberry.ID) -> TrialPayload:
        actor, settings = info.context.actor, info.context.settings
        return await trial_payload(info, "resendConsent",
                                   lambda db: consent.resend(db, actor, trial_pk(trial_id), settings=settings))

    @strawberry.mutation(permission_classes=AUTH, description="Customer admin only (consent link session).")
    async def accept_trial_consent(self, info: Info, trial_id: strawberry.ID, grant_full_admin: bool) -> TrialPayload:
        actor = info.context.actor
        return await trial_payload(info, "acceptTrialConsent",
                                   lambda db: consent.accept(db, actor, trial_pk(trial_id), grant_full_admin))

    @strawberry.mutation(permission_classes=AUTH, description="Customer admin only: decline the trial request.")
    async def decline_trial_consent(self, info: Info, trial_id: strawberry.ID) -> TrialPayload:
        actor = info.context.actor
        return await trial_payload(info, "declineTrialConsent",
                                   lambda db: consent.decline(db, actor, trial_pk(trial_id)))

    @strawberry.mutation(permission_classes=AUTH,
                         description="R-EX-05: cancel and delete a request pending consent; the customer leaves "
                                     "your list.")
    async def cancel_trial_request(self, info: Info, trial_id: strawberry.ID) -> TrialPayload:
        actor = info.context.actor
        return await trial_payload(info, "cancelTrialRequest",
                                   lambda db: consent.withdraw(db, actor, trial_pk(trial_id)))
