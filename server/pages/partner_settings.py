"""`/settings/partner` (R-SET-01): a partner full admin's reminder days, who gets the partner copy
of each email, and the sender name and reply-to of customer emails. The page runs stored GraphQL
documents; others get the forbidden page (403). The form works without JavaScript: a saved form
answers 303 to the page, a refused one the page again with the messages and the values given.
"""
from __future__ import annotations

import base64

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.pages import guard, rendering
from server.pages.operations import OperationFailed, run_operation

PATH = "/settings/partner"
REMINDER_DAYS = (30, 14, 7, 3, 1)
COPY_ROLES = ("PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN", "SALES_ADMIN")
LOGO_MAX_BYTES = 200 * 1024       # the API's limit (R-SET-01); the page reads one byte more, never the whole file


def _days(values: list[str]) -> list[int]:
    """The ticked days; anything that is not a whole number is sent as 0, which the API refuses."""
    return [int(v) if v.strip().isdigit() and len(v.strip()) < 4 else 0 for v in values]


def _input(form, kinds: list[str]) -> dict:
    return {"reminderDays": _days([str(v) for v in form.getlist("reminderDays")]),
            "senderName": str(form.get("senderName", "")), "replyTo": str(form.get("replyTo", "")),
            "emailRecipients": [{"kind": kind, "roles": [r for r in form.getlist(f"recipients.{kind}") if r in COPY_ROLES]}
                                for kind in kinds]}


@guard.signed_in(*guard.PARTNER)
async def partner_settings(request: Request) -> Response:
    try:
        data = (await run_operation(request, "PartnerSettingsPage")).data
    except OperationFailed:
        return await guard.forbidden(request, "settings")
    settings = data["partnerSettings"]
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = _input(await request.form(), [r["kind"] for r in settings["emailRecipients"]])
        payload = (await run_operation(request, "UpdatePartnerSettings", {"input": values})).payload(
            "updatePartnerSettings")
        errors = rendering.errors_by_field(payload["userErrors"])
        if not errors:
            return rendering.see_other(PATH + "?saved=1")
        settings = {**settings, **values, "emailRecipients": values["emailRecipients"]}
    return rendering.render(request, "settings/partner.html", {
        "title": rendering._("Partner settings"), "viewer": data["viewer"], "settings": settings, "errors": errors,
        "saved": request.query_params.get("saved") == "1" and not errors, "reminder_choices": REMINDER_DAYS,
        "copy_roles": COPY_ROLES}, status_code=400 if errors else 200)


@guard.signed_in(*guard.PARTNER)
async def partner_logo(request: Request) -> Response:
    """The logo form (multipart): upload a PNG or JPEG, or remove the logo. The API checks and
    re-encodes it; the page sends at most one byte more than the API takes, so a 5 MB file is
    refused as too large without being read whole."""
    try:
        form = await request.form()
    except (MultiPartException, ValueError):
        form = None
    if form is not None and form.get("action") == "remove":
        payload = (await run_operation(request, "RemovePartnerLogo")).payload("removePartnerLogo")
    else:
        upload = form.get("logo") if form is not None else None
        data = await upload.read(LOGO_MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
        payload = (await run_operation(request, "UploadPartnerLogo", {"image": base64.b64encode(data).decode()})
                   ).payload("uploadPartnerLogo")
    errors = rendering.errors_by_field(payload["userErrors"])
    if not errors:
        return rendering.see_other(PATH + "?saved=1")
    try:
        data = (await run_operation(request, "PartnerSettingsPage")).data
    except OperationFailed:
        return await guard.forbidden(request, "settings")
    return rendering.render(request, "settings/partner.html", {
        "title": rendering._("Partner settings"), "viewer": data["viewer"], "settings": data["partnerSettings"],
        "errors": errors, "reminder_choices": REMINDER_DAYS, "copy_roles": COPY_ROLES}, status_code=400)


routes = [Route(PATH, partner_settings, methods=["GET", "POST"]),
          Route(PATH + "/logo", partner_logo, methods=["POST"])]
