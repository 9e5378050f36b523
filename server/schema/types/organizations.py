"""Partner, Viewer."""
from __future__ import annotations

import strawberry

from server.db.models import PartnerOrg
from server.schema.enums import PartnerTier, Role
from server.schema.node import Node, to_global_id


@strawberry.type
class Partner(Node):
    name: str
    certified: bool
    tier: PartnerTier

    @classmethod
    def from_row(cls, row: PartnerOrg) -> "Partner":
        return cls(id=to_global_id("Partner", row.id), name=row.name, certified=row.certified,
                   tier=PartnerTier(row.tier))


@strawberry.type
class Viewer:
    email: str
    roles: list[Role]
    partner: Partner | None
