"""`/customers.csv`: the customers list as a spreadsheet (issue 18), with the list's current search
and status filter, the columns the page shows plus each shown trial's end date and services.

It runs the stored `CustomersExport` document page by page (100 customers a page, through the
connection's cursor), so the export has the list's scope exactly (R-ORG-02, R-ROLE-02) and never
reads the database itself; rows are streamed as each page arrives. The first page is read before
the answer starts, so a failure then is an ordinary error page, not a cut file.

Decisions:
- Values are what the page shows, in the visitor's language (status labels, "Messaging"), dates
  as ISO 8601 days (UTC). One row per customer; a customer's trials (those the list shows: active,
  expired in grace, pending provisioning or consent) are joined with " | " in the trial columns.
- UTF-8 with a byte-order mark, so spreadsheet programs read "ø" correctly.
- CSV formula injection: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
  prefixed with an apostrophe (OWASP's advice), so a spreadsheet shows it as text and never runs
  it as a formula; the csv module then quotes cells holding commas, quotes or line breaks.
"""
from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.pages import customers, guard, labels, rendering
from server.pages.operations import run_operation

PAGE = 100
SHOWN = ("ACTIVE", "EXPIRED", "PENDING_PROVISIONING", "PENDING_CONSENT")  # as customers/_row.html
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: formula-looking text gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _label(value: str | None) -> str:
    return rendering._(labels.label(value)) if value else ""


def header() -> list[str]:
    _ = rendering._
    return [_("Company name"), _("Admin email address"), _("Subscription status"), _("Provisioning status"),
            _("Country"), _("Data residency region"), _("Trial services"), _("Expiry date"), _("Days left")]


def row(customer: dict[str, Any]) -> list[str]:
    trials = [t for t in customer["trials"] if t["state"] in SHOWN]
    services = [", ".join(_label(s["type"]) + (f" ({rendering._('Expired')})" if s["expired"] else "")
                          for s in t["services"]) for t in trials]
    ends = [(t["endsAt"] or "")[:10] for t in trials]
    days = ["" if t["daysLeft"] is None else str(t["daysLeft"]) for t in trials]
    return [safe_cell(v) for v in (
        customer["name"], customer["adminEmail"], _label(customer["subscriptionStatus"]),
        _label(customer["provisioningStatus"]), customer["country"], _label(customer["region"]),
        " | ".join(services), " | ".join(ends), " | ".join(days))]


def _lines(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


async def _page(request: Request, variables: dict[str, Any]) -> dict[str, Any]:
    return (await run_operation(request, "CustomersExport", variables)).data["customers"]


@guard.signed_in(*guard.PARTNER)
async def customers_csv(request: Request) -> Response:
    filters = customers.list_filters(request)
    variables = {"search": filters["q"] or None, "status": filters["status"] or None, "first": PAGE, "after": None}
    first = await _page(request, variables)
    locale = rendering.use_locale(request)

    async def stream() -> AsyncIterator[str]:
        rendering.use_locale(request)  # the body is produced after the endpoint returned
        yield "\ufeff" + _lines([header()])
        connection = first
        while True:
            yield _lines([row(edge["node"]) for edge in connection["edges"]])
            if not connection["pageInfo"]["hasNextPage"]:
                return
            connection = await _page(request, {**variables, "after": connection["pageInfo"]["endCursor"]})

    return StreamingResponse(stream(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="customers.csv"',
                                      "Content-Language": locale, "Cache-Control": "no-store"})
