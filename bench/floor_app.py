"""The hand-written floor for the customers page over HTTP (issue 10, bench.customers_page): asyncpg,
one SQL statement by hand (no SQLAlchemy, no GraphQL, no session or auth middleware), derived fields
in SQL, the same Jinja template as `/customers`. Serves `GET /customers?partner=<id>&after=<name>`.

    DATABASE_URL=postgresql://… uv run uvicorn bench.floor_app:app --port 8001
"""
from __future__ import annotations

import os
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from server.pages import rendering
from server.pages.customers import STATUSES

SQL = """
WITH page AS (
  SELECT c.id, c.name, c.country, c.region, c.admin_email, c.provisioning_status, c.subscription_status
  FROM customer_orgs c
  WHERE (c.managing_partner_id = $1
         OR EXISTS (SELECT 1 FROM partner_access g WHERE g.customer_id = c.id AND g.partner_id = $1)
         OR EXISTS (SELECT 1 FROM trials t WHERE t.customer_id = c.id AND t.partner_id = $1
                    AND t.state = 'PENDING_CONSENT'))
    AND ($2::text IS NULL OR lower(c.name) > $2)
  ORDER BY lower(c.name), c.id LIMIT 26)
SELECT (SELECT count(*) FROM customer_orgs c
        WHERE c.managing_partner_id = $1
           OR EXISTS (SELECT 1 FROM partner_access g WHERE g.customer_id = c.id AND g.partner_id = $1)
           OR EXISTS (SELECT 1 FROM trials t WHERE t.customer_id = c.id AND t.partner_id = $1
                      AND t.state = 'PENDING_CONSENT')),
       (SELECT name FROM partner_orgs WHERE id = $1),
       (SELECT json_agg(json_build_object(
          'id', p.id, 'name', p.name, 'country', p.country, 'region', p.region, 'adminEmail', p.admin_email,
          'provisioningStatus', p.provisioning_status,
          'subscriptionStatus', CASE
             WHEN EXISTS (SELECT 1 FROM trials t WHERE t.customer_id = p.id AND t.partner_id = $1
                          AND t.state = 'ACTIVE' AND t.ends_at <= now() + interval '30 days') THEN 'TRIAL_EXPIRING_30'
             WHEN EXISTS (SELECT 1 FROM trials t WHERE t.customer_id = p.id AND t.partner_id = $1
                          AND t.state = 'ACTIVE' AND t.ends_at <= now() + interval '60 days') THEN 'TRIAL_EXPIRING_60'
             WHEN EXISTS (SELECT 1 FROM trials t WHERE t.customer_id = p.id AND t.partner_id = $1
                          AND t.state = 'ACTIVE') THEN 'TRIAL_ACTIVE'
             ELSE p.subscription_status END,
          'trials', (SELECT coalesce(json_agg(json_build_object(
                'id', t.id, 'state', t.state, 'endsAt', t.ends_at,
                'daysLeft', greatest(0, ceil(extract(epoch FROM t.ends_at - now()) / 86400))::int,
                'services', (SELECT coalesce(json_agg(json_build_object('type', s.service, 'expired', t.state = 'EXPIRED')
                                                      ORDER BY s.id), '[]')
                             FROM trial_services s WHERE s.trial_id = t.id AND s.removed_at IS NULL))
              ORDER BY t.id), '[]') FROM trials t WHERE t.customer_id = p.id AND t.partner_id = $1))
          ORDER BY lower(p.name), p.id) FROM page p)
"""


async def customers(request: Request):
    partner = int(request.query_params["partner"])
    after = request.query_params.get("after") or None
    async with request.app.state.pool.acquire() as conn:
        total, partner_name, rows = await conn.fetchrow(SQL, partner, after)
    rows = orjson.loads(rows) if rows else []
    nodes = rows[:25]
    end = nodes[-1]["name"].lower() if nodes else None
    page_info = {"hasNextPage": len(rows) > 25, "endCursor": end}
    request.state.csrf_token = ""
    return rendering.render(request, "customers/index.html", {
        "title": rendering._("Customers"),
        "viewer": {"email": "sales@bench.example", "roles": ["SALES_FULL_ADMIN"], "partner": {"name": partner_name}},
        "filters": {"q": "", "status": ""}, "statuses": STATUSES, "customers": nodes, "total": total,
        "page_info": page_info, "after": after,
        "next_url": "/customers?" + urlencode({"partner": partner, "after": end or ""}), "first_url": "/customers"})


@asynccontextmanager
async def _lifespan(app: Starlette):
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"].replace("postgresql+asyncpg", "postgresql"),
                                               min_size=2, max_size=10)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(routes=[Route("/customers", customers)], lifespan=_lifespan)
