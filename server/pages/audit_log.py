"""`/settings/audit` and `/settings/audit.csv` (R-AUDIT-01): the partner's audit log, newest first,
filtered by actor, action, customer and days, 50 events a page through the log's cursor; the CSV
has every event of the same filter, streamed (server/pages/csv_export.py). The filters and the page
live in the URL (a GET form), so a filtered page can be bookmarked, shared and reloaded. Both run the
stored `AuditLogPage` document: its scope is the API's (others get the forbidden page, 403).

The page reads in words, in the reader's language and time zone (R-AUDIT-01): who did what as the
customer page's history says it (server.pages.audit_sentence, one table for both), and each moment
in the reader's locale and zone. Days are the reader's days (their time-zone cookie, else UTC):
"from" includes its day, "to" includes its day too (the API's `until` is the next day's start). A day that is not a date, or a cursor that is not the log's, answers the page
with a message (400), never a 500.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import i18n
from server.pages import audit_sentence, csv_export, guard, labels, rendering
from server.pages.operations import OperationFailed, run_operation

PATH = "/settings/audit"
PAGE = 50
EXPORT_PAGE = 100
FILTERS = ("actor", "action", "customer", "since", "until")


#: The action codes offered in the filter's list, shown with their words where they have some.
SUGGESTED_ACTIONS = ("trial", "trial.started", "trial.extended", "trial.cancelled", "session", "session.signed_in",
                     "session.sign_in_failed", "token", "user", "webhook", "settings")


def _day(value: str, zone: str) -> datetime | None:
    return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=ZoneInfo(zone)) if value else None


def filters_of(request: Request) -> tuple[dict[str, str], dict[str, Any] | None, dict[str, list[str]]]:
    """(the URL's filters as given, the API's filter, messages by field)."""
    given = {name: request.query_params.get(name, "").strip()[:320] for name in FILTERS}
    errors: dict[str, list[str]] = {}
    days: dict[str, datetime | None] = {}
    zone = i18n.zone_of(request.cookies.get(i18n.ZONE_COOKIE))
    for name in ("since", "until"):
        try:
            days[name] = _day(given[name], zone)
        except ValueError:
            errors[name] = [rendering._("Enter a date.")]
    if errors:
        return given, None, errors
    until = days["until"] + timedelta(days=1) if days["until"] else None
    api = {"actor": given["actor"] or None, "action": given["action"] or None, "customerId": given["customer"] or None,
           "since": days["since"].isoformat() if days["since"] else None, "until": until.isoformat() if until else None}
    return given, api, errors


def _details(node: dict[str, Any]) -> str:
    """before → after as compact JSON (what changed)."""
    parts = [orjson.dumps(node[key]).decode() for key in ("before", "after") if node.get(key) is not None]
    return " → ".join(parts)


async def _page(request: Request, api: dict[str, Any], first: int, after: str | None) -> dict[str, Any]:
    return (await run_operation(request, "AuditLogPage", {"first": first, "after": after, "filter": api})).data


def _refused(failed: OperationFailed) -> bool:
    return any((e.get("extensions") or {}).get("code") == "FORBIDDEN" for e in failed.errors)


@guard.signed_in(*guard.PARTNER)
async def audit_log(request: Request) -> Response:
    rendering.use_locale(request)                 # the events' words are in the reader's language
    given, api, errors = filters_of(request)
    after = request.query_params.get("after") or None
    connection = {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    viewer = None
    if api is not None:
        try:
            data = await _page(request, api, PAGE, after)
            connection, viewer = data["auditLog"], data["viewer"]
        except OperationFailed as failed:
            if _refused(failed):
                return await guard.forbidden(request, "partners_only")
            errors = {"": [rendering._("This page of the log is gone; start again from the newest events.")]}
    query = {k: v for k, v in given.items() if v}
    next_url = (f"{PATH}?{urlencode({**query, 'after': connection['pageInfo']['endCursor']})}"
                if connection["pageInfo"]["hasNextPage"] else None)
    return rendering.render(request, "settings/audit.html", {
        "title": rendering._("Audit log"), "filters": given, "errors": errors, **({"viewer": viewer} if viewer else {}),
        "events": [{**edge["node"], **audit_sentence.who_and_what(edge["node"]), "details": _details(edge["node"])}
                   for edge in connection["edges"]],
        "actions": [(code, rendering._(labels.AUDIT_ACTIONS[code]) if code in labels.AUDIT_ACTIONS else "")
                    for code in SUGGESTED_ACTIONS],
        "next_url": next_url, "first_url": f"{PATH}?{urlencode(query)}" if after else None,
        "csv_url": f"{PATH}.csv?{urlencode(query)}"}, status_code=400 if errors else 200)


def header() -> list[str]:
    """The CSV is a machine format: times in UTC ISO 8601, the actor's label and the action's code as
    stored (what the filters and other tools match on), before/after as JSON. One column more, "Actor
    name", says who acted in the reader's words (the page's words, server.pages.audit_sentence), as it
    is the one value a person cannot work out from the label (a token, the system, a user's name)."""
    _ = rendering._
    return [_("Time (UTC)"), _("Actor"), _("Action"), _("Subject"), _("Customer"), _("Client address"),
            _("Before"), _("After"), _("Actor name")]


def row(node: dict[str, Any]) -> list[str]:
    dumped = [orjson.dumps(node[key]).decode() if node.get(key) is not None else "" for key in ("before", "after")]
    return [node["at"], node["actor"], node["action"], node["subjectType"],
            (node.get("customer") or {}).get("name", ""), node.get("clientAddress") or "", *dumped,
            audit_sentence.who_and_what(node)["who"]]


@guard.signed_in(*guard.PARTNER)
async def audit_csv(request: Request) -> Response:
    given, api, errors = filters_of(request)
    if api is None:
        return rendering.render(request, "settings/audit.html", {
            "title": rendering._("Audit log"), "filters": given, "errors": errors, "events": []}, status_code=400)

    async def page(after: str | None) -> dict[str, Any]:
        return (await _page(request, api, EXPORT_PAGE, after))["auditLog"]

    try:
        return await csv_export.streamed(request, "audit-log.csv", header, row, page)
    except OperationFailed as failed:
        if _refused(failed):
            return await guard.forbidden(request, "partners_only")
        return await audit_log(request)


routes = [Route(PATH, audit_log), Route(PATH + ".csv", audit_csv)]
