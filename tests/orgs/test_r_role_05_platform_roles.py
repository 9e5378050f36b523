"""R-ROLE-05: the trials team (and the platform's usage service, SPEC §10) are platform roles: a user
holding one belongs to no partner and holds no other role; such a user is refused, nothing written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.db.models import User
from server.domain.core.errors import DomainError, ErrorCode
from server.domain.orgs import directory
from server.enums import Role
from tests.factories import partner_team


@pytest.mark.parametrize("roles, with_partner", [([Role.TRIALS_TEAM], True), ([Role.TRIALS_TEAM, Role.READ_ONLY], False),
                                                 ([Role.PLATFORM, Role.SALES_ADMIN], False)])
async def test_r_role_05_a_platform_role_has_no_partner_and_no_other_role(sessionmaker, roles, with_partner):
    """Kills the platform-role check of `directory.create_user` made an `and` (`partner_id is not None
    or len(set(roles)) > 1` -> `... and ...`, a survivor of `make mutate`): a trials-team user of a
    partner, or a trials-team user with a partner's role too, would be created."""
    partner_id = (await partner_team(sessionmaker, roles=[Role.READ_ONLY])).partner_id if with_partner else None
    with pytest.raises(DomainError) as refused:
        async with sessionmaker() as db, db.begin():
            await directory.create_user(db, "queue@platform.example", roles, partner_id=partner_id)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, ["roles"])
    assert "is a platform role: no partner, no other role." in refused.value.message
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(User).where(User.email == "queue@platform.example")) == 0


async def test_r_role_05_the_platform_service_has_no_password(sessionmaker):
    """SPEC §10: the usage service has no portal, only API tokens: a password for it is refused on its
    field, saying so. Kills that refusal's message mutated (`directory.create_user`, "XXThe platform
    has no portal...XX", a survivor of `make mutate`)."""
    with pytest.raises(DomainError) as refused:
        async with sessionmaker() as db, db.begin():
            await directory.create_user(db, "svc@platform.example", [Role.PLATFORM], partner_id=None,
                                        password="a long password here")
    assert (refused.value.code, refused.value.field, refused.value.message) == (
        ErrorCode.INVALID_INPUT, ["password"], "The platform has no portal: it uses API tokens, no password.")
