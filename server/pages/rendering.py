"""Templates, translations and the htmx conventions every page follows.

- A full page without htmx; a fragment when htmx asked for one (`HX-Request` but not a boosted
  navigation, which wants the whole page). Every answer says `Vary: HX-Request`.
- POST handlers answer 303 (Post/Redirect/Get), or a fragment plus an `HX-Trigger` event.
- userErrors become `errors` keyed by their dotted field path (`meetings.siteUrl`); errors
  without a field are listed at the top of the form (key `""`).
"""
from __future__ import annotations

import contextvars
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from server import i18n
from server.settings import get_settings
from server.pages import labels

WEB = Path(__file__).resolve().parents[2] / "web"
VARY = {"Vary": "HX-Request"}
_locale: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=i18n.DEFAULT)
_zone: contextvars.ContextVar[str] = contextvars.ContextVar("zone", default="UTC")


def _(message: str, **values: Any) -> str:
    """Translate into the current request's locale; `%(name)s` placeholders filled from values."""
    text = i18n.gettext(_locale.get(), message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """The plural form for `n` in the current locale; placeholders filled from `values` (and `num`)."""
    return i18n.ngettext(_locale.get(), singular, plural, n) % {"num": n, **values}


templates = Jinja2Templates(directory=str(WEB / "templates"))
templates.env.auto_reload = get_settings().is_dev  # outside dev, no stat of the template file per render
templates.env.globals.update(_=_, gettext=_, ngettext=ngettext)
# An empty value has no label: gettext("") would answer the catalog's header.
templates.env.filters["label"] = lambda value: _(labels.label(value)) if value else ""
templates.env.filters["tone"] = labels.tone
# Dates, countries and time zones in the reader's locale and time zone (SPEC §8: en or nb; ISO stays
# in machine fields: `<time datetime>`, form values, CSV).
templates.env.filters["day"] = lambda value: i18n.format_day(_locale.get(), _zone.get(), value)
templates.env.filters["short_day"] = lambda value: i18n.format_short_day(_locale.get(), value)
templates.env.filters["moment"] = lambda value: i18n.format_moment(_locale.get(), _zone.get(), value)
templates.env.filters["country"] = lambda code: i18n.country_name(_locale.get(), code)
templates.env.filters["zone"] = lambda zone: i18n.zone_name(_locale.get(), zone)
templates.env.filters["by_country_name"] = lambda countries: sorted(
    countries, key=lambda c: i18n.country_name(_locale.get(), c["code"]).casefold())
templates.env.policies["json.dumps_kwargs"] = {"sort_keys": True}


def is_htmx(request: Request) -> bool:
    """htmx asked for a part of the page (a boosted link or form wants the whole page)."""
    headers = request.headers
    return (headers.get("hx-request") == "true" and headers.get("hx-boosted") != "true"
            and headers.get("hx-history-restore-request") != "true")


def locale(request: Request) -> str:
    return i18n.locale_of(request.cookies, request.headers.get("accept-language"))


def use_locale(request: Request) -> str:
    """The request's locale and the reader's time zone, for every word and date rendered after."""
    lang = locale(request)
    _locale.set(lang)
    _zone.set(i18n.zone_of(request.cookies.get(i18n.ZONE_COOKIE)))
    return lang


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    """Render `template` in the request's locale with the shell's context (CSRF token, viewer)."""
    lang = use_locale(request)
    full = {"csrf_token": getattr(request.state, "csrf_token", ""), "locale": lang, "path": request.url.path,
            "errors": {}, "test_clock": test_clock(request), **(context or {})}
    return templates.TemplateResponse(request, template, full, status_code=status_code,
                                      headers={**VARY, **(headers or {})})


def test_clock(request: Request) -> dict[str, Any] | None:
    """While the test clock is moved, every page says so (days ahead, and its today): a tester must
    not take a played-forward date for the real one.
    The offset comes from the auth middleware, which refreshed it for this request (server.clock)."""
    ahead = getattr(request.state, "clock_offset", None) or timedelta(0)
    if ahead < timedelta(hours=1):
        return None
    return {"days": ahead.days, "hours": ahead.seconds // 3600,
            "today": (datetime.now(UTC) + ahead).date().isoformat()}


def see_other(url: str) -> Response:
    """Post/Redirect/Get."""
    return RedirectResponse(url, status_code=303, headers=VARY)


def trigger(response: Response, event: str, detail: Any = None) -> Response:
    """Tell htmx listeners what happened (`HX-Trigger`)."""
    response.headers["HX-Trigger"] = json.dumps({event: detail if detail is not None else True})
    return response


ERROR_MESSAGES = {
    # Translated messages by ErrorCode; the API's English message is the fallback.
    "FORBIDDEN": "You are not allowed to do this.",
    "NOT_FOUND": "Not found.",
    "VERSION_CONFLICT": "Someone else changed this trial. Reload the page and try again.",
    "ORG_EXISTS": "This email belongs to an existing organization: start the trial as an existing customer.",
    "NOT_AN_EXISTING_ORG": "No organization uses this email. Check the email and go back.",
    "UNSUPPORTED_LOCATION": "Trials are not offered in this location.",
    "SITE_URL_TAKEN": "This site URL is taken.",
    "INVALID_SITE_URL": "Enter a site name of 3 to 40 letters, digits or hyphens.",
    "INVALID_TIME_ZONE": "Choose a time zone from the list.",
    "LICENSE_COUNT_OUT_OF_RANGE": "Enter a license count from 1 to 1000.",
    "INVALID_DURATION": "Choose 30, 60 or 90 days.",
    "INVALID_EMAIL": "Enter a valid email address.",
    "PARTNER_NOT_CERTIFIED": "Only certified partners may start trials.",
    "CONTACT_DISTRIBUTOR": "Tier 2 partners convert through their distributor.",
    "PROVISIONING_EMAIL_MISMATCH": "The provisioning email must belong to a partner admin or a customer admin.",
    "SERVICES_OMITTED": "The order leaves out trial services: confirm that they will be lost.",
    "DEVICES_OUTSTANDING": "Devices are still out: they must be returned first.",
    "POE_NOT_CONFIRMED": "Confirm PoE at the site, or contact the trials team.",
    "INVALID_ADDRESS": "Check this part of the address.",
    "INVALID_PHONE_NUMBER": "Enter a valid phone number.",
    "RATE_LIMITED": "Too many lookups. Wait a minute and try again.",
}
FIELD_MESSAGE_CODES = {"ORG_EXISTS", "NOT_AN_EXISTING_ORG", "SITE_URL_TAKEN", "INVALID_SITE_URL", "INVALID_TIME_ZONE",
                       "LICENSE_COUNT_OUT_OF_RANGE", "INVALID_DURATION", "INVALID_EMAIL", "POE_NOT_CONFIRMED"}


def message_of(error: dict[str, Any]) -> str:
    """A userError for people, in their language when we know its code."""
    code = error.get("code", "")
    if code in ERROR_MESSAGES and (code in FIELD_MESSAGE_CODES or _locale.get() != i18n.DEFAULT):
        return _(ERROR_MESSAGES[code])
    return error.get("message", "")


def errors_by_field(user_errors: list[dict[str, Any]], aliases: dict[str, str] | None = None,
                    key_of: Callable[[list[str]], str] | None = None) -> dict[str, list[str]]:
    """userErrors keyed by dotted field path (`input.` dropped; `aliases` renames paths; `key_of`
    names the form field of a path when the form's names are not the API's)."""
    found: dict[str, list[str]] = {}
    for error in user_errors:
        path = [p for p in (error.get("field") or []) if p != "input"]
        key = key_of(path) if key_of else ".".join(path)
        key = (aliases or {}).get(key, key)
        found.setdefault(key, []).append(message_of(error))
    return found
