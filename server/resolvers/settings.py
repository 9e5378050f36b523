"""The partner's settings (R-SET-01). Thin: one domain call each; a refused read is a FORBIDDEN
GraphQL error, a refused change userErrors."""
from __future__ import annotations

import base64
import binascii

import strawberry
from strawberry.types import Info

from server.domain.core.errors import DomainError
from server.planner import declare as plan
from server.planner import calls, roots
from server.domain.notifications import recipients
from server.domain.partner_settings import email_texts, logo, preview, settings
from server.enums import ErrorCode
from server.resolvers.answer import attempt, attempt_in
from server.resolvers.users import _query, query_error
from server.schema.permissions import IsAuthenticated
from server.schema.types.settings import (
    EmailPreview, EmailPreviewPayload, PartnerEmailText, PartnerEmailTextPayload, PartnerSettings, PartnerSettingsInput,
    PartnerSettingsPayload,
)

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


    @strawberry.field(permission_classes=AUTH, description="R-SET-02: every customer email kind and language, in "
                                                          "your words or the default (empty).")
    async def partner_email_texts(self, info: Info) -> list[PartnerEmailText]:
        async def call(db):
            return [PartnerEmailText.from_text(t) for t in await email_texts.texts(db, info.context.actor)]
        return await _query(info, "partnerEmailTexts", call)

    @strawberry.field(permission_classes=AUTH, description="R-SET-02: the whole email with these texts (unsaved) "
                                                          "for a sample trial; INVALID_TEMPLATE as saving answers.")
    async def preview_partner_email(self, info: Info, kind: str, locale: str, subject: str = "",
                                    introduction: str = "") -> EmailPreviewPayload:
        return await preview_payload(info.context, kind, locale, subject, introduction)


async def preview_payload(context, kind: str, locale: str, subject: str, introduction: str) -> EmailPreviewPayload:
    """previewPartnerEmail (R-SET-02), refusals as userErrors (a FORBIDDEN audited, R-ROLE-02): the resolver's and
    the planner's (calls.Call) one implementation."""
    async def call(db):
        found = await preview.preview(db, context.actor, kind, locale, subject, introduction)
        return EmailPreview(subject=found[0], text=found[1], html=found[2])
    result, errors = await attempt_in(context, "previewPartnerEmail", call)
    return EmailPreviewPayload(preview=result, user_errors=errors)


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

    @strawberry.mutation(permission_classes=AUTH, description="R-SET-01: the logo, base64 of a PNG or JPEG (at most "
                                                             "200 KB and 1024 px); stored re-encoded.")
    async def upload_partner_logo(self, info: Info, image: str) -> PartnerSettingsPayload:
        async def call(db):
            settings.partner_of(info.context.actor)          # refused before the upload is looked at
            return _out(await logo.upload(db, info.context.actor, _decoded(image)))
        result, errors = await attempt(info, "uploadPartnerLogo", call)
        return PartnerSettingsPayload(settings=result, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH, description="R-SET-01: customer emails and pages show no logo.")
    async def remove_partner_logo(self, info: Info) -> PartnerSettingsPayload:
        async def call(db):
            return _out(await logo.remove(db, info.context.actor))
        result, errors = await attempt(info, "removePartnerLogo", call)
        return PartnerSettingsPayload(settings=result, user_errors=errors)


    @strawberry.mutation(permission_classes=AUTH, description="R-SET-02: your subject and introduction for one kind "
                                                             "and language (both empty: the default).")
    async def set_partner_email_text(self, info: Info, kind: str, locale: str, subject: str,
                                     introduction: str) -> PartnerEmailTextPayload:
        async def call(db):
            return PartnerEmailText.from_text(await email_texts.save(db, info.context.actor, kind, locale, subject,
                                                                     introduction))
        result, errors = await attempt(info, "setPartnerEmailText", call)
        return PartnerEmailTextPayload(email_text=result, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH, description="R-SET-02: back to the default text.")
    async def reset_partner_email_text(self, info: Info, kind: str, locale: str) -> PartnerEmailTextPayload:
        async def call(db):
            return PartnerEmailText.from_text(await email_texts.reset(db, info.context.actor, kind, locale))
        result, errors = await attempt(info, "resetPartnerEmailText", call)
        return PartnerEmailTextPayload(email_text=result, user_errors=errors)


def _decoded(image: str) -> bytes:
    """The upload's bytes; too long or not base64 is refused before decoding anything large."""
    if len(image) > (logo.MAX_BYTES * 4) // 3 + 8:
        raise DomainError(ErrorCode.INVALID_INPUT, "The logo may be at most 200 KB.", "logo")
    try:
        return base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(ErrorCode.INVALID_INPUT, "The logo must be a PNG or JPEG image.", "logo") from None


# a FORBIDDEN (raised by the rows' statement) answered and audited as `_query` does (`query_error`)
plan.root("partnerSettings", roots.Record("PartnerSettings", settings.row_of,
                                          lambda env, row: _out(settings.from_row(env.actor.partner_id, row))),
          refusal=query_error)
plan.root("partnerEmailTexts", roots.Record("PartnerEmailText", email_texts.rows_of, many=True, build=lambda env, rows:
                                           [PartnerEmailText.from_text(text) for text in email_texts.from_rows(rows)]),
          refusal=query_error)
plan.plannable("EmailPreviewPayload", preview=plan.ByRoot(), userErrors=plan.ByRoot())
plan.plannable("EmailPreview", subject=plan.ByRoot(), text=plan.ByRoot(), html=plan.ByRoot())
plan.plannable("UserError", code=plan.ByRoot(), field=plan.ByRoot(), message=plan.ByRoot())
plan.root("previewPartnerEmail", calls.Call("EmailPreviewPayload", lambda context, args: preview_payload(
    context, args["kind"], args["locale"], args["subject"], args["introduction"])))
