"""Email rendering (SPEC §8): (subject, text, html) per kind, in the recipient's locale (en or nb).

Bodies are Jinja2 templates `web/templates/emails/<kind>.txt` and `<kind>.html`, one file per kind
holding both locales; subjects are below. Norwegian words follow GLOSSARY.md. Links are built from
BASE_URL: the Buy button (the trial's Buy page, `buy_url`, R-TIME-01), the customer view, the sign-in page; links that
carry a token (consent, magic link, invite) come in the context from the flow that signs them.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader

TEMPLATES = Path(__file__).resolve().parents[3] / "web" / "templates"
LOCALES = ("en", "nb")

SUBJECTS: dict[str, dict[str, str]] = {
    "welcome": {"en": "Welcome to your Webex trial", "nb": "Velkommen til prøveversjonen av Webex"},
    "consent_request": {"en": "{partner_name} asks to start a Webex trial for {customer_name}",
                        "nb": "{partner_name} ber om samtykke til en prøveversjon av Webex for {customer_name}"},
    "consent_reminder": {"en": "Reminder: {partner_name} asks to start a Webex trial for {customer_name}",
                         "nb": "Påminnelse: {partner_name} ber om samtykke til en prøveversjon av Webex"},
    "trial_started": {"en": "A Webex trial has started for {customer_name}",
                      "nb": "En prøveversjon av Webex har startet for {customer_name}"},
    "warning_customer": {"en": "Your Webex trial ends {in_days}", "nb": "Prøveversjonen av Webex utløper {in_days}"},
    "warning_partner": {"en": "{customer_name}: the Webex trial ends {in_days}",
                        "nb": "{customer_name}: prøveversjonen utløper {in_days}"},
    "expired_customer": {"en": "Your Webex trial has expired", "nb": "Prøveversjonen av Webex er utløpt"},
    "expired_partner": {"en": "{customer_name}: the Webex trial has expired",
                        "nb": "{customer_name}: prøveversjonen er utløpt"},
    "access_ended": {"en": "Your Webex trial services have ended", "nb": "Prøvetjenestene i Webex er avsluttet"},
    "purchase_interest": {"en": "{customer_name} is interested in buying",
                          "nb": "{customer_name} er interessert i å kjøpe"},
    "device_extension_decided": {"en": "{customer_name}: device trial extension decided",
                                 "nb": "{customer_name}: forlengelse av enhetsprøven er behandlet"},
    "return_overdue": {"en": "{customer_name}: trial device return overdue",
                       "nb": "{customer_name}: retur av Webex-enheter er forsinket"},
    "consent_lapsed": {"en": "{customer_name} did not answer your trial request",
                       "nb": "{customer_name} svarte ikke på forespørselen om prøveversjon"},
    "trial_cancelled": {"en": "The Webex trial for {customer_name} was cancelled",
                        "nb": "Prøveversjonen av Webex for {customer_name} er avbrutt"},
    "converted": {"en": "{customer_name} is now a paid Webex customer",
                  "nb": "{customer_name} er nå en betalende Webex-kunde"},
    "device_license": {"en": "Your Webex trial devices", "nb": "Webex-enhetene i prøveversjonen"},
    "magic_link": {"en": "Your Trialdesk sign-in link", "nb": "Påloggingslenken din for Trialdesk"},
    "invite": {"en": "You're invited to Trialdesk", "nb": "Du er invitert til Trialdesk"},
    "webhook_disabled": {"en": "Trialdesk stopped sending to your webhook endpoint",
                         "nb": "Trialdesk har sluttet å sende til webhook-endepunktet deres"},
}

SERVICE_NAMES = {"nb": {"MESSAGING": "Meldinger", "MEETINGS": "Møter", "CALLING": "Ringer", "DEVICES": "Webex-enheter"},
                 "en": {"MESSAGING": "Messaging", "MEETINGS": "Meetings", "CALLING": "Calling", "DEVICES": "Devices"}}
#: R-USE-04's health in words (GLOSSARY.md), for the warnings' usage (R-USE-06).
HEALTH_NAMES = {"en": {"HEALTHY": "Healthy", "LOW": "Low", "INACTIVE": "Inactive", "NOT_STARTED": "Not started"},
                "nb": {"HEALTHY": "God", "LOW": "Lav", "INACTIVE": "Inaktiv", "NOT_STARTED": "Ikke startet"}}


def _health(value: Any, locale: str = "en") -> str:
    return HEALTH_NAMES.get(locale, HEALTH_NAMES["en"]).get(str(value), str(value))


def _day(value: Any, locale: str = "en") -> str:
    """A date in the reader's language: 12 March 2025 / 12. mars 2025."""
    if not value:
        return ""
    if isinstance(value, (str, date)):
        return _day_cached(value, locale)
    return _format_day(value, locale)


@lru_cache(maxsize=4096)
def _day_cached(value: str | date, locale: str) -> str:
    """Babel's formatting costs more than the rest of an email; a sweep's emails share few dates."""
    return _format_day(value, locale)


def _format_day(value: Any, locale: str) -> str:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, format="long", locale="nb_NO" if locale == "nb" else "en_GB")


def _services(values: Any, locale: str = "en") -> str:
    names = SERVICE_NAMES.get(locale, SERVICE_NAMES["en"])
    return ", ".join(names.get(str(v), str(v)) for v in (values or []))


@lru_cache(maxsize=2)
def _environments() -> tuple[Environment, Environment]:
    def make(autoescape: bool) -> Environment:
        env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=autoescape,
                          keep_trailing_newline=True, auto_reload=False)   # no stat() per email
        env.filters["day"] = _day
        env.filters["services"] = _services
        env.filters["health"] = _health
        return env
    return make(False), make(True)


def _action_url(kind: str, context: dict[str, Any], base: str) -> str | None:
    """Where the email's button leads."""
    if kind in ("consent_request", "consent_reminder"):
        return context.get("consent_url") or f"{base}/my"
    if kind in ("magic_link", "invite"):
        return (context.get("url") or context.get("link") or context.get("magic_link_url")
                or context.get("invite_url") or f"{base}/login")
    if kind in ("warning_customer", "expired_customer"):
        return buy_url(base, context.get("trial_id"))             # R-TIME-01: the Buy button
    if kind in ("welcome", "trial_started"):
        return context.get("sign_in_url") or f"{base}/my"        # R-NEW-04: sign in
    if context.get("customer_url"):
        return context["customer_url"]
    if context.get("customer_id"):  # "View customer" opens that customer, not the list
        from server.domain.core.global_ids import global_id

        return f"{base}/customers/{global_id('Customer', context['customer_id'])}"
    return f"{base}/customers"


def buy_url(base: str, trial_id: Any) -> str:
    """R-TIME-01 / R-BUY-01: the trial's Buy page (`/my/trials/{id}/buy`): signed in it opens at once,
    signed out it asks for a sign-in link that comes back to it."""
    if not isinstance(trial_id, int):
        return f"{base}/my"
    from server.domain.core.global_ids import global_id

    return f"{base}/my/trials/{global_id('Trial', trial_id)}/buy"


def in_days(days: Any, locale: str) -> str:
    """R-SET-01: when a reminder's trial ends, "in 14 days" / "om 14 dager" (the 7-day warning's
    context from before R-SET-01 has no days: 7)."""
    days = days if isinstance(days, int) else 7
    if locale == "nb":
        return f"om {days} dag" if days == 1 else f"om {days} dager"
    return f"in {days} day" if days == 1 else f"in {days} days"


def render(kind, locale: str, context: dict[str, Any], look: Any = None) -> tuple[str, str, str | None]:
    """(subject, text, html) for `kind` in `locale` (anything but nb falls back to en), with the
    partner's look (`partner_settings.branding.Branding`: the logo, its own subject and introduction)."""
    from server.settings import get_settings

    kind = getattr(kind, "value", kind)
    locale = locale if locale in LOCALES else "en"
    base = get_settings().base_url.rstrip("/")
    values = {"customer_name": "", "partner_name": "", **context, "locale": locale, "base_url": base}
    values["action_url"] = _action_url(kind, values, base)
    values["in_days"] = in_days(values.get("days_left"), locale)
    values["logo_url"] = f"{base}{look.logo_path}" if look is not None and look.logo_path else None
    own_subject, values["intro"] = None, None
    if look is not None and look.texts:
        from server.domain.partner_settings import email_texts  # R-SET-02: the partner's own words

        own_subject, values["intro"] = email_texts.render(
            kind, locale, look, email_texts.placeholder_values(values, lambda value: _day(value, locale)))
    subject = own_subject or SUBJECTS[kind][locale].format_map(_Blank(values))
    values["subject"] = subject
    text_env, html_env = _environments()
    text = text_env.get_template(f"emails/{kind}.txt").render(values)
    html = html_env.get_template(f"emails/{kind}.html").render(values)
    return subject, text, html


class _Blank(dict):
    """format_map that leaves a missing name empty instead of failing."""

    def __missing__(self, key: str) -> str:
        return ""
