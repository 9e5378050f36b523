"""`/customers`: the partner's customer list with active search, a status filter and cursor pages."""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from server.pages import guard, rendering
from server.pages.operations import OperationFailed, run_operation

STATUSES = ("TRIAL_ACTIVE", "TRIAL_EXPIRING_30", "TRIAL_EXPIRING_60", "TRIAL_EXPIRED", "PENDING_CONSENT",
            "PENDING_PROVISIONING", "ACTIVE", "SUSPENDED")


def list_filters(request: Request) -> dict[str, str]:
    """The list's search and status filter from the query string (bad values ignored); also the export's."""
    params = request.query_params
    status = params.get("status", "")
    return {"q": params.get("q", "").strip()[:200], "status": status if status in STATUSES else ""}


@guard.signed_in(*guard.PARTNER)
async def customer_list(request: Request) -> Response:
    filters = list_filters(request)
    after = request.query_params.get("after") or None
    variables = {"search": filters["q"] or None, "status": filters["status"] or None, "after": after}
    try:
        result = await run_operation(request, "CustomersPage", variables)
    except OperationFailed:
        if after is None:
            raise
        after = None  # a stale or edited cursor in the URL: the first page, not an error page
        result = await run_operation(request, "CustomersPage", {**variables, "after": None})
    connection = result.data["customers"]
    kept = {k: v for k, v in filters.items() if v}
    context = {
        "title": rendering._("Customers"), "viewer": result.data["viewer"], "filters": filters,
        "statuses": STATUSES, "customers": [e["node"] for e in connection["edges"]],
        "total": connection["totalCount"], "page_info": connection["pageInfo"], "after": after,
        "next_url": "/customers?" + urlencode({**kept, "after": connection["pageInfo"]["endCursor"] or ""}),
        "first_url": "/customers" + ("?" + urlencode(kept) if kept else ""),
        "export_url": "/customers.csv" + ("?" + urlencode(kept) if kept else ""),
    }
    template = "customers/_results.html" if rendering.is_htmx(request) else "customers/index.html"
    return rendering.render(request, template, context)
