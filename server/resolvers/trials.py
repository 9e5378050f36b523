"""Trial mutations: start (new and paid customer), edit, extend, convert, cancel, interest in buying.
Thin: each calls one domain function through `trial_payload`."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from server.domain.trials import conversion
from server.domain.trials import changes as trial_changes
from server.domain.trials import start
from server.domain.trials.options import MeetingsOptions, TrialRequest
from server.enums import MeetingsEdition, MeetingsFeature, PstnOption
from server.enums import ServiceType as ServiceValue
from server.resolvers import extend_trials as bulk
from server.resolvers.devices import device_order
from server.resolvers.trial_payload import trial_payload, trial_pk
from server.schema.enums import ServiceType
from server.schema.node import decode_id
from server.schema.permissions import IsAuthenticated
from server.schema.types.bulk_extend import ExtendTrialsInput, ExtendTrialsPayload
from server.schema.types.trials import (
    CallingInput, DeviceRequest, MeetingsInput, StartTrialInput, TrialForm, TrialPayload,
)

AUTH = [IsAuthenticated]


def to_request(services, license_count: int, duration_days: int, meetings: MeetingsInput | None,
               calling: CallingInput | None, devices: list[DeviceRequest] | None) -> TrialRequest:
    """GraphQL input → the domain's plain TrialRequest."""
    options = None
    if meetings is not None:
        options = MeetingsOptions(edition=MeetingsEdition(meetings.edition.value), site_url=meetings.site_url,
                                  time_zone=meetings.time_zone,
                                  features=[MeetingsFeature(f.value) for f in meetings.features or []])
    return TrialRequest(services=[ServiceValue(s.value) for s in services], license_count=license_count,
                        duration_days=duration_days, meetings=options,
                        pstn=PstnOption(calling.pstn.value) if calling else None,
                        devices=[device_order(d) for d in devices or []])


def customer_form(data: TrialForm) -> start.CustomerForm:
    return start.CustomerForm(company_name=data.company_name, admin_email=data.admin_email,
                               business_vertical=data.business_vertical, country=data.country,
                               supported_location_confirmed=data.supported_location_confirmed)


def request_of(data: TrialForm) -> TrialRequest:
    return to_request(data.services, data.license_count, data.duration_days, data.meetings, data.calling, data.devices)


@strawberry.type
class TrialMutation:
    @strawberry.mutation(permission_classes=AUTH, description="R-NEW-01..04: a trial for a new customer.")
    async def start_trial(self, info: Info, input: StartTrialInput) -> TrialPayload:
        arguments = dict(actor=info.context.actor, form=customer_form(input), request=request_of(input),
                         setup_now=bool(input.setup_now), max_licenses=info.context.settings.max_license_count)
        return await trial_payload(info, "startTrial", lambda db: start.start_trial(db, **arguments),
                                   input.client_mutation_id,
                                   alone=lambda: start.start_trial_alone(info.context.sessionmaker, **arguments))

    @strawberry.mutation(permission_classes=AUTH, description="R-PAID-01: a trial for a paid customer you manage.")
    async def add_trial_to_paid_customer(self, info: Info, customer_id: strawberry.ID, services: list[ServiceType],
                                         license_count: int, duration_days: int, meetings: MeetingsInput | None = None,
                                         calling: CallingInput | None = None) -> TrialPayload:
        actor, cap = info.context.actor, info.context.settings.max_license_count
        request = to_request(services, license_count, duration_days, meetings, calling, [])
        return await trial_payload(info, "addTrialToPaidCustomer", lambda db: start.add_trial_to_paid_customer(
            db, actor, decode_id(str(customer_id), "Customer"), request, max_licenses=cap))

    @strawberry.mutation(permission_classes=AUTH, description="R-EDIT-01 (VERSION_CONFLICT when stale).")
    async def update_trial(self, info: Info, trial_id: strawberry.ID, expected_version: int,
                           license_count: int | None = None, add_services: list[ServiceType] | None = None,
                           remove_services: list[ServiceType] | None = None) -> TrialPayload:
        actor, cap = info.context.actor, info.context.settings.max_license_count
        add = [ServiceValue(s.value) for s in add_services or []]
        remove = [ServiceValue(s.value) for s in remove_services or []]
        return await trial_payload(info, "updateTrial", lambda db: trial_changes.update_trial(
            db, actor, trial_pk(trial_id), expected_version, license_count=license_count, add=add, remove=remove,
            max_licenses=cap))

    @strawberry.mutation(permission_classes=AUTH, description="R-EXT-01: +30/60/90 days on the current end date.")
    async def extend_trial(self, info: Info, trial_id: strawberry.ID, days: int) -> TrialPayload:
        actor = info.context.actor
        return await trial_payload(info, "extendTrial",
                                   lambda db: trial_changes.extend_trial(db, actor, trial_pk(trial_id), days))

    @strawberry.mutation(permission_classes=AUTH, description="R-EXT-01 for several trials at once: one result per "
                         "trial (extended, or userErrors: nothing of it changed).")
    async def extend_trials(self, info: Info, input: ExtendTrialsInput) -> ExtendTrialsPayload:
        return await bulk.extend_trials(info, input)

    @strawberry.mutation(permission_classes=AUTH, description="R-CONV-01: convert to paid with an order.")
    async def convert_trial(self, info: Info, trial_id: strawberry.ID, order_number: str, provisioning_email: str,
                            services: list[ServiceType], confirm_omitted: bool | None = False) -> TrialPayload:
        actor = info.context.actor
        chosen = [ServiceValue(s.value) for s in services]
        return await trial_payload(info, "convertTrial", lambda db: conversion.convert_trial(
            db, actor, trial_pk(trial_id), order_number=order_number, provisioning_email=provisioning_email,
            services=chosen, confirm_omitted=bool(confirm_omitted)))

    @strawberry.mutation(permission_classes=AUTH, description="R-CANCEL-01: the partner or a customer admin.")
    async def cancel_trial(self, info: Info, trial_id: strawberry.ID) -> TrialPayload:
        actor = info.context.actor
        return await trial_payload(info, "cancelTrial",
                                   lambda db: trial_changes.cancel_trial(db, actor, trial_pk(trial_id)))

    @strawberry.mutation(permission_classes=AUTH, description="R-BUY-01: customer admin; emails the partner's admins.")
    async def express_purchase_interest(self, info: Info, trial_id: strawberry.ID) -> TrialPayload:
        actor = info.context.actor
        return await trial_payload(info, "expressPurchaseInterest",
                                   lambda db: trial_changes.express_purchase_interest(db, actor, trial_pk(trial_id)))
