"""`/customers`: the partner's customer list with active search, a status filter and cursor pages; its
rows carry the checkboxes of the bulk extend (server.pages.bulk_extend) and it links the CSV export
(server.pages.customers_export), both with the same filters."""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from server.pages import guard, rendering
from server.pages.operations import OperationFailed, run_operation

STATUSES = ("TRIAL_ACTIVE", "TRIAL_EXPIRING_30", "TRIAL_EXPIRING_60", "TRIAL_EXPIRED", "PENDING_CONSENT",
            "PENDING_PROVISIONING", "ACTIVE", "SUSPENDED", "RELEASED")
#: R-USE-05: the health filter and the orders the list offers.
HEALTHS = ("INACTIVE", "LOW", "NOT_STARTED", "HEALTHY")
ORDERS = ("NAME", "DAYS_LEFT", "ADOPTION")


def clean_filters(q: str, status: str, adoption: str = "", order: str = "") -> dict[str, str]:
    """The list's search, status and adoption filters and its order (an unknown value is ignored);
    also the export's and the bulk extend's, which show the list again."""
    return {"q": q.strip()[:200], "status": status if status in STATUSES else "",
            "adoption": adoption if adoption in HEALTHS else "", "order": order if order in ORDERS[1:] else ""}


def list_filters(request: Request) -> dict[str, str]:
    params = request.query_params
    return clean_filters(params.get("q", ""), params.get("status", ""), params.get("adoption", ""),
                         params.get("order", ""))


def variables_of(filters: dict[str, str]) -> dict:
    """The CustomersPage / CustomersExport variables of the list's filters."""
    return {"search": filters["q"] or None, "status": filters["status"] or None,
            "adoption": filters["adoption"] or None, "orderBy": filters["order"] or "NAME"}


async def listing(request: Request, filters: dict[str, str], after: str | None) -> dict:
    """The list's template context for these filters and cursor (a stale or edited cursor: the first page)."""
    filters = clean_filters(filters["q"], filters["status"], filters.get("adoption", ""), filters.get("order", ""))
    variables = {**variables_of(filters), "after": after}
    try:
        result = await run_operation(request, "CustomersPage", variables)
    except OperationFailed:
        if after is None:
            raise
        after = None  # a stale or edited cursor in the URL: the first page, not an error page
        result = await run_operation(request, "CustomersPage", {**variables, "after": None})
    connection = result.data["customers"]
    kept = {k: v for k, v in filters.items() if v}
    customers = [e["node"] for e in connection["edges"]]
    return {
        "title": rendering._("Customers"), "viewer": result.data["viewer"], "filters": filters,
        "statuses": STATUSES, "healths": HEALTHS, "orders": ORDERS, "customers": customers,
        "total": connection["totalCount"], "page_info": connection["pageInfo"], "after": after,
        "next_url": "/customers?" + urlencode({**kept, "after": connection["pageInfo"]["endCursor"] or ""}),
        "first_url": "/customers" + ("?" + urlencode(kept) if kept else ""),
        "export_url": "/customers.csv" + ("?" + urlencode(kept) if kept else ""),
        # the bulk extend's checkboxes: the trials the API says the viewer may extend (R-ROLE-02, R-EXT-01)
        "may_extend": any(t["viewerCan"]["extend"] for c in customers for t in c["trials"]), "bulk": None,
    }


@guard.signed_in(*guard.PARTNER)
async def customer_list(request: Request) -> Response:
    context = await listing(request, list_filters(request), request.query_params.get("after") or None)
    template = "customers/_results.html" if rendering.is_htmx(request) else "customers/index.html"
    return rendering.render(request, template, context)
