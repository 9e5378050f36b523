"""R-SET-01/02: how the partner's customer emails look: the sender name and reply-to (headers, set
by the sender), the logo (in the HTML body) and the partner's own subject and introduction.

Customer emails are the emails about a trial that go to the customer's people (`CUSTOMER_KINDS`);
the partner's own copies, sign-in links and invitations keep the platform's look. The From
address stays the platform's (SMTP_FROM): the partner's sender name is its display name.
A row's branding is read when it is rendered (at enqueue for a user's action, by the sender for
the sweep's rows) and when it is sent (headers): one query per batch of rows.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import PartnerEmailText, PartnerSettings, Trial

#: outbox.EmailKind values of the emails the customer's people get about a trial.
CUSTOMER_KINDS = frozenset({"welcome", "consent_request", "consent_reminder", "trial_started", "warning_customer",
                            "expired_customer", "access_ended", "device_license"})


@dataclass(frozen=True)
class Branding:
    sender_name: str | None = None
    reply_to: str | None = None
    logo_path: str | None = None
    #: (kind, locale) -> (subject, introduction): the partner's own texts (R-SET-02).
    texts: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)


PLAIN = Branding()


def logo_path(logo_hash: str | None, logo_type: str | None) -> str | None:
    """Our origin's path of a logo, named by its content hash (cached forever, never reused)."""
    if logo_hash is None:
        return None
    return f"/logos/{logo_hash}.{'png' if logo_type == 'image/png' else 'jpg'}"


async def of_partners(db: AsyncSession, partner_ids: Iterable[int]) -> dict[int, Branding]:
    """Each partner's branding (partners that changed nothing are left out: PLAIN); two queries."""
    partner_ids = set(partner_ids)
    if not partner_ids:
        return {}
    texts: dict[int, dict[tuple[str, str], tuple[str, str]]] = {}
    for row in await db.scalars(select(PartnerEmailText).where(PartnerEmailText.partner_id.in_(partner_ids))):
        texts.setdefault(row.partner_id, {})[(row.kind, row.locale)] = (row.subject, row.introduction)
    rows = await db.execute(select(PartnerSettings.partner_id, PartnerSettings.sender_name, PartnerSettings.reply_to,
                                   PartnerSettings.logo_hash, PartnerSettings.logo_type)
                            .where(PartnerSettings.partner_id.in_(partner_ids)))
    looks = {partner_id: Branding(texts=own) for partner_id, own in texts.items()}
    for partner_id, sender, reply_to, logo_hash, logo_type in rows:
        looks[partner_id] = Branding(sender, reply_to, logo_path(logo_hash, logo_type), texts.get(partner_id, {}))
    return looks


async def of_trials(db: AsyncSession, trial_ids: Iterable[int | None]) -> dict[int, Branding]:
    """The branding of each trial's partner, in two queries."""
    trial_ids = {i for i in trial_ids if i is not None}
    if not trial_ids:
        return {}
    partners = dict((await db.execute(select(Trial.id, Trial.partner_id).where(Trial.id.in_(trial_ids)))).all())
    brandings = await of_partners(db, set(partners.values()))
    return {trial_id: brandings.get(partner_id, PLAIN) for trial_id, partner_id in partners.items()}


def for_email(kind: str, brandings: dict[int, Branding], trial_id: int | None) -> Branding:
    """The branding an email of `kind` about `trial_id` gets (PLAIN unless it is a customer email)."""
    if kind not in CUSTOMER_KINDS or trial_id is None:
        return PLAIN
    return brandings.get(trial_id, PLAIN)
