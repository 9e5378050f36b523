"""R-SET-02's live preview: the whole email with a partner's unsaved texts, for a sample trial (beside
email_texts.py, which the email renderer reads: the preview renders through notifications.emails)."""
from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import PartnerOrg
from server.domain.core.actor import Actor
from server.domain.notifications import emails
from server.domain.partner_settings import branding, email_texts
from server.domain.partner_settings.settings import partner_of

#: The sample trial's usage, which its warnings say (R-USE-06: one of the facts that always follow).
SAMPLE_USAGE = {"health": "LOW", "active_users_30d": 8, "licenses": 50,
                "services": [{"service": "MESSAGING", "active_users_30d": 8, "licenses": 50},
                             {"service": "MEETINGS", "active_users_30d": 5, "licenses": 50}]}


async def preview(db: AsyncSession, actor: Actor, kind: str, locale: str, subject: str,
                  introduction: str) -> tuple[str, str, str | None]:
    """R-SET-02: the whole email (subject, text, html) with these texts, unsaved, for a sample trial
    of the partner's, with its sender look; INVALID_TEMPLATE as saving would answer."""
    partner_id = partner_of(actor)
    subject, introduction = email_texts.checked(kind, locale, subject, introduction)
    look = (await branding.of_partners(db, [partner_id])).get(partner_id, branding.PLAIN)
    texts = {**look.texts}
    texts.pop((kind, locale), None)
    if subject or introduction:
        texts[(kind, locale)] = (subject, introduction)
    partner = await db.get(PartnerOrg, partner_id)
    ends = clock.now().astimezone(UTC) + timedelta(days=7)
    sample = {"customer_name": "Fjordkraft Demo AS", "partner_name": partner.name, "trial_id": 0,
              "ends_at": ends.date().isoformat(), "days_left": 7,
              "grace_ends_at": (ends + timedelta(days=30)).date().isoformat(), "services": ["MESSAGING", "MEETINGS"],
              "usage": SAMPLE_USAGE}
    return emails.render(kind, locale, sample, branding.Branding(look.sender_name, look.reply_to, look.logo_path, texts))
