"""`node(id:)`: a registry from type name to a loader that applies the viewer's tenant scope.
Other areas register their types: `NODE_RESOLVERS["Shipment"] = load_shipment` (async (info, pk)
-> Node | None). An unknown type, a malformed ID or an object out of reach all answer null."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from sqlalchemy import BigInteger, bindparam
from strawberry.types import Info

from server import loaders
from server.db.models import CustomerOrg, PartnerOrg
from server.db.models import Trial as TrialRow
from server.domain.core import visibility
from server.planner import declare as plan
from server.planner import roots
from server.planner.declare import Fallback
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


class _NodeRoot(roots.Root):
    """`node(id:)` planned for the types below (the same reach as their NODE_RESOLVERS entries); a
    type registered there but not here goes to the reference path; an unknown type or a malformed
    ID answers null, like the resolver."""

    def _decoded(self, args: dict) -> tuple[str, int] | None:
        decoded = from_global_id(str(args["id"]))
        if decoded is None or decoded[0] not in NODE_RESOLVERS:
            return None
        if decoded[0] not in PLANNED:
            raise Fallback(f"node: {decoded[0]}")
        roots.pk_of(decoded[1], int)
        return decoded

    def key(self, args: dict, env) -> tuple:
        decoded = self._decoded(args)
        if decoded is None:
            return (None,)
        return (decoded[0],)

    def reads(self, args: dict | None) -> bool:
        return args is None or self._decoded(args) is not None

    def params(self, args: dict, env, prefix: str) -> dict:
        decoded = self._decoded(args)
        return {f"{prefix}id": decoded[1] if decoded else None}

    def compile(self, compiler, planned, prefix: str):
        decoded = self._decoded(planned.args)
        if decoded is None:
            return [], lambda values, env: None
        model, condition = PLANNED[decoded[0]]
        return roots.object_by_id(compiler, planned.nodes, decoded[0], model, condition(compiler.actor),
                                  bindparam(f"{prefix}id", type_=BigInteger))


PLANNED = {"Customer": (CustomerOrg, visibility.customer_condition), "Trial": (TrialRow, visibility.trial_reach),
           "Partner": (PartnerOrg, lambda actor: PartnerOrg.id == actor.partner_id)}  # its own only
plan.root("node", _NodeRoot())
