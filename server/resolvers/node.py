"""`node(id:)`: a registry from type name to a loader that applies the viewer's tenant scope.
Other areas register their types: `NODE_RESOLVERS["Shipment"] = load_shipment` (async (info, pk)
-> Node | None). An unknown type, a malformed ID or an object out of reach all answer null."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from strawberry.types import Info

from server import loaders
from server.schema.node import Node, from_global_id
from server.schema.permissions import IsAuthenticated
from server.schema.types.customers import Customer
from server.schema.types.trials import Trial

NodeResolver = Callable[[Info, int], Awaitable[Node | None]]

NODE_RESOLVERS: dict[str, NodeResolver] = {
    "Customer": Customer.load,
    "Trial": Trial.load,
}


async def _partner(info: Info, pk: int) -> Node | None:
    """A partner sees only its own Partner node (and its customers' managing partners through them)."""
    from server.db.models import PartnerOrg
    from server.schema.types.organizations import Partner

    if info.context.actor.partner_id != pk:
        return None
    async with loaders.read(info.context) as db:
        row = await db.get(PartnerOrg, pk)
    return Partner.from_row(row) if row else None


NODE_RESOLVERS["Partner"] = _partner


@strawberry.type
class NodeQuery:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        decoded = from_global_id(str(id))
        if decoded is None or decoded[0] not in NODE_RESOLVERS:
            return None
        return await NODE_RESOLVERS[decoded[0]](info, decoded[1])
