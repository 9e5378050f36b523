"""bench.customers_page's arrangement (a partner with N customers, one in 10 with a 3-service trial and
a shipment) made in seconds: `with_trial` customers are made through the domain
(`customers_page.arrange`), then their rows are copied in SQL (`INSERT … SELECT … generate_series`,
one statement per table), every key moved by a copy's offset and every unique value given the copy's
prefix. Copy k of template customer i is "Customer {k * with_trial + i:05}", so names, order and the
trials' spacing are those `arrange` would make (the copies' audit events and deadlines are there too;
the outbox is not copied). PostgreSQL only.

Measured 2026-12-07 (load ~5): 10,000 customers in about 10 s, where `arrange` took 90 s at load 2
and 13 minutes at load ~20.
"""
from __future__ import annotations

from bench.customers_page import arrange

#: table -> {column: SQL over the template row `t` and the copy number `k`}; {customer} and the like
#: are the offsets (the template's largest key of that table).
COPIES = {
    "customer_orgs": {"id": "t.id + k * {customer}",
                      "name": "'Customer ' || lpad((k * {size} + CAST(substr(t.name, 10) AS integer))::text, 5, '0')",
                      "admin_email": "k || '.' || t.admin_email"},
    "customer_users": {"id": "t.id + k * {customer_user}", "customer_id": "t.customer_id + k * {customer}",
                       "email": "k || '.' || t.email"},
    "purchased_services": {"customer_id": "t.customer_id + k * {customer}"},
    "partner_access": {"customer_id": "t.customer_id + k * {customer}"},
    "trials": {"id": "t.id + k * {trial}", "customer_id": "t.customer_id + k * {customer}"},
    "trial_services": {"id": "t.id + k * {trial_service}", "trial_id": "t.trial_id + k * {trial}",
                       "customer_id": "t.customer_id + k * {customer}", "site_url": "k || '-' || t.site_url"},
    "shipments": {"id": "t.id + k * {shipment}", "trial_id": "t.trial_id + k * {trial}",
                  "customer_id": "t.customer_id + k * {customer}"},
    "deadlines": {"id": "t.id + k * {deadline}", "subject_id": "t.subject_id + k * {subject}"},
    "audit_events": {"id": "t.id + k * {audit_event}", "subject_id": "t.subject_id + k * {subject}",
                     "customer_id": "t.customer_id + k * {customer}"},
}
SUBJECT = ("CASE t.subject_type WHEN 'Customer' THEN {customer} WHEN 'Trial' THEN {trial} "
           "WHEN 'Shipment' THEN {shipment} ELSE 0 END")
OFFSETS = {"customer": "customer_orgs", "customer_user": "customer_users", "trial": "trials",
           "trial_service": "trial_services", "shipment": "shipments", "deadline": "deadlines",
           "audit_event": "audit_events"}


async def arrange_copied(sessionmaker, url: str, customers: int, with_trial: int = 10) -> None:
    """`customers` customers (a multiple of `with_trial`) as `customers_page.arrange` makes them."""
    import asyncpg

    await arrange(sessionmaker, customers=with_trial, with_trial=with_trial)
    copies = customers // with_trial - 1
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        async with conn.transaction():
            offsets = {name: await conn.fetchval(f"SELECT coalesce(max(id), 0) FROM {table}")
                       for name, table in OFFSETS.items()}
            offsets["size"] = with_trial
            offsets["subject"] = SUBJECT.format(**offsets)
            for table, moved in COPIES.items():
                columns = [r[0] for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position", table)]
                values = ", ".join(moved[c].format(**offsets) if c in moved else f"t.{c}" for c in columns)
                await conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {table} AS t "
                                   f"CROSS JOIN generate_series(1, {copies}) AS k")
            for table in OFFSETS.values():
                await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"(SELECT max(id) FROM {table}))")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
