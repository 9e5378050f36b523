"""The partner's settings (R-SET-01). Thin: one domain call each; a refused read is a FORBIDDEN
GraphQL error, a refused change userErrors."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from server.domain.notifications import recipients
from server.domain.partner_settings import settings
from server.resolvers.answer import attempt
from server.resolvers.users import _query
from server.schema.permissions import IsAuthenticated
from server.schema.types.settings import PartnerSettings, PartnerSettingsInput, PartnerSettingsPayload

AUTH = [IsAuthenticated]


def _out(found: settings.Settings) -> PartnerSettings:
    return PartnerSettings.from_settings(found, recipients.PARTNER_COPY_KINDS)


@strawberry.type
class SettingsQuery:
    @strawberry.field(permission_classes=AUTH, description="R-SET-01: your partner's settings (partner full admins).")
    async def partner_settings(self, info: Info) -> PartnerSettings:
        async def call(db):
            return _out(await settings.read(db, info.context.actor))
        return await _query(info, "partnerSettings", call)


@strawberry.type
class SettingsMutation:
    @strawberry.mutation(permission_classes=AUTH, description="R-SET-01: changing the reminder days re-plans "
                                                             "every live trial's pending reminders.")
    async def update_partner_settings(self, info: Info, input: PartnerSettingsInput) -> PartnerSettingsPayload:
        async def call(db):
            chosen = None if input.email_recipients is None else {
                item.kind: [role.value for role in item.roles] for item in input.email_recipients}
            return _out(await settings.update(db, info.context.actor, reminder_days=input.reminder_days,
                                              sender_name=input.sender_name, reply_to=input.reply_to,
                                              recipients_by_kind=chosen))
        result, errors = await attempt(info, "updatePartnerSettings", call)
        return PartnerSettingsPayload(settings=result, user_errors=errors)
