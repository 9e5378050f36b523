"""The hand-written floor for the customers page and the API over HTTP (issue 10, bench.compiled_page):
asyncpg, orjson, SQL by hand; no SQLAlchemy, no GraphQL, no middleware. It checks the caller the
way the real server does, with one indexed read on the same pooled connection as the page's query:
the signed session cookie (itsdangerous, then `web_sessions` by the id's SHA-256, joined to the
user) for the HTML page, the bearer token (`api_tokens` by its SHA-256) for the JSON endpoints.
What it leaves out: CSRF cookies, request IDs, the test clock, the rules' own code (statuses,
visibility, adoption figures, global IDs are re-done here by hand for this data set; `viewerCan` is the
domain's allowed.allowed once per token's roles and trial state, scope "all" only).

    GET /customers[?after=<name>]     the `/customers` page, same Jinja template (session cookie)
    GET /api/customers[?first=50]     the CustomersPage document's JSON answer (bearer token)
    GET /api/customer?id=<global id>  the CustomerPage document's JSON answer (bearer token)
    GET /api/customers-calling[?first=50]  bench.postgraphile's query (c), not a stored document: the
                                      customers with their trials' services and calling numbers (bearer token)
    GET /api/search-status?search=…&first=50  query (d): search + `status: TRIAL_ACTIVE` (bearer token)
    GET /api/expiring?days=…&first=50  query (e): `orderBy: DAYS_LEFT, expiringWithinDays:` (bearer token)

    DATABASE_URL=postgresql://… SECRET_KEY=… uv run uvicorn bench.floor_app:app --port 8001

Its connections run with JIT off, like the server's (server.db.engine: with statistics, the list's
and bench.postgraphile's query (c)'s statements can cross `jit_above_cost`, and compiling costs far
more than their work). Its pool is asyncpg's with the defaults, so a connection goes back to the pool after asyncpg's
reset statement (`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`, one round
trip per request); the server's read pool sends none (server.db.engine). `TRIALDESK_BENCH_FLOOR_RESET=0`
returns them without it too, for a floor on the same footing.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
from contextlib import asynccontextmanager
from functools import lru_cache
from urllib.parse import urlencode

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.auth import signed_cookies
from server.domain.core.actor import Actor, ActorKind
from server.domain.devices.shipments import return_instructions
from server.domain.trials import allowed
from server.enums import Role, TrialState
from server.pages import rendering
from server.pages.customers import STATUSES

SESSION = """
SELECT u.partner_id, u.email FROM web_sessions s JOIN users u ON u.id = s.user_id
WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.active
"""
# The token acts as its user (server.auth.authenticate): the user's email and partner, and the
# user's current roles among the token's own.
TOKEN = """SELECT t.id, u.partner_id, u.email,
       (SELECT coalesce(json_agg(g.role ORDER BY g.role), '[]') FROM role_grants g
         WHERE g.user_id = u.id AND t.roles ? g.role) AS roles
  FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.active
 WHERE t.token_hash = $1 AND t.revoked_at IS NULL"""

# The stored status, or the trial-derived one (server.domain.trials.status.derive) from ONE probe of the
# partner's active trials: the earliest end decides (≤ 30 days: expiring 30, ≤ 60: expiring 60,
# else active). A semi-join like the compiled runners', no CASE of three EXISTS per customer.
STATUS = """coalesce((SELECT CASE WHEN min(t.ends_at) <= now() + interval '30 days' THEN 'TRIAL_EXPIRING_30'
                                 WHEN min(t.ends_at) <= now() + interval '60 days' THEN 'TRIAL_EXPIRING_60'
                                 ELSE 'TRIAL_ACTIVE' END
                     FROM trials t WHERE t.customer_id = p.id AND t.partner_id = $1 AND t.state = 'ACTIVE'
                     HAVING count(*) > 0), p.subscription_status)"""
def iso(column: str) -> str:
    """A timestamp as Python's `isoformat()` writes it (six-digit microseconds, none when zero)."""
    return (f"(replace(to_char(timezone('UTC', {column}), 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')"
            f" || '+00:00')")


DAYS_LEFT = "greatest(0, ceil(extract(epoch FROM t.ends_at - now()) / 86400))::int"
REACH = """(c.managing_partner_id = $1
   OR EXISTS (SELECT 1 FROM partner_access g WHERE g.customer_id = c.id AND g.partner_id = $1)
   OR EXISTS (SELECT 1 FROM trials t WHERE t.customer_id = c.id AND t.partner_id = $1
              AND t.state IN ('PENDING_CONSENT', 'RELEASED')))"""

# A trial's adoption (server.domain.usage.adoption.summary, R-USE-03/04) by hand: its users' last
# active days over its current services (the last-active rollup, one row per org and service: a
# jsonb object {user: days after 2000-01-01}), those from its start (UTC date) to today; active over
# 30 days, the last day, the health.
TODAY = "(now() AT TIME ZONE 'UTC')::date"
START = "(t.starts_at AT TIME ZONE 'UTC')::date"
USERS = f"""(SELECT count(*) FILTER (WHERE x.day >= greatest({START}, {TODAY} - 29)) AS active_30, max(x.day) AS last
     FROM (SELECT DATE '2000-01-01' + max(e.value::int) AS day FROM usage_last_active a, jsonb_each_text(a.days) e
           WHERE a.org_id = t.customer_id
             AND a.service IN (SELECT s.service FROM trial_services s WHERE s.trial_id = t.id AND s.removed_at IS NULL)
           GROUP BY e.key) x
     WHERE x.day BETWEEN {START} AND {TODAY})"""
ACTIVATION = "(CASE WHEN t.license_count > 0 THEN u.active_30::float8 / t.license_count ELSE 0 END)"
ADOPTION = f"""json_build_object(
                  'health', CASE WHEN t.state NOT IN ('ACTIVE', 'EXPIRED') OR t.starts_at IS NULL THEN NULL
                                 WHEN u.last IS NULL AND {START} >= {TODAY} - 7 THEN 'NOT_STARTED'
                                 WHEN u.last IS NULL OR u.last < {TODAY} - 6 THEN 'INACTIVE'
                                 WHEN {ACTIVATION} < 0.2 THEN 'LOW' ELSE 'HEALTHY' END,
                  'activeUsers30d', CASE WHEN t.starts_at IS NULL THEN 0 ELSE u.active_30 END,
                  'activation', CASE WHEN t.starts_at IS NULL THEN 0 ELSE {ACTIVATION} END)"""

CUSTOMERS = f"""
WITH page AS (
  SELECT c.id, c.name, c.country, c.region, c.admin_email, c.provisioning_status, c.subscription_status
  FROM customer_orgs c
  WHERE {REACH} AND ($2::text IS NULL OR lower(c.name) > $2)
  ORDER BY lower(c.name), c.id LIMIT $3::int + 1)
SELECT (SELECT count(*) FROM customer_orgs c WHERE {REACH}),
       (SELECT name FROM partner_orgs WHERE id = $1),
       (SELECT json_agg(json_build_object(
          'id', p.id, 'name', p.name, 'country', p.country, 'region', p.region, 'adminEmail', p.admin_email,
          'provisioningStatus', p.provisioning_status, 'subscriptionStatus', {STATUS},
          'trials', (SELECT coalesce(json_agg(json_build_object(
                'id', t.id, 'state', t.state, 'daysLeft', {DAYS_LEFT}, 'endsAt', {iso('t.ends_at')}, 'viewerCan', NULL,
                'services', (SELECT coalesce(json_agg(json_build_object('type', s.service, 'expired', t.state = 'EXPIRED')
                                                      ORDER BY s.id), '[]')
                             FROM trial_services s WHERE s.trial_id = t.id AND s.removed_at IS NULL),
                'shipments', (SELECT coalesce(json_agg(json_build_object('deviceType', h.device_type, 'status', h.status)
                                                       ORDER BY h.id), '[]') FROM shipments h WHERE h.trial_id = t.id),
                'adoption', {ADOPTION})
              ORDER BY t.id), '[]') FROM trials t, LATERAL {USERS} u
             WHERE t.customer_id = p.id AND t.partner_id = $1))
          ORDER BY lower(p.name), p.id) FROM page p)
"""

CUSTOMER = f"""
SELECT (SELECT json_build_object('name', name, 'tier', tier) FROM partner_orgs WHERE id = $1),
       (SELECT json_agg(json_build_object('type', type, 'model', model, 'maxQuantity', max_quantity)
                        ORDER BY type, model) FROM device_models),
       (SELECT json_build_object(
          'id', p.id, 'name', p.name, 'country', p.country, 'region', p.region,
          'businessVertical', p.business_vertical, 'adminEmail', p.admin_email,
          'provisioningStatus', p.provisioning_status, 'provisioningError', p.provisioning_error,
          'subscriptionStatus', {STATUS},
          'partnerAccess', (SELECT access FROM partner_access g WHERE g.customer_id = p.id AND g.partner_id = $1),
          'purchasedServices', (SELECT coalesce(json_agg(service ORDER BY service), '[]')
                                FROM purchased_services WHERE customer_id = p.id),
          'managingPartner', (SELECT json_build_object('name', name, 'tier', tier) FROM partner_orgs
                              WHERE id = p.managing_partner_id),
          'trials', (SELECT coalesce(json_agg(json_build_object(
              'id', t.id, 'state', t.state, 'kind', t.kind, 'licenseCount', t.license_count,
              'durationDays', t.duration_days, 'startsAt', {iso('t.starts_at')}, 'endsAt', {iso('t.ends_at')},
              'graceEndsAt', {iso('t.grace_ends_at')}, 'daysLeft', {DAYS_LEFT}, 'version', t.version, 'viewerCan', NULL,
              'services', (SELECT coalesce(json_agg(json_build_object(
                  'type', s.service, 'licenseCount', s.license_count, 'expired', t.state = 'EXPIRED',
                  'meetings', CASE WHEN s.service = 'MEETINGS' THEN json_build_object(
                      'edition', coalesce(s.meetings_edition, 'BASIC'), 'siteUrl', s.site_url,
                      'timeZone', s.time_zone, 'features', coalesce(s.meetings_features::json, '[]')) END,
                  'calling', CASE WHEN s.service = 'CALLING' THEN json_build_object('pstn', coalesce(s.pstn, 'CCP')) END)
                ORDER BY s.id), '[]') FROM trial_services s WHERE s.trial_id = t.id AND s.removed_at IS NULL),
              'shipments', (SELECT coalesce(json_agg(json_build_object(
                  'id', h.id, 'deviceType', h.device_type, 'model', h.model, 'quantity', h.quantity,
                  'status', h.status, 'demoOrderNumber', h.demo_order_number, 'carrier', h.carrier,
                  'dueDate', h.due_date, 'returnBy', h.return_by, 'returnInstructions', NULL,
                  'country', h.country, 'returnLabelsRequested', h.return_labels_requested,
                  'atCustomer', h.status IN ('SHIPPED', 'DELIVERED', 'RETURN_DUE', 'RETURN_MISMATCH', 'OVERDUE'),
                  'shippingAddress', CASE WHEN h.address_line1 <> '' THEN json_build_object(
                      'line1', h.address_line1, 'line2', h.address_line2, 'city', coalesce(h.address_city, ''),
                      'postalCode', coalesce(h.address_postal_code, ''), 'region', h.address_region,
                      'country', h.country, 'contactName', coalesce(h.contact_name, ''),
                      'contactPhone', coalesce(h.contact_phone, '')) END,
                  'items', (SELECT coalesce(json_agg(json_build_object('model', i.model, 'serialNumber', i.serial_number)
                                                     ORDER BY i.id), '[]') FROM shipment_items i WHERE i.shipment_id = h.id))
                ORDER BY h.id), '[]') FROM shipments h WHERE h.trial_id = t.id),
              'deviceExtensionRequests', (SELECT coalesce(json_agg(json_build_object(
                  'id', x.id, 'days', x.days, 'status', x.status, 'note', x.note, 'reason', x.reason)
                ORDER BY x.id), '[]') FROM device_extension_requests x WHERE x.trial_id = t.id))
            ORDER BY t.id), '[]') FROM trials t WHERE t.customer_id = p.id AND t.partner_id = $1),
          'locations', (SELECT coalesce(json_agg(json_build_object(
              'id', l.id, 'name', l.name, 'country', l.country, 'city', l.city, 'timeZone', l.time_zone,
              'numbers', (SELECT coalesce(json_agg(json_build_object('e164', n.e164, 'status', n.status,
                                                                     'releaseAt', {iso('n.release_at')})
                                                   ORDER BY n.e164, n.id), '[]')
                          FROM phone_numbers n WHERE n.location_id = l.id))
            ORDER BY l.name), '[]') FROM locations l WHERE l.customer_id = p.id))
        FROM customer_orgs p WHERE p.id = $2 AND {REACH.replace("c.", "p.")})
"""

# bench.postgraphile's query (c) (CUSTOMERS_CALLING there): JSON built whole by PostgreSQL, nothing derived.
CUSTOMERS_CALLING = f"""
WITH page AS (
  SELECT c.id, c.name, c.admin_email FROM customer_orgs c WHERE {REACH} ORDER BY lower(c.name), c.id LIMIT $2::int)
SELECT (SELECT count(*) FROM customer_orgs c WHERE {REACH}),
       (SELECT coalesce(json_agg(json_build_object('node', json_build_object(
          'name', p.name, 'adminEmail', p.admin_email,
          'trials', (SELECT coalesce(json_agg(json_build_object(
                'state', t.state, 'licenseCount', t.license_count,
                'services', (SELECT coalesce(json_agg(json_build_object('type', s.service, 'licenseCount', s.license_count)
                                                      ORDER BY s.id), '[]')
                             FROM trial_services s WHERE s.trial_id = t.id AND s.removed_at IS NULL))
              ORDER BY t.id), '[]') FROM trials t WHERE t.customer_id = p.id AND t.partner_id = $1),
          'locations', (SELECT coalesce(json_agg(json_build_object(
                'name', l.name, 'city', l.city,
                'numbers', (SELECT coalesce(json_agg(json_build_object('e164', n.e164, 'status', n.status)
                                                     ORDER BY n.e164, n.id), '[]')
                            FROM phone_numbers n WHERE n.location_id = l.id))
              ORDER BY l.name), '[]') FROM locations l WHERE l.customer_id = p.id)))
          ORDER BY lower(p.name), p.id), '[]')::text FROM page p)
"""


# bench.postgraphile's query (d) (SEARCH_STATUS there): a search term (a LIKE pattern, $2) and
# `status: TRIAL_ACTIVE` (server.domain.trials.status.sql_filter: an active trial, none ending within
# 60 days), JSON built whole by PostgreSQL.
TRIAL = "SELECT 1 FROM trials t WHERE t.customer_id = c.id AND t.partner_id = $1 AND t.state = 'ACTIVE'"
SEARCH_WHERE = f"""{REACH} AND (lower(c.name) LIKE $2 OR lower(c.admin_email) LIKE $2)
  AND EXISTS ({TRIAL}) AND NOT EXISTS ({TRIAL} AND t.ends_at <= now() + interval '60 days')"""
SEARCH_STATUS = f"""
WITH page AS (
  SELECT c.id, c.name, c.admin_email, c.subscription_status FROM customer_orgs c WHERE {SEARCH_WHERE}
  ORDER BY lower(c.name), c.id LIMIT $3::int)
SELECT (SELECT count(*) FROM customer_orgs c WHERE {SEARCH_WHERE}),
       (SELECT coalesce(json_agg(json_build_object('node', json_build_object(
          'name', p.name, 'adminEmail', p.admin_email, 'subscriptionStatus', {STATUS},
          'trials', (SELECT coalesce(json_agg(json_build_object('state', t.state, 'endsAt', {iso('t.ends_at')})
                                              ORDER BY t.id), '[]') FROM trials t
                     WHERE t.customer_id = p.id AND t.partner_id = $1)))
          ORDER BY lower(p.name), p.id), '[]')::text FROM page p)
"""

# bench.postgraphile's query (e) (EXPIRING there): the customers with an active trial ending within $2
# days, soonest end first (the DAYS_LEFT order: the soonest end of their active or expired trials).
EXPIRING_WHERE = f"{REACH} AND EXISTS ({TRIAL} AND t.ends_at <= now() + make_interval(days => $2::int))"
EXPIRING = f"""
WITH page AS (
  SELECT c.id, c.name, (SELECT min(t.ends_at) FROM trials t WHERE t.customer_id = c.id AND t.partner_id = $1
                        AND t.state IN ('ACTIVE', 'EXPIRED')) AS sort_key
  FROM customer_orgs c WHERE {EXPIRING_WHERE}
  ORDER BY sort_key NULLS LAST, c.id LIMIT $3::int + 1)
SELECT (SELECT count(*) FROM customer_orgs c WHERE {EXPIRING_WHERE}),
       (SELECT coalesce(json_agg(json_build_array(p.id, {iso('p.sort_key')}, json_build_object(
          'name', p.name,
          'trials', (SELECT coalesce(json_agg(json_build_object('state', t.state, 'endsAt', {iso('t.ends_at')},
                                                                'daysLeft', {DAYS_LEFT}) ORDER BY t.id), '[]')
                     FROM trials t WHERE t.customer_id = p.id AND t.partner_id = $1)))
          ORDER BY p.sort_key NULLS LAST, p.id), '[]') FROM page p)
"""


def _gid(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


def _cursor(name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(["NAME", name.lower(), pk])).decode()


def _json(body) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


async def _token(conn, request: Request):
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        return None
    return await conn.fetchrow(TOKEN, hashlib.sha256(authorization[7:].strip().encode()).hexdigest())


@lru_cache(maxsize=256)
def _can(partner_id: int, roles: str, tier: str | None) -> dict[str, dict[str, bool]]:
    """`viewerCan` of a trial by its state for a partner token's user (`roles`: the token row's JSON):
    the domain's rule (allowed.allowed) once per roles and tier, not per trial. The floor re-does only the
    partner scope "all" the bench's token has: a role whose scope is "own" reads as not allowed here."""
    actor = Actor(kind=ActorKind.API_TOKEN, partner_id=partner_id, roles=frozenset(Role(r) for r in orjson.loads(roles)))
    return {state.value: dataclasses.asdict(allowed.allowed(actor, state.value, customer_id=0, own_customer=None,
                                                                 partner_tier=tier))
            for state in TrialState}


def _viewer(token, partner) -> dict:
    return {"email": token["email"], "roles": sorted(orjson.loads(token["roles"])), "partner": partner}


async def api_customers(request: Request) -> Response:
    first = int(request.query_params.get("first", "25"))
    async with request.app.state.pool.acquire() as conn:
        token = await _token(conn, request)
        if token is None or token["partner_id"] is None:
            return _json({"errors": [{"message": "Sign in.", "extensions": {"code": "UNAUTHENTICATED"}}], "data": None})
        total, partner_name, rows = await conn.fetchrow(CUSTOMERS, token["partner_id"], None, first)
    rows = orjson.loads(rows) if rows else []
    edges = []
    can = _can(token["partner_id"], token["roles"], None)
    for row in rows[:first]:
        pk = row["id"]
        row["id"] = _gid("Customer", pk)
        for trial in row["trials"]:
            trial["id"] = _gid("Trial", trial["id"])
            trial["viewerCan"] = {"extend": can[trial["state"]]["extend"]}
        edges.append({"cursor": _cursor(row["name"], pk), "node": row})
    return _json({"data": {
        "viewer": _viewer(token, {"name": partner_name}),
        "customers": {"totalCount": total, "pageInfo": {"hasNextPage": len(rows) > first,
                                                        "endCursor": edges[-1]["cursor"] if edges else None},
                      "edges": edges}}})


async def api_customer(request: Request) -> Response:
    try:
        kind, pk = base64.urlsafe_b64decode(request.query_params["id"] + "==").decode().split(":")
        pk = int(pk) if kind == "Customer" else None
    except (KeyError, ValueError, UnicodeDecodeError):
        pk = None
    async with request.app.state.pool.acquire() as conn:
        token = await _token(conn, request)
        if token is None or token["partner_id"] is None:
            return _json({"errors": [{"message": "Sign in.", "extensions": {"code": "UNAUTHENTICATED"}}], "data": None})
        partner, catalog, customer = await conn.fetchrow(CUSTOMER, token["partner_id"], pk)
    customer = orjson.loads(customer) if customer else None
    partner = orjson.loads(partner)
    if customer is not None:
        can = _can(token["partner_id"], token["roles"], partner["tier"])
        customer["id"] = _gid("Customer", customer["id"])
        for trial in customer["trials"]:
            trial["id"] = _gid("Trial", trial["id"])
            trial["viewerCan"] = can[trial["state"]]
            for shipment in trial["shipments"]:
                shipment["id"] = _gid("Shipment", shipment["id"])
                shipment["returnInstructions"] = return_instructions(shipment["country"], shipment["demoOrderNumber"])
            for extension in trial["deviceExtensionRequests"]:
                extension["id"] = _gid("DeviceExtensionRequest", extension["id"])
        for location in customer["locations"]:
            location["id"] = _gid("Location", location["id"])
    return _json({"data": {"viewer": _viewer(token, partner), "trialDurations": [30, 60, 90],
                           "deviceCatalog": orjson.loads(catalog), "customer": customer}})


async def api_customers_calling(request: Request) -> Response:
    first = int(request.query_params.get("first", "25"))
    async with request.app.state.pool.acquire() as conn:
        token = await _token(conn, request)
        if token is None or token["partner_id"] is None:
            return _json({"errors": [{"message": "Sign in.", "extensions": {"code": "UNAUTHENTICATED"}}], "data": None})
        total, edges = await conn.fetchrow(CUSTOMERS_CALLING, token["partner_id"], first)
    return Response(b'{"data":{"customers":{"totalCount":%d,"edges":%s}}}' % (total, edges.encode()),
                    media_type="application/json")


async def api_search_status(request: Request) -> Response:
    first = int(request.query_params.get("first", "25"))
    term = request.query_params.get("search", "").strip().lower()
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    async with request.app.state.pool.acquire() as conn:
        token = await _token(conn, request)
        if token is None or token["partner_id"] is None:
            return _json({"errors": [{"message": "Sign in.", "extensions": {"code": "UNAUTHENTICATED"}}], "data": None})
        total, edges = await conn.fetchrow(SEARCH_STATUS, token["partner_id"], pattern, first)
    return Response(b'{"data":{"customers":{"totalCount":%d,"edges":%s}}}' % (total, edges.encode()),
                    media_type="application/json")


async def api_expiring(request: Request) -> Response:
    first = int(request.query_params.get("first", "25"))
    days = int(request.query_params.get("days", "30"))
    async with request.app.state.pool.acquire() as conn:
        token = await _token(conn, request)
        if token is None or token["partner_id"] is None:
            return _json({"errors": [{"message": "Sign in.", "extensions": {"code": "UNAUTHENTICATED"}}], "data": None})
        total, rows = await conn.fetchrow(EXPIRING, token["partner_id"], days, first)
    rows = orjson.loads(rows)
    edges = [{"cursor": base64.urlsafe_b64encode(orjson.dumps(["DAYS_LEFT", key, pk])).decode(), "node": node}
             for pk, key, node in rows[:first]]
    return _json({"data": {"customers": {"totalCount": total, "pageInfo": {
        "hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None}, "edges": edges}}})


async def customers(request: Request):
    """The HTML page for the signed-in partner user (session cookie, one indexed read)."""
    session_id = signed_cookies.unsign(os.environ["SECRET_KEY"], "session", request.cookies.get("td_session"))
    after = request.query_params.get("after") or None
    async with request.app.state.pool.acquire() as conn:
        user = await conn.fetchrow(SESSION, hashlib.sha256(session_id.encode()).hexdigest()) if session_id else None
        if user is None:
            return Response(status_code=303, headers={"location": "/login"})
        total, partner_name, rows = await conn.fetchrow(CUSTOMERS, user["partner_id"], after, 25)
    rows = orjson.loads(rows) if rows else []
    nodes = rows[:25]
    end = nodes[-1]["name"].lower() if nodes else None
    page_info = {"hasNextPage": len(rows) > 25, "endCursor": end}
    request.state.csrf_token = ""
    return rendering.render(request, "customers/index.html", {
        "title": rendering._("Customers"),
        "viewer": {"email": user["email"], "roles": ["SALES_FULL_ADMIN"], "partner": {"name": partner_name}},
        "filters": {"q": "", "status": ""}, "statuses": STATUSES, "customers": nodes, "total": total,
        "page_info": page_info, "after": after,
        "next_url": "/customers?" + urlencode({"after": end or ""}), "first_url": "/customers"})


async def _no_reset(_connection) -> None:
    """Nothing to reset: these connections take no session state (asyncpg still rolls back a transaction)."""


@asynccontextmanager
async def _lifespan(app: Starlette):
    options = {} if os.environ.get("TRIALDESK_BENCH_FLOOR_RESET", "1") != "0" else {"reset": _no_reset}
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"].replace("postgresql+asyncpg", "postgresql"),
                                               min_size=2, max_size=10, server_settings={"timezone": "UTC", "jit": "off"},
                                               **options)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(routes=[Route("/customers", customers), Route("/api/customers", api_customers),
                        Route("/api/customer", api_customer), Route("/api/customers-calling", api_customers_calling),
                        Route("/api/search-status", api_search_status), Route("/api/expiring", api_expiring)],
              lifespan=_lifespan)
