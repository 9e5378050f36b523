"""`/`: the partner's home page (the partner's day: README "The partner's day"): what needs attention today, each category a count and
a short list linking to the customer, and the trials-by-week chart with its table. It runs the
stored `HomePage` document (attention + trialsByWeek, scoped as the customers list).

Other visitors keep their own start page (guard.HOME): the trials team its queue, customer admins
`/my`; signing in still lands on `/customers` (a DESIGN contract), from where Home is one click."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.pages import guard, rendering, trial_chart
from server.pages.operations import run_operation

def _(message: str) -> str:
    """Marks a message for translations/update.py; the template translates it in the visitor's locale."""
    return message


#: Per category: heading, what an empty list tells the partner to do, and where the whole list is.
CATEGORIES = {
    "TRIALS_ENDING_SOON": (
        _("Trials ending in the next 7 days"),
        _("No trial ends this week. Extend or convert trials here before they expire."),
        "/customers?status=TRIAL_EXPIRING_30"),
    "TRIALS_IN_GRACE": (
        _("Expired trials in grace"),
        _("No trial is in its grace period. Expired trials can still be converted or extended for 30 days: "
          "they will show here."),
        "/customers?status=TRIAL_EXPIRED"),
    "CONSENT_PENDING": (
        _("Consent requests waiting more than 20 days"),
        _("No consent request is about to lapse. Resend a request from the customer's page if the customer "
          "needs a reminder."),
        "/customers?status=PENDING_CONSENT"),
    "PROVISIONING_FAILED": (
        _("Provisioning failed"),
        _("Every customer was provisioned. If provisioning fails, retry it from the customer's page."), ""),
    "DEVICE_RETURNS_DUE": (
        _("Device returns due within 14 days or overdue"),
        _("No device return is due. Remind customers to return devices before their return date."), ""),
    "DEVICE_EXTENSIONS_WAITING": (
        _("Device extensions waiting on the trials team"),
        _("No device extension is waiting. Ask for one from the customer's page when a customer needs the "
          "devices longer."), ""),
    "LOW_ADOPTION_ENDING_SOON": (
        _("Low adoption, ending soon"),
        _("No trial ending in the next 14 days has low or no usage. Trials that end soon while their users "
          "barely use them will show here: call those customers first."),
        "/customers?adoption=LOW"),
    "PURCHASE_INTEREST": (
        _("Customers interested in buying"),
        _("No customer has asked to buy yet. When a customer admin clicks \"I'm interested in buying\", "
          "convert the trial to paid."), ""),
}


def _categories(found: list[dict]) -> list[dict]:
    return [{"kind": entry["kind"], "totalCount": entry["totalCount"], "entries": entry["items"],
             "title": CATEGORIES[entry["kind"]][0], "empty": CATEGORIES[entry["kind"]][1],
             "all_url": CATEGORIES[entry["kind"]][2], "more": entry["totalCount"] - len(entry["items"])}
            for entry in found]


async def home(request: Request) -> Response:
    """Partner staff get the home page; every other visitor goes to its own start page (signed-out
    visitors to the sign-in page)."""
    who = guard.kind(request)
    if who not in guard.PARTNER:
        return rendering.see_other(guard.HOME.get(who, "/login"))
    data = (await run_operation(request, "HomePage")).data
    categories = _categories(data["attention"])
    weeks = data["trialsByWeek"]["weeks"]
    context = {"title": rendering._("Home"), "viewer": data["viewer"], "categories": categories,
               "waiting": sum(c["totalCount"] for c in categories), "weeks": weeks,
               "chart": trial_chart.layout(weeks), "rate": trial_chart.percent(data["trialsByWeek"]["conversionRate"]),
               "percent": trial_chart.percent}
    return rendering.render(request, "home/index.html", context)
