"""R-SET-01: a partner full admin sets, for their partner, the reminder days before a trial's end,
which partner roles get the partner copy of each email kind, and the sender name and reply-to of
customer emails (the From address stays the platform's).

Decisions (SPEC silent):
- A partner that never saved has the defaults (no row): reminder days [7] (R-TIME-01), each partner
  copy to R-TIME-01's roles (partner full admin, partner admin, sales full admin), no sender name
  (the platform's), no reply-to.
- Reminder days: any of 30, 14, 7, 3, 1, at least one; duplicates are dropped and the days are kept
  longest first. Changing them re-plans every live trial's pending reminders in the same transaction
  (`timeline.replan_reminders`); a day already past for a trial is not planned for it.
- Recipients: per partner copy kind (`recipients.PARTNER_COPY_KINDS`) any of the partner roles but
  READ_ONLY, none included (then only the user who started the trial gets it).
- Sender name: at most 100 characters, one line, no control characters; empty clears it. It is
  the display name of the From header (email.utils.formataddr quotes it).
- Reply-to: one valid email address (CR or LF refused first: a header cannot be injected); empty
  clears it.
- Every change is audited (`settings.updated`, before and after of what changed) in the same
  transaction.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import PartnerSettings
from server.domain.core import audit
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.domain.core.permissions import Action, forbidden, require
from server.domain.notifications import recipients
from server.domain.orgs.directory import normalize_email
from server.domain.partner_settings import branding
from server.domain.timeline import deadlines as timeline
from server.enums import ErrorCode

REMINDER_DAY_CHOICES = tuple(timeline.REMINDER_KINDS)         # 30, 14, 7, 3, 1
SENDER_NAME_MAX = 100


@dataclass(frozen=True)
class Settings:
    """A partner's settings as the rules read them (defaults filled in)."""
    partner_id: int
    reminder_days: tuple[int, ...] = timeline.DEFAULT_REMINDER_DAYS
    recipients: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sender_name: str | None = None
    reply_to: str | None = None
    logo_hash: str | None = None
    logo_type: str | None = None

    def copy_roles(self, kind: str) -> tuple[str, ...]:
        return self.recipients.get(kind, recipients.PARTNER_ADMIN_ROLES)

    @property
    def logo_path(self) -> str | None:
        return branding.logo_path(self.logo_hash, self.logo_type)


def _settings(partner_id: int, row: PartnerSettings | None) -> Settings:
    if row is None:
        return Settings(partner_id)
    return Settings(partner_id, tuple(row.reminder_days), {k: tuple(v) for k, v in (row.recipients or {}).items()},
                    row.sender_name, row.reply_to, row.logo_hash, row.logo_type)


async def of(db: AsyncSession, partner_id: int) -> Settings:
    """The partner's settings, defaults filled in (no permission check: the rules' own read)."""
    return _settings(partner_id, await db.get(PartnerSettings, partner_id))


#: What the rules read of a partner's row (not the logo's bytes), in `row_of`'s and `values_of`'s order.
READ = ("reminder_days", "recipients", "sender_name", "reply_to", "logo_hash", "logo_type")


def row_of(actor: Actor) -> Select:
    """`read`'s row (what the rules read of it: not the logo's bytes), for the planner; FORBIDDEN as `read`."""
    table = PartnerSettings.__table__
    return select(*[table.c[name] for name in READ]).where(table.c.partner_id == partner_of(actor))


def values_of(partner_id: Any) -> Any:
    """`of`'s row of the partner whose id is the SQL expression `partner_id` (a partner row's column), as
    one JSON array of READ (NULL: never saved), for the read planner (Partner.logoUrl, contactEmail):
    `from_values` turns it into what `of` answers."""
    table = PartnerSettings.__table__
    return (select(func.json_build_array(*[table.c[name] for name in READ]))
            .where(table.c.partner_id == partner_id).scalar_subquery())


def from_values(partner_id: int, values: list | None) -> Settings:
    """`values_of`'s JSON array as `of` answers (defaults filled in)."""
    return _settings(partner_id, None if values is None else _Row(*values))


class _Row(NamedTuple):
    reminder_days: list
    recipients: dict | None
    sender_name: str | None
    reply_to: str | None
    logo_hash: str | None
    logo_type: str | None


def from_row(partner_id: int, row: Any | None) -> Settings:
    """`row_of`'s row (None: never saved) as `read` answers (defaults filled in)."""
    return _settings(partner_id, row)


def partner_of(actor: Actor) -> int:
    """The actor's partner, when they may manage its settings (else FORBIDDEN)."""
    require(actor, Action.MANAGE_SETTINGS)
    if actor.partner_id is None:
        raise forbidden("Only a partner's full admins manage its settings.")
    return actor.partner_id


async def read(db: AsyncSession, actor: Actor) -> Settings:
    """R-SET-01: the actor's partner's settings (partner full admins only)."""
    return await of(db, partner_of(actor))


async def row_for_update(db: AsyncSession, partner_id: int) -> PartnerSettings:
    """The partner's row, locked (created with the defaults on first change)."""
    row = await db.scalar(select(PartnerSettings).where(PartnerSettings.partner_id == partner_id).with_for_update())
    if row is None:
        row = PartnerSettings(partner_id=partner_id, reminder_days=list(timeline.DEFAULT_REMINDER_DAYS),
                              recipients={}, updated_at=clock.now())
        db.add(row)
        await db.flush()
    return row


def check_reminder_days(days: list[int]) -> list[int]:
    if not days or any(day not in REMINDER_DAY_CHOICES for day in days):
        raise DomainError(ErrorCode.INVALID_INPUT, "Choose at least one reminder day, each one of "
                          f"{', '.join(map(str, REMINDER_DAY_CHOICES))} days before the end.", "reminderDays")
    return sorted(set(days), reverse=True)


def check_sender_name(name: str) -> str | None:
    name = name.strip()
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise DomainError(ErrorCode.INVALID_INPUT, "The sender name is one line of text.", "senderName")
    if len(name) > SENDER_NAME_MAX:
        raise DomainError(ErrorCode.INVALID_INPUT, f"The sender name has at most {SENDER_NAME_MAX} characters.",
                          "senderName")
    return name or None


def check_reply_to(address: str) -> str | None:
    if "\r" in address or "\n" in address:
        raise DomainError(ErrorCode.INVALID_EMAIL, "The reply-to address is one email address on one line.", "replyTo")
    return normalize_email(address, "replyTo") if address.strip() else None


def check_recipients(chosen: dict[str, list[str]]) -> dict[str, list[str]]:
    for kind, roles in chosen.items():
        if kind not in recipients.PARTNER_COPY_KINDS:
            raise DomainError(ErrorCode.INVALID_INPUT, f"'{kind}' is not an email with a partner copy.", "recipients")
        if any(role not in recipients.PARTNER_COPY_ROLES for role in roles):
            raise DomainError(ErrorCode.INVALID_INPUT, "A partner copy goes to partner roles other than read-only.",
                              "recipients")
    return {kind: [r for r in recipients.PARTNER_COPY_ROLES if r in roles] for kind, roles in chosen.items()}


async def update(db: AsyncSession, actor: Actor, *, reminder_days: list[int] | None = None,
                 sender_name: str | None = None, reply_to: str | None = None,
                 recipients_by_kind: dict[str, list[str]] | None = None) -> Settings:
    """R-SET-01: change what is given (None: unchanged; "" clears the sender name or reply-to).
    Everything is checked before anything is written; the reminders of every live trial are
    re-planned in this transaction when the days change."""
    partner_id = partner_of(actor)
    changes: dict[str, Any] = {}
    if reminder_days is not None:
        changes["reminder_days"] = check_reminder_days(list(reminder_days))
    if sender_name is not None:
        changes["sender_name"] = check_sender_name(sender_name)
    if reply_to is not None:
        changes["reply_to"] = check_reply_to(reply_to)
    if recipients_by_kind is not None:
        changes["recipients"] = check_recipients(recipients_by_kind)
    row = await row_for_update(db, partner_id)
    if "recipients" in changes:
        changes["recipients"] = {**(row.recipients or {}), **changes["recipients"]}
    before = {key: getattr(row, key) for key in changes if getattr(row, key) != changes[key]}
    after = {key: changes[key] for key in before}
    if not after:
        return _settings(partner_id, row)
    for key, value in after.items():
        setattr(row, key, value)
    row.updated_at = clock.now()
    if "reminder_days" in after:
        await timeline.replan_reminders(db, partner_id, after["reminder_days"])
    audit.record(db, actor, "settings.updated", "PartnerSettings", partner_id, before=before, after=after)
    return _settings(partner_id, row)
