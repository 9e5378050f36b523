"""Dev/test only: move the test clock (DESIGN "A clock you can move")."""
from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from server import clock
from server.schema.permissions import IsAuthenticated


@strawberry.type
class ClockMutation:
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Test clock only (TRIALDESK_TEST_CLOCK=1): move time forward.")
    async def advance_clock(self, info: Info, days: int = 0, hours: int = 0) -> datetime:
        if not clock.enabled():
            raise PermissionError("The test clock is off.")
        async with info.context.unit_of_work() as db:
            return await clock.advance_by(db, days, hours)
