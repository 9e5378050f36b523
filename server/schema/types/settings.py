"""The partner's settings (SPEC §11, R-SET-01): partner full admins only."""
from __future__ import annotations

import strawberry

from server.domain.partner_settings.settings import Settings
from server.planner import declare as plan
from server.schema.enums import Role
from server.schema.errors import UserError


@strawberry.type(description="R-SET-01: which partner roles get the partner's copy of one email kind "
                             "(the user who started the trial always does).")
class EmailRecipients:
    kind: str
    roles: list[Role]


@strawberry.type(description="R-SET-01: the partner's reminder days, recipients, sender name, reply-to and logo.")
class PartnerSettings:
    reminder_days: list[int]
    sender_name: str | None
    reply_to: str | None
    logo_url: str | None = strawberry.field(description="On our origin, named by its content hash.")
    email_recipients: list[EmailRecipients] = strawberry.field(
        description="Per email kind with a partner copy, the roles that get it.")

    @classmethod
    def from_settings(cls, settings: Settings, kinds: tuple[str, ...]) -> "PartnerSettings":
        return cls(reminder_days=list(settings.reminder_days), sender_name=settings.sender_name,
                   reply_to=settings.reply_to, logo_url=settings.logo_path,
                   email_recipients=[EmailRecipients(kind=kind, roles=[Role(r) for r in settings.copy_roles(kind)])
                                     for kind in kinds])


@strawberry.input(description="One email kind's partner-copy roles (any partner role but READ_ONLY).")
class EmailRecipientsInput:
    kind: str
    roles: list[Role]


@strawberry.input(description="What to change; a field left out stays as it is, an empty string clears it.")
class PartnerSettingsInput:
    reminder_days: list[int] | None = None
    sender_name: str | None = None
    reply_to: str | None = None
    email_recipients: list[EmailRecipientsInput] | None = None


@strawberry.type
class PartnerSettingsPayload:
    settings: PartnerSettings | None
    user_errors: list[UserError]


@strawberry.type(description="R-SET-02: a customer email's subject and introduction in one language, in the "
                             "partner's words (empty: the default), and the placeholders it may use.")
class PartnerEmailText:
    kind: str
    locale: str
    subject: str
    introduction: str
    placeholders: list[str]

    @classmethod
    def from_text(cls, text) -> "PartnerEmailText":
        return cls(kind=text.kind, locale=text.locale, subject=text.subject, introduction=text.introduction,
                   placeholders=list(text.placeholders))


@strawberry.type
class PartnerEmailTextPayload:
    email_text: PartnerEmailText | None
    user_errors: list[UserError]


@strawberry.type(description="R-SET-02: the whole email as it would go out, for a sample trial.")
class EmailPreview:
    subject: str
    text: str
    html: str | None


@strawberry.type
class EmailPreviewPayload:
    preview: EmailPreview | None
    user_errors: list[UserError]


# What the planner reads for partnerSettings (server.resolvers.settings: roots.Record): the resolver's own
# PartnerSettings object, built from the partner's row; its fields are picked from it.
plan.plannable("PartnerSettings", reminderDays=plan.ByRoot(), senderName=plan.ByRoot(), replyTo=plan.ByRoot(),
               logoUrl=plan.ByRoot(), emailRecipients=plan.ByRoot())
plan.plannable("EmailRecipients", kind=plan.ByRoot(), roles=plan.ByRoot())
plan.plannable("PartnerEmailText", kind=plan.ByRoot(), locale=plan.ByRoot(), subject=plan.ByRoot(),
               introduction=plan.ByRoot(), placeholders=plan.ByRoot())
