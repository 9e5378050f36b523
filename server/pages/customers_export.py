"""`/customers.csv`: the customers list as a spreadsheet (the partner's day), with the list's current search
and status filter, the columns the page shows plus each shown trial's end date and services.

It runs the stored `CustomersExport` document page by page (100 customers a page, through the
connection's cursor), so the export has the list's scope exactly (R-ORG-02, R-ROLE-02) and never
reads the database itself; rows are streamed as each page arrives. The first page is read before
the answer starts, so a failure then is an ordinary error page, not a cut file.

Decisions:
- Values are what the page shows, in the visitor's language (status labels, "Messaging"), dates
  as ISO 8601 days (UTC). One row per customer; a customer's trials (those the list shows: active,
  expired in grace, pending provisioning or consent) are joined with " | " in the trial columns.
- Streaming, the byte-order mark and formula-safe cells: server/pages/csv_export.py.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.pages import csv_export, customers, guard, labels, rendering
from server.pages.operations import run_operation

PAGE = 100
SHOWN = ("ACTIVE", "EXPIRED", "PENDING_PROVISIONING", "PENDING_CONSENT")  # as customers/_row.html


def _label(value: str | None) -> str:
    return rendering._(labels.label(value)) if value else ""


def header() -> list[str]:
    _ = rendering._
    return [_("Company name"), _("Admin email address"), _("Subscription status"), _("Provisioning status"),
            _("Country"), _("Data residency region"), _("Trial services"), _("Expiry date"), _("Days left"),
            _("Adoption"), _("Active users (30 days)"), _("Activation")]


def row(customer: dict[str, Any]) -> list[str]:
    trials = [t for t in customer["trials"] if t["state"] in SHOWN]
    services = [", ".join(_label(s["type"]) + (f" ({rendering._('Expired')})" if s["expired"] else "")
                          for s in t["services"]) for t in trials]
    ends = [(t["endsAt"] or "")[:10] for t in trials]
    days = ["" if t["daysLeft"] is None else str(t["daysLeft"]) for t in trials]
    usage = [t.get("adoption") or {} for t in trials]  # R-USE-05: health, active users 30d, activation
    return [customer["name"], customer["adminEmail"], _label(customer["subscriptionStatus"]),
            _label(customer["provisioningStatus"]), customer["country"], _label(customer["region"]),
            " | ".join(services), " | ".join(ends), " | ".join(days),
            " | ".join(_label(u.get("health")) for u in usage), " | ".join(str(u.get("activeUsers30d", "")) for u in usage),
            " | ".join(percent(u.get("activation")) for u in usage)]


def percent(value: float | None) -> str:
    """Activation as a whole percentage ("40 %"), empty when there is none."""
    return "" if value is None else f"{round(value * 100)} %"


@guard.signed_in(*guard.PARTNER)
async def customers_csv(request: Request) -> Response:
    filters = customers.list_filters(request)
    variables = {**customers.variables_of(filters), "first": PAGE}

    async def page(after: str | None) -> dict[str, Any]:
        return (await run_operation(request, "CustomersExport", {**variables, "after": after})).data["customers"]

    return await csv_export.streamed(request, "customers.csv", header, row, page)
