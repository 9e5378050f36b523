"""Page test fixtures: a partner team signed in through the real `/login` form."""
from __future__ import annotations

import re

import pytest_asyncio

from server.enums import Role
from tests import factories


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


@pytest_asyncio.fixture
async def team(sessionmaker):
    return await factories.partner_team(sessionmaker)


@pytest_asyncio.fixture
async def sales(client, team):
    """The client signed in as the team's sales admin; yields the session's CSRF token."""
    return await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
