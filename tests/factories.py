"""Shared test arrangements: real rows made through the domain, real bearer tokens.

    team = await partner_team(sessionmaker)          # a certified tier-1 partner, one user per role
    await gql(client, QUERY, token=team.tokens[Role.SALES_ADMIN])
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from server.auth.tokens import hash_token, new_token
from server.domain.orgs import directory
from server.enums import PartnerTier, Role

PARTNER_ROLES = [Role.PARTNER_FULL_ADMIN, Role.PARTNER_ADMIN, Role.SALES_FULL_ADMIN, Role.SALES_ADMIN, Role.READ_ONLY]
_seq = itertools.count(1)


@dataclass
class Team:
    partner_id: int
    emails: dict[Role, str] = field(default_factory=dict)
    user_ids: dict[Role, int] = field(default_factory=dict)
    tokens: dict[Role, str] = field(default_factory=dict)
    password: str = "correct horse battery staple"


async def partner_team(sessionmaker, name: str | None = None, *, tier: PartnerTier = PartnerTier.TIER1,
                       certified: bool = True, distributor_id: int | None = None,
                       roles: list[Role] = PARTNER_ROLES) -> Team:
    """A partner with one user (and one API token) per role."""
    n = next(_seq)
    async with sessionmaker() as db, db.begin():
        partner = await directory.create_partner(db, name or f"Partner {n}", tier=tier, certified=certified,
                                                 distributor_id=distributor_id)
        team = Team(partner_id=partner.id)
        for role in roles:
            email = f"{role.value.lower().replace('_', '.')}.{n}@partner{n}.example"
            user = await directory.create_user(db, email, [role], partner_id=partner.id, password=team.password)
            token = new_token()
            await directory.create_api_token(db, user, hash_token(token), [role], "test")
            team.emails[role], team.user_ids[role], team.tokens[role] = email, user.id, token
    return team


async def trials_team_token(sessionmaker) -> str:
    """A trials-team user's bearer token (R-ROLE-05). Trials-team tokens carry no partner."""
    from server.db.models import ApiToken

    n = next(_seq)
    async with sessionmaker() as db, db.begin():
        user = await directory.create_user(db, f"trials{n}@platform.example", [Role.TRIALS_TEAM], partner_id=None,
                                           password="correct horse battery staple")
        token = new_token()
        db.add(ApiToken(partner_id=None, user_id=user.id, name="trials", token_hash=hash_token(token),
                        roles=[Role.TRIALS_TEAM.value], created_at=user.created_at))
    return token


async def existing_customer(sessionmaker, *, country: str = "NO", admin_email: str | None = None,
                            full_admin: bool = True, extra_admins: list[str] = (), purchased=(),
                            managed_by: int | None = None, name: str | None = None, vertical: str = "Other") -> int:
    n = next(_seq)
    async with sessionmaker() as db, db.begin():
        customer = await directory.create_customer(
            db, name or f"Customer {n}", country, admin_email or f"admin{n}@customer{n}.example",
            full_admin=full_admin, extra_admins=list(extra_admins), purchased=list(purchased), managed_by=managed_by,
            vertical=vertical)
        return customer.id


async def login(client, email: str, password: str = "correct horse battery staple") -> str:
    """Sign in through the real `/login` form (the client keeps the cookie); returns the session's
    CSRF token, to send as `X-CSRF-Token` (htmx, /graphql) or the `csrf_token` form field."""
    import re

    def meta_token(html: str) -> str:
        return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)

    anonymous = meta_token((await client.get("/login")).text)
    response = await client.post("/login", data={"email": email, "password": password, "csrf_token": anonymous})
    assert response.status_code == 303, response.text
    return meta_token((await client.get("/login")).text)


async def provisioned(sessionmaker, trial_global_id: str) -> None:
    """Run a trial's provisioning now (what the worker does when the PROVISION deadline is due)."""
    from server.domain.trials import provisioning
    from server.schema.node import decode_id

    async with sessionmaker() as db, db.begin():
        await provisioning.provision(db, decode_id(trial_global_id, "Trial"))


async def consent_url(sessionmaker, settings, trial_global_id: str, email: str) -> str:
    """The consent link a consent request email to `email` carries (R-EX-03)."""
    from sqlalchemy import select

    from server.db.models import ConsentRequest
    from server.domain.consent import requests as consent
    from server.schema.node import decode_id

    async with sessionmaker() as db:
        request = await db.scalar(select(ConsentRequest).where(
            ConsentRequest.trial_id == decode_id(trial_global_id, "Trial")).order_by(ConsentRequest.id.desc()))
        return consent.link_url(settings, request, email)


async def unable_to_provision(sessionmaker, trial_global_id: str) -> None:
    """Make a new customer's provisioning fail (R-NEW-04): no admin is left to own the org."""
    from sqlalchemy import select, update

    from server.db.models import CustomerUser, Trial
    from server.domain.trials import provisioning
    from server.schema.node import decode_id

    pk = decode_id(trial_global_id, "Trial")
    async with sessionmaker() as db, db.begin():
        trial = await db.get(Trial, pk)
        await db.execute(update(CustomerUser).where(CustomerUser.customer_id == trial.customer_id).values(role="USER"))
        await provisioning.provision(db, pk)
        assert (await db.scalar(select(Trial.state).where(Trial.id == pk))) == "PENDING_PROVISIONING"
