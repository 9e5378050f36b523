"""`/settings/partner/emails` (R-SET-02): a partner full admin words its customer emails, one kind and
language at a time (`?kind=…&locale=…` in the URL), with a live preview of the whole email for a
sample trial (htmx asks `/settings/partner/emails/preview` as they type; without JavaScript the
Preview button answers the page with it), Save, and Reset to the default. Every refusal (an unknown
placeholder, markup) is the API's INVALID_TEMPLATE message beside its field; nothing is saved.
"""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.pages import guard, rendering
from server.pages.operations import OperationFailed, run_operation

PATH = "/settings/partner/emails"


def _chosen(texts: list[dict], kind: str, locale: str) -> dict:
    return next((t for t in texts if t["kind"] == kind and t["locale"] == locale), texts[0])


async def _preview(request: Request, values: dict) -> tuple[dict | None, dict[str, list[str]]]:
    """(the preview, messages by field); OperationFailed when the visitor may not see it."""
    payload = (await run_operation(request, "PreviewPartnerEmail", values)).payload("previewPartnerEmail")
    if any(error["code"] == "FORBIDDEN" for error in payload["userErrors"]):
        raise OperationFailed("previewPartnerEmail refused", payload["userErrors"])
    return payload.get("preview"), rendering.errors_by_field(payload["userErrors"])


@guard.signed_in(*guard.PARTNER)
async def email_texts(request: Request) -> Response:
    try:
        data = (await run_operation(request, "PartnerEmailTextsPage")).data
    except OperationFailed:
        return await guard.forbidden(request, "settings")
    texts = data["partnerEmailTexts"]
    source = await request.form() if request.method == "POST" else request.query_params
    chosen = _chosen(texts, str(source.get("kind", "")), str(source.get("locale", "")))
    values = {"kind": chosen["kind"], "locale": chosen["locale"], "subject": chosen["subject"],
              "introduction": chosen["introduction"]}
    errors: dict[str, list[str]] = {}
    preview = None
    if request.method == "POST":
        action = str(source.get("action", "save"))
        values.update(subject=str(source.get("subject", "")), introduction=str(source.get("introduction", "")))
        back = f"{PATH}?{urlencode({'kind': values['kind'], 'locale': values['locale']})}"
        if action == "reset":
            payload = (await run_operation(request, "ResetPartnerEmailText", {
                "kind": values["kind"], "locale": values["locale"]})).payload("resetPartnerEmailText")
            errors = rendering.errors_by_field(payload["userErrors"])
            if not errors:
                return rendering.see_other(back + "&saved=reset")
        elif action == "preview":
            preview, errors = await _preview(request, values)
        else:
            payload = (await run_operation(request, "SetPartnerEmailText", values)).payload("setPartnerEmailText")
            errors = rendering.errors_by_field(payload["userErrors"])
            if not errors:
                return rendering.see_other(back + "&saved=1")
    return rendering.render(request, "settings/email_texts.html", {
        "title": rendering._("Email texts"), "viewer": data["viewer"], "texts": texts, "chosen": chosen,
        "values": values, "errors": errors, "preview": preview, "saved": request.query_params.get("saved")},
        status_code=400 if errors else 200)


@guard.signed_in(*guard.PARTNER)
async def email_preview(request: Request) -> Response:
    """The preview partial htmx swaps in as the admin types."""
    params = request.query_params
    values = {name: params.get(name, "") for name in ("kind", "locale", "subject", "introduction")}
    try:
        preview, errors = await _preview(request, values)
    except OperationFailed:
        return await guard.forbidden(request, "settings")
    return rendering.render(request, "settings/_email_preview.html", {"preview": preview, "errors": errors})


routes = [Route(PATH, email_texts, methods=["GET", "POST"]), Route(PATH + "/preview", email_preview)]
