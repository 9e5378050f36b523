"""SPEC §9 "every state change writes an audit event (who, what, when, before, after)", for the
partner's own users (R-ROLE-02 "manage partner users and roles"): invite, roles, deactivation and a
password change each leave exactly the event the audit trail promises."""
from __future__ import annotations

from sqlalchemy import select

from server.db.models import AuditEvent, User
from server.enums import Role
from tests.factories import login, partner_team
from tests.helpers import gql
from tests.orgs.test_access_users import DEACTIVATE, INVITE, PASSWORD, ROLES


async def _events(sessionmaker, action: str) -> list[tuple]:
    async with sessionmaker() as db:
        rows = await db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        return [(e.actor, e.subject_type, e.subject_id, e.partner_id, e.before, e.after) for e in rows]


async def test_spec_9_partner_user_changes_are_audited_with_before_and_after(client, sessionmaker):
    """Kills: the subject type ("User") or a before/after key ("roles", "active") of the user events
    in `directory.create_user` and `users.update_user_roles` / `deactivate_user` / `change_password`
    changed, and an event dropped."""
    team = await partner_team(sessionmaker)
    admin = team.tokens[Role.PARTNER_FULL_ADMIN]
    invited = await gql(client, INVITE, {"email": "new.seller@partner.example", "roles": ["SALES_ADMIN", "READ_ONLY"]},
                        token=admin)
    async with sessionmaker() as db:
        user_id = await db.scalar(select(User.id).where(User.email == "new.seller@partner.example"))
    await gql(client, ROLES, {"id": invited["data"]["inviteUser"]["user"]["id"], "roles": ["READ_ONLY"]}, token=admin)
    await gql(client, DEACTIVATE, {"id": invited["data"]["inviteUser"]["user"]["id"]}, token=admin)
    who = f"token:{await _token_id(sessionmaker, team)}"
    p = team.partner_id
    assert (await _events(sessionmaker, "user.created"))[-1] == (
        who, "User", user_id, p, None, {"email": "new.seller@partner.example", "roles": ["READ_ONLY", "SALES_ADMIN"]})
    assert await _events(sessionmaker, "user.roles_changed") == [
        (who, "User", user_id, p, {"roles": ["READ_ONLY", "SALES_ADMIN"]}, {"roles": ["READ_ONLY"]})]
    assert await _events(sessionmaker, "user.deactivated") == [
        (who, "User", user_id, p, {"active": True}, {"active": False})]

    csrf = await login(client, team.emails[Role.SALES_ADMIN])
    changed = await gql(client, PASSWORD, {"c": team.password, "n": "a brand new password"},
                        headers={"x-csrf-token": csrf})
    assert changed["data"]["changePassword"] == {"ok": True, "userErrors": []}
    [event] = await _events(sessionmaker, "user.password_changed")
    assert event[1:3] == ("User", team.user_ids[Role.SALES_ADMIN])
    assert event[0] == f"partner_user:{team.emails[Role.SALES_ADMIN]}"


async def _token_id(sessionmaker, team) -> int:
    from server.db.models import ApiToken

    async with sessionmaker() as db:
        return await db.scalar(select(ApiToken.id).where(ApiToken.user_id == team.user_ids[Role.PARTNER_FULL_ADMIN]))
