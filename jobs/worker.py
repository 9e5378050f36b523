"""arq WorkerSettings: a cron sweep every minute (deadlines → domain, webhooks, outbox → SMTP),
webhooks every 10 seconds between sweeps, the audit log's retention daily (R-AUDIT-02), and the
`provision_now` job the web app enqueues after a commit that made something due now (R-NEW-04:
provisioning completes within seconds, not at the next minute). Redis only carries these wake-up
calls: if it loses them, the cron sweep finds the same rows in the database a minute later.
"""
from __future__ import annotations

import gc

from arq import cron, func
from arq.connections import RedisSettings

from jobs.runtime import Runtime
from jobs.sweep import run_due
from server.settings import get_settings


async def startup(ctx: dict) -> None:
    """The runtime (importing jobs.sweep checked every deadline kind's handler:
    server/domain/deadline_handlers.py), then start-up's objects (mappers, handlers, templates) moved out of every later
    garbage collection, as the web app does (server.app.settle_memory): the sweep's collections
    took 19 → 9 µs per transition (bench.sweep profile)."""
    ctx["runtime"] = Runtime.create()
    gc.collect()
    gc.freeze()


async def shutdown(ctx: dict) -> None:
    await ctx["runtime"].close()


async def sweep(ctx: dict) -> dict:
    report = await run_due(ctx["runtime"])
    return {"deadlines": report.deadlines, "emails": report.emails, "failures": len(report.failures)}


async def deliver_webhooks(ctx: dict) -> dict:
    """Webhooks every 10 seconds: the fan-out and the due deliveries, between sweeps."""
    from jobs import webhooks

    return {"webhooks": await webhooks.flush(ctx["runtime"])}


async def audit_retention(ctx: dict) -> dict:
    """R-AUDIT-02: audit events older than two years go, daily (jobs/retention.py)."""
    from jobs import retention

    return {"deleted": await retention.purge_audit_events(ctx["runtime"])}


async def provision_now(ctx: dict) -> dict:
    """Run the sweep at once (for the PROVISION deadline just committed, and its welcome email)."""
    return await sweep(ctx)


def worker_settings(redis_url: str, burst: bool = False) -> dict:
    settings = get_settings()
    return dict(
        functions=[func(sweep, keep_result=0), func(provision_now, keep_result=0, max_tries=3)],
        cron_jobs=[cron(sweep, second=0, run_at_startup=True, unique=True, timeout=300),
                   cron(deliver_webhooks, second={5, 15, 25, 35, 45, 55}, unique=True, timeout=600),
                   cron(audit_retention, hour=3, minute=17, second=30, unique=True,
                        timeout=3600)],
        on_startup=startup,
        on_shutdown=shutdown,
        redis_settings=RedisSettings.from_dsn(redis_url),
        queue_name=settings.queue_name,
        burst=burst,
        handle_signals=True,
        max_jobs=10,
    )
