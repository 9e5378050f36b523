"""Calling (R-SVC-03): locations, numbers and what a calling trial still needs. Thin."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from server import loaders
from server.db.models import Location as LocationRow
from server.domain.calling import numbers as calling
from server.domain.core.errors import DomainError
from server.resolvers.answer import answer
from server.resolvers.node import NODE_RESOLVERS
from server.schema.node import decode_id
from server.schema.permissions import IsAuthenticated
from server.schema.types.calling import AddressInput, Location, LocationPayload, NumberRequirement
from server.planner import declare as plan
from server.planner import roots

AUTH = [IsAuthenticated]


async def load_location(info: Info, pk: int) -> Location | None:
    """node(id:) for locations: only of customers within the viewer's reach (R-ORG-02)."""
    async with loaders.read(info.context) as db:
        try:
            row: LocationRow = await calling.get_location(db, info.context.actor, pk)
        except DomainError:
            return None
        return Location.from_row(row)


NODE_RESOLVERS["Location"] = load_location


def to_address(address: AddressInput) -> calling.Address:
    return calling.Address(line1=address.line1, line2=address.line2, city=address.city,
                           postal_code=address.postal_code, region=address.region, country=address.country)


@strawberry.type
class CallingQuery:
    @strawberry.field(permission_classes=AUTH, description="R-SVC-03: numbers the trial needs and what is missing "
                      "(null when the trial is out of reach or has no Calling).")
    async def calling_requirement(self, info: Info, trial_id: strawberry.ID) -> NumberRequirement | None:
        async with loaders.read(info.context) as db:
            try:
                value = await calling.number_requirement(db, info.context.actor, decode_id(str(trial_id), "Trial"))
            except DomainError:
                return None
        return NumberRequirement.from_domain(value)


@strawberry.type
class CallingMutation:
    @strawberry.mutation(permission_classes=AUTH, description="R-SVC-03: a calling location with its postal address.")
    async def add_calling_location(self, info: Info, customer_id: strawberry.ID, name: str, address: AddressInput,
                                   time_zone: str) -> LocationPayload:
        actor, pk = info.context.actor, decode_id(str(customer_id), "Customer")
        return await answer(info, "addCallingLocation", LocationPayload, "location", lambda db: calling.add_location(
            db, actor, pk, name, to_address(address), time_zone), Location.from_row)

    @strawberry.mutation(permission_classes=AUTH, description="R-SVC-03: E.164 numbers of the location's country, "
                         "unique on the platform; `port: true` asks to port them (refused with the calling plan).")
    async def assign_numbers(self, info: Info, location_id: strawberry.ID, numbers: list[str],
                             port: bool = False) -> LocationPayload:
        actor, pk = info.context.actor, decode_id(str(location_id), "Location")
        return await answer(info, "assignNumbers", LocationPayload, "location",
                            lambda db: calling.assign_numbers(db, actor, pk, numbers, port=port), Location.from_row)


# callingRequirement (R-SVC-03): the domain's reads as one statement (calling.requirement_statement), decided by
# the same rule as the reference (calling.requirement), null where the domain raises (out of reach, no Calling).
plan.plannable("NumberRequirement", **{name: plan.ByRoot() for name in (
    "pstn", "licenses", "locations", "required", "assigned", "missing", "limit", "description")})


def _requirement(row: dict | None) -> NumberRequirement | None:
    if row is None:
        return None
    return NumberRequirement.from_domain(calling.requirement(row["pstn"], row["service_licenses"], row["trial_licenses"],
                                                             row["details"], row["locations"], row["assigned"]))


def _trial_pk(args: dict) -> int | None:
    return roots.pk_of(args["trialId"], lambda text: decode_id(text, "Trial"))


plan.root("callingRequirement", roots.Statement(
    "NumberRequirement",
    check=lambda actor, args: None,
    key=lambda args: (),
    statement=lambda actor, args, prefix: calling.requirement_statement(actor, prefix),
    params=lambda args, now, prefix: calling.requirement_parameters(_trial_pk(args), prefix),
    build=lambda env, args, row: _requirement(row)))
