"""Location, PhoneNumber, AddressInput (R-SVC-03, R-TIME-06). Owned by the calling area; the
lifecycle area uses Location for Customer.locations."""
from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from server.db import relations
from server.db.models import Location as LocationRow
from server.db.models import PhoneNumber as NumberRow
from server.planner import declare as plan
from server.schema import columns
from server.schema.enums import NumberStatus, PstnOption
from server.schema.errors import UserError
from server.schema.node import Node, to_global_id


@strawberry.type
class PhoneNumber:
    e164: str
    status: NumberStatus
    release_at: datetime | None

    @classmethod
    def from_row(cls, row: NumberRow) -> "PhoneNumber":
        return cls(**columns.values(cls, row))


@strawberry.type
class Location(Node):
    name: str
    country: str
    time_zone: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None = strawberry.field(description="ISO 3166-2 subdivision code, e.g. US-CA.")
    _pk: strawberry.Private[int]

    @strawberry.field
    async def numbers(self, info: Info) -> list[PhoneNumber]:
        from server import loaders

        rows = await loaders.load(info, "numbers_by_location", loaders.numbers_by_location, self._pk)
        return [PhoneNumber.from_row(r) for r in rows]

    @classmethod
    def from_row(cls, row: LocationRow) -> "Location":
        return cls(**columns.values(cls, row, id=to_global_id("Location", row.id), _pk=row.id))


@strawberry.type
class LocationPayload:
    location: Location | None
    user_errors: list[UserError]


@strawberry.input
class AddressInput:
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    region: str | None = None
    country: str


@strawberry.type(description="R-SVC-03: numbers a calling trial needs (PARTNER_DIDS) or may take (CALLING_PLAN).")
class NumberRequirement:
    pstn: PstnOption
    licenses: int
    locations: int
    required: int = strawberry.field(description="PARTNER_DIDS: one per licensed user plus 2 per location.")
    assigned: int
    missing: int
    limit: int | None = strawberry.field(description="CALLING_PLAN: at most 10 numbers.")
    description: str

    @classmethod
    def from_domain(cls, value) -> "NumberRequirement":
        return cls(pstn=PstnOption(value.pstn), licenses=value.licenses, locations=value.locations,
                   required=value.required, assigned=value.assigned, missing=value.missing, limit=value.limit,
                   description=value.description)


# What the planner reads for these fields (server.planner.declare): the plain column fields derived from
# the attributes (server.schema.columns); the numbers in the loaders' order.
plan.declare(PhoneNumber, NumberRow)
plan.declare(
    Location, LocationRow,
    numbers=plan.related("PhoneNumber", relations.LOCATION_NUMBERS),
)
