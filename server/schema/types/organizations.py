"""Partner, Viewer."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from sqlalchemy import false, true

from server.db.models import PartnerOrg
from server.domain.partner_settings import settings
from server.planner import declare as plan
from server.schema import columns
from server.schema.enums import PartnerTier, Role
from server.schema.node import Node, decode_id, to_global_id


@strawberry.type
class Partner(Node):
    name: str
    certified: bool
    tier: PartnerTier

    @strawberry.field(description="R-SET-01: the partner's logo on our origin (named by its content hash), if any.")
    async def logo_url(self, info: Info) -> str | None:
        own = await self._settings(info)
        return own.logo_path if own else None

    @strawberry.field(description="R-BUY-01: where a customer admin reaches the partner: the reply-to address of "
                                   "its customer emails (R-SET-01), if it set one.")
    async def contact_email(self, info: Info) -> str | None:
        own = await self._settings(info)
        return own.reply_to if own else None

    async def _settings(self, info: Info):
        """The partner's own settings (R-SET-01), read once per field."""
        from server import loaders
        from server.domain.partner_settings import settings

        pk = decode_id(str(self.id), "Partner")
        if pk is None:
            return None
        async with loaders.read(info.context) as db:
            return await settings.of(db, pk)

    @classmethod
    def from_row(cls, row: PartnerOrg) -> "Partner":
        return cls(**columns.values(cls, row, id=to_global_id("Partner", row.id)))


@strawberry.type
class Viewer:
    email: str
    roles: list[Role]
    partner: Partner | None


# What the planner reads for these fields (server.planner.declare).
_SETTINGS = plan.Input(lambda partner, parent, actor: settings.values_of(partner.c.id))
plan.declare(Partner, PartnerOrg,    # R-SET-01: the partner's settings as `settings.of` reads them
             logoUrl=plan.Derived(lambda env, pk, values: settings.from_values(pk, values).logo_path, "id", _SETTINGS),
             contactEmail=plan.Derived(lambda env, pk, values: settings.from_values(pk, values).reply_to, "id",
                                       _SETTINGS))
plan.declare(
    Viewer,
    email=plan.FromActor(lambda env: env.actor.email or ""),
    roles=plan.FromActor(lambda env: [role.value for role in sorted(env.actor.roles)]),
    partner=plan.Relation("Partner", PartnerOrg, join=lambda viewer, partner: true(), many=False,
                          scope=lambda actor, partner: partner.c.id == actor.partner_id
                          if actor.partner_id is not None else false()),
)
