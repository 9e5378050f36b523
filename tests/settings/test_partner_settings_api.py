"""R-SET-01 over GraphQL: partner full admins read and change their partner's settings; everyone
else is refused (FORBIDDEN); bad input is a userError that changes nothing; every change is audited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.db.models import AuditEvent
from server.enums import Role
from tests.factories import partner_team
from tests.helpers import gql
from tests.settings.kit import READ, read, update

FULL = Role.PARTNER_FULL_ADMIN


@pytest.fixture
async def team(sessionmaker):
    return await partner_team(sessionmaker)


async def test_r_set_01_a_partner_that_never_chose_has_the_defaults(client, team):
    settings = await read(client, team.tokens[FULL])
    assert settings["reminderDays"] == [7]
    assert settings["senderName"] is None and settings["replyTo"] is None and settings["logoUrl"] is None
    warning = next(r for r in settings["emailRecipients"] if r["kind"] == "warning_partner")
    assert warning["roles"] == ["PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN"]


@pytest.mark.parametrize("role", [Role.PARTNER_ADMIN, Role.SALES_FULL_ADMIN, Role.SALES_ADMIN, Role.READ_ONLY])
async def test_r_set_01_only_partner_full_admins_read_or_change_settings(client, team, role):
    body = await gql(client, READ, token=team.tokens[role])
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    payload = await update(client, team.tokens[role], reminderDays=[14])
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"] and payload["settings"] is None
    assert (await read(client, team.tokens[FULL]))["reminderDays"] == [7]


async def test_r_set_01_full_admin_changes_settings_and_the_change_is_audited(client, team, sessionmaker):
    payload = await update(client, team.tokens[FULL], reminderDays=[1, 14, 7, 14], senderName="  Nordlys Sales ",
                           replyTo="Trials@Nordlys.example",
                           emailRecipients=[{"kind": "warning_partner", "roles": ["SALES_ADMIN", "PARTNER_FULL_ADMIN"]}])
    assert payload["userErrors"] == []
    settings = payload["settings"]
    assert settings["reminderDays"] == [14, 7, 1]
    assert (settings["senderName"], settings["replyTo"]) == ("Nordlys Sales", "trials@nordlys.example")
    roles = {r["kind"]: r["roles"] for r in settings["emailRecipients"]}
    assert roles["warning_partner"] == ["PARTNER_FULL_ADMIN", "SALES_ADMIN"]
    assert roles["expired_partner"] == ["PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN"]
    assert await read(client, team.tokens[FULL]) == settings
    cleared = await update(client, team.tokens[FULL], senderName="", replyTo="")
    assert (cleared["settings"]["senderName"], cleared["settings"]["replyTo"]) == (None, None)
    async with sessionmaker() as db:
        events = list(await db.scalars(select(AuditEvent).where(AuditEvent.action == "settings.updated")
                                       .order_by(AuditEvent.id)))
    assert len(events) == 2
    assert all(e.partner_id == team.partner_id and e.actor.startswith("token:") for e in events)
    assert events[0].before["reminder_days"] == [7] and events[0].after["reminder_days"] == [14, 7, 1]
    assert events[1].before == {"sender_name": "Nordlys Sales", "reply_to": "trials@nordlys.example"}
    assert events[1].after == {"sender_name": None, "reply_to": None}


@pytest.mark.parametrize("changes, code, field", [
    ({"reminderDays": [0]}, "INVALID_INPUT", "reminderDays"),
    ({"reminderDays": []}, "INVALID_INPUT", "reminderDays"),
    ({"reminderDays": [7, 5]}, "INVALID_INPUT", "reminderDays"),
    ({"reminderDays": [-1]}, "INVALID_INPUT", "reminderDays"),
    ({"replyTo": "sales@nordlys.example\r\nBcc: everyone@example.com"}, "INVALID_EMAIL", "replyTo"),
    ({"replyTo": "sales@nordlys.example\n"}, "INVALID_EMAIL", "replyTo"),
    ({"replyTo": "not an address"}, "INVALID_EMAIL", "replyTo"),
    ({"senderName": "Nordlys\r\nBcc: x@example.com"}, "INVALID_INPUT", "senderName"),
    ({"senderName": "N" * 101}, "INVALID_INPUT", "senderName"),
    ({"emailRecipients": [{"kind": "warning_partner", "roles": ["READ_ONLY"]}]}, "INVALID_INPUT", "recipients"),
    ({"emailRecipients": [{"kind": "welcome", "roles": ["SALES_ADMIN"]}]}, "INVALID_INPUT", "recipients"),
    ({"reminderDays": [14], "replyTo": "a@b.example\r\n"}, "INVALID_EMAIL", "replyTo"),
])
async def test_r_set_01_bad_input_is_refused_and_changes_nothing(client, team, sessionmaker, changes, code, field):
    before = await read(client, team.tokens[FULL])
    payload = await update(client, team.tokens[FULL], **changes)
    assert payload["settings"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, [field])]
    assert payload["userErrors"][0]["message"]
    assert await read(client, team.tokens[FULL]) == before
    async with sessionmaker() as db:
        assert await db.scalar(select(AuditEvent.id).where(AuditEvent.action == "settings.updated")) is None


async def test_r_set_01_a_partner_sees_and_changes_only_its_own_settings(client, team, sessionmaker):
    other = await partner_team(sessionmaker)
    await update(client, team.tokens[FULL], reminderDays=[30])
    assert (await read(client, other.tokens[FULL]))["reminderDays"] == [7]


#: SPEC §8's emails that go to the partner's people about a trial (their partner copy): 7-day
#: warning, expired, interested in buying, trial cancelled, converted, device extension decided,
#: return overdue.
PARTNER_COPIES = ["warning_partner", "expired_partner", "purchase_interest", "trial_cancelled", "converted",
                  "device_extension_decided", "return_overdue"]


@pytest.mark.parametrize("kind", PARTNER_COPIES)
async def test_r_set_01_every_email_with_a_partner_copy_is_a_choice(client, team, kind):
    """Kills the mutants of `recipients.PARTNER_COPY_KINDS` (survivors of `make mutate`): a kind
    renamed (e.g. "converted" -> "XXconvertedXX") is refused as "not an email with a partner copy"
    and no longer listed, so the partner could not choose who gets that email."""
    settings = await read(client, team.tokens[FULL])
    assert [r["kind"] for r in settings["emailRecipients"]] == PARTNER_COPIES
    payload = await update(client, team.tokens[FULL], emailRecipients=[{"kind": kind, "roles": ["SALES_ADMIN"]}])
    assert payload["userErrors"] == []
    roles = {r["kind"]: r["roles"] for r in payload["settings"]["emailRecipients"]}
    assert roles == {k: ["SALES_ADMIN"] if k == kind else ["PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN"]
                     for k in PARTNER_COPIES}
