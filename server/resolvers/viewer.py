"""Query.viewer: who am I."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from server import loaders
from server.db.models import PartnerOrg
from server.planner import declare as plan
from server.planner import roots
from server.schema.permissions import IsAuthenticated
from server.schema.types.organizations import Partner, Viewer


@strawberry.type
class ViewerQuery:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def viewer(self, info: Info) -> Viewer:
        actor = info.context.actor
        partner = None
        if actor.partner_id is not None:
            async with loaders.read(info.context) as db:  # sibling fields share the read session
                row = await db.get(PartnerOrg, actor.partner_id)
            partner = Partner.from_row(row) if row else None
        return Viewer(email=actor.email or "", roles=sorted(actor.roles), partner=partner)


plan.root("viewer", roots.Singleton("Viewer"))  # its fields: server.schema.types.organizations
