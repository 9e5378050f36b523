"""Trial, Service and its options, TrialPayload and the trial inputs (API.graphql)."""
from __future__ import annotations

from functools import lru_cache

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import null, select, true
from strawberry.types import Info

from server import loaders
from server.db import relations
from server.db.models import PartnerOrg, TrialService
from server.db.models import Trial as TrialRow
from server.domain.core import visibility
from server.domain.trials import allowed, status
from server.planner import declare as plan
from server.schema import columns
from server.schema.enums import (
    DeviceType, MeetingsEdition, MeetingsFeature, PstnOption, ServiceType, TrialState,
)
from server.schema.errors import UserError
from server.schema.node import Node, to_global_id
from server.schema.types.calling import AddressInput
from server.schema.types.devices import DeviceExtensionRequest, Shipment, ShippingContactInput
from server.schema.types.organizations import Partner

if TYPE_CHECKING:
    from server.schema.types.customers import Customer
    from server.schema.types.usage import TrialAdoption


@strawberry.type
class MeetingsOptions:
    edition: MeetingsEdition
    site_url: str | None
    time_zone: str | None
    features: list[MeetingsFeature]


@strawberry.type
class CallingOptions:
    pstn: PstnOption


@strawberry.type
class Service:
    type: ServiceType
    license_count: int | None
    expired: bool = strawberry.field(description="R-TIME-02: the trial ended; licenses show an Expired tag.")
    meetings: MeetingsOptions | None
    calling: CallingOptions | None

    @classmethod
    def from_row(cls, row: Any, trial_state: str) -> "Service":
        meetings = calling = None
        if row.service == "MEETINGS":
            meetings = MeetingsOptions(**columns.values(
                MeetingsOptions, row, edition=MeetingsEdition(row.meetings_edition or "BASIC"),
                features=[MeetingsFeature(f) for f in row.meetings_features or []]))
        if row.service == "CALLING":
            calling = CallingOptions(pstn=PstnOption(row.pstn or "CCP"))
        return cls(**columns.values(cls, row, type=ServiceType(row.service), expired=status.service_expired(trial_state),
                                    meetings=meetings, calling=calling))


@strawberry.type(description="R-ROLE-02: what you may do to a trial now, as its mutations decide it "
                              "(server.domain.trials.allowed): the same answer as trying.")
class TrialViewerCan:
    extend: bool = strawberry.field(description="extendTrial (R-EXT-01).")
    cancel: bool = strawberry.field(description="cancelTrial (R-CANCEL-01; a request pending consent is withdrawn, "
                                                "R-EX-05).")
    convert: bool = strawberry.field(description="convertTrial (R-CONV-01; a tier-2 partner converts through its "
                                                 "distributor).")
    edit: bool = strawberry.field(description="updateTrial (R-EDIT-01).")
    manage: bool = strawberry.field(description="Change this trial at all (R-ROLE-02): resend or withdraw its "
                                                "consent request, retry provisioning, its devices and calling.")

    @classmethod
    def of(cls, actions: allowed.TrialActions) -> "TrialViewerCan":
        return cls(**dataclasses.asdict(actions))


@strawberry.type
class Trial(Node):
    """Like Customer: relations read ahead for a page are plain values; otherwise loaded on demand."""
    state: TrialState
    license_count: int
    duration_days: int
    kind: str
    starts_at: datetime | None
    ends_at: datetime | None
    grace_ends_at: datetime | None
    version: int
    days_left: int | None = strawberry.field(description="Whole days to the end date, rounded up; never negative.")
    _row: strawberry.Private[Any]  # TrialRow or a Core row of trials
    _customer: strawberry.Private[Any] = None  # the Customer, when read ahead with it
    _services: strawberry.Private[list[Service] | None] = None
    _shipments: strawberry.Private[list[Shipment] | None] = None

    @strawberry.field
    def customer(self, info: Info) -> Annotated["Customer", strawberry.lazy("server.schema.types.customers")]:
        if self._customer is not None:
            return self._customer
        return self._load_customer(info)

    async def _load_customer(self, info: Info) -> "Customer":
        from server.schema.types.customers import Customer

        row = await loaders.load(info, "trial_customers", loaders.trial_customers, self._row.customer_id)
        return Customer.from_row(row)

    @strawberry.field
    def services(self, info: Info) -> list[Service]:
        if self._services is not None:
            return self._services
        return self._load_services(info)

    async def _load_services(self, info: Info) -> list[Service]:
        rows = await loaders.load(info, "services_by_trial", loaders.services_by_trial, self._row.id)
        return [Service.from_row(r, self._row.state) for r in rows]

    @strawberry.field
    def shipments(self, info: Info) -> list[Shipment]:
        if self._shipments is not None:
            return self._shipments
        return self._load_shipments(info)

    async def _load_shipments(self, info: Info) -> list[Shipment]:
        rows = await loaders.load(info, "shipments_by_trial", loaders.shipments_by_trial, self._row.id)
        return [Shipment.from_row(r) for r in rows]

    @strawberry.field(description="The partner running this trial (who asks, on the consent page).")
    async def partner(self, info: Info) -> Partner:
        return Partner.from_row(await loaders.load(info, "partners", loaders.partners, self._row.partner_id))

    @strawberry.field
    async def device_extension_requests(self, info: Info) -> list[DeviceExtensionRequest]:
        rows = await loaders.load(info, "extensions_by_trial", loaders.extension_requests_by_trial, self._row.id)
        return [DeviceExtensionRequest.from_row(r) for r in rows]

    @strawberry.field(description="What you may do to this trial now (R-ROLE-02).")
    async def viewer_can(self, info: Info) -> TrialViewerCan:
        actor = info.context.actor
        own = tier = None
        if allowed.needs_own_customer(actor):
            own = await loaders.load(info, "own_customers", loaders.own_customers, self._row.customer_id)
        if actor.is_partner:
            partner = await loaders.load(info, "partners", loaders.partners, actor.partner_id)
            tier = partner.tier if partner is not None else None
        return TrialViewerCan.of(allowed.allowed(actor, self._row.state, customer_id=self._row.customer_id,
                                                 own_customer=own, partner_tier=tier))

    @strawberry.field(description="SPEC §10: null for a trial out of reach; health null outside ACTIVE and EXPIRED.")
    async def adoption(self, info: Info) -> Annotated["TrialAdoption", strawberry.lazy("server.schema.types.usage")] | None:
        from server.schema.types.usage import TrialAdoption

        return await TrialAdoption.load(info, self._row)

    @classmethod
    def from_row(cls, row: Any, now: datetime | None = None, **read_ahead: Any) -> "Trial":
        """`now`: one clock reading for a whole page; `read_ahead`: relations a page read for it."""
        return cls(**columns.values(cls, row, id=to_global_id("Trial", row.id),
                                    days_left=status.days_left(row.ends_at, now), _row=row, **read_ahead))

    @classmethod
    async def load(cls, info: Info, pk: int) -> "Trial | None":
        """The trial within the viewer's reach, or None (tenant isolation)."""
        row = await loaders.load(info, "trials", loaders.trials, pk)
        return cls.from_row(row) if row is not None else None


@strawberry.type
class TrialPayload:
    trial: Trial | None
    user_errors: list[UserError]


@strawberry.input
class MeetingsInput:
    edition: MeetingsEdition
    site_url: str | None = None
    time_zone: str | None = None
    features: list[MeetingsFeature] | None = strawberry.field(default_factory=list)


@strawberry.input
class CallingInput:
    pstn: PstnOption


@strawberry.input
class DeviceRequest:
    type: DeviceType
    model: str
    quantity: int
    poe_confirmed: bool | None = False
    shipping_address: AddressInput | None = strawberry.field(default=None, description=(
        "R-DEV-01/02: where the devices are delivered, in the customer's country (optional in the API for now)."))
    contact: ShippingContactInput | None = None


@strawberry.input(description="What both trial forms ask (R-NEW-01, R-EX-01, R-SVC-01..05, R-DEV-01).")
class TrialForm:
    company_name: str
    admin_email: str
    business_vertical: str
    country: str
    supported_location_confirmed: bool
    services: list[ServiceType]
    license_count: int
    duration_days: int
    meetings: MeetingsInput | None = None
    calling: CallingInput | None = None
    devices: list[DeviceRequest] | None = strawberry.field(default_factory=list)
    client_mutation_id: str | None = None


@strawberry.input
class StartTrialInput(TrialForm):
    setup_now: bool | None = False


@strawberry.input
class ExistingCustomerTrialInput(TrialForm):
    pass


# What the planner reads for these fields (server.planner.declare): the plain column fields are derived
# from the attributes above (server.schema.columns); the computed fields and relations are written here,
# each relation from the link the loaders read (server.db.relations).
plan.declare(
    Trial, TrialRow,
    daysLeft=plan.Derived(lambda env, ends: status.days_left(ends, env.now), plan.TimeInput("ends_at")),
    customer=plan.related("Customer", relations.TRIAL_CUSTOMER, many=False),
    services=plan.related("Service", relations.TRIAL_SERVICES),
    shipments=plan.related("Shipment", relations.TRIAL_SHIPMENTS),
    partner=plan.related("Partner", relations.TRIAL_PARTNER, many=False),
    deviceExtensionRequests=plan.related("DeviceExtensionRequest", relations.TRIAL_EXTENSION_REQUESTS),
    adoption=plan.Embedded("TrialAdoption", present=lambda trial: true()),   # over the trial's own row
    viewerCan=plan.Embedded("TrialViewerCan", present=lambda trial: true()),
)


def _own(trial, parent, actor):
    """Whether the trial's customer is the viewer's own (`visibility.own_customer`), where that decides."""
    return visibility.own_customer(actor, trial.c.customer_id) if allowed.needs_own_customer(actor) else null()


def _tier(trial, parent, actor):
    """The viewer's partner's tier (R-CONV-01)."""
    return select(PartnerOrg.tier).where(PartnerOrg.id == actor.partner_id).scalar_subquery() \
        if actor.is_partner else null()


@lru_cache(maxsize=1 << 12)
def _actions(actor: Any, state: str, customer_id: int | None, own: bool | None, tier: str | None) -> Any:
    """`allowed.allowed`, remembered by its inputs (a page of 50 trials has a handful of distinct ones;
    `customer_id` only matters to a customer admin, None for everyone else)."""
    return allowed.allowed(actor, state, customer_id=customer_id, own_customer=own, partner_tier=tier)


#: The last actor asked about (held: its identity stands for no other while here), whether it is a
#: customer admin, and its actions by (state, customer_id, own, tier): a page of 50 trials hashes the
#: actor once, not once per trial and field.
_ACTOR: list = [None, False, {}]


def _may(action: str, *inputs: Any) -> plan.Derived:
    def fn(env, state: str, customer_id: int, own: bool | None, tier: str | None = None) -> bool:
        actor, known = env.actor, _ACTOR
        if known[0] is not actor:
            known[:] = actor, actor.is_customer_admin, {}
        key = (state, customer_id if known[1] else None, own, tier)
        actions = known[2].get(key)
        if actions is None:
            actions = known[2][key] = _actions(actor, *key)
        return getattr(actions, action)
    return plan.Derived(fn, "state", "customer_id", plan.Input(_own), *inputs)


plan.declare(TrialViewerCan, extend=_may("extend"), cancel=_may("cancel"), edit=_may("edit"), manage=_may("manage"),
             convert=_may("convert", plan.Input(_tier)))
plan.declare(
    Service, TrialService,
    type=plan.Column("service"),
    expired=plan.Derived(lambda env, state: status.service_expired(state), plan.ParentColumn("state")),
    meetings=plan.Embedded("MeetingsOptions", present=lambda service: service.c.service == "MEETINGS"),
    calling=plan.Embedded("CallingOptions", present=lambda service: service.c.service == "CALLING"),
)
plan.declare(
    MeetingsOptions, TrialService,
    edition=plan.Column("meetings_edition", convert=lambda edition: edition or "BASIC"),
    features=plan.Column("meetings_features", convert=lambda features: list(features or [])),
)
plan.declare(CallingOptions, pstn=plan.Column("pstn", convert=lambda pstn: pstn or "CCP"))
