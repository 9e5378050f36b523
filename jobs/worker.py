"""arq WorkerSettings: a cron sweep every minute (deadlines → domain, outbox → SMTP)."""
from __future__ import annotations

from arq import cron
from arq.connections import RedisSettings

from jobs.runtime import Runtime
from jobs.sweep import run_due
from server.settings import get_settings


async def startup(ctx: dict) -> None:
    ctx["runtime"] = Runtime.create()


async def shutdown(ctx: dict) -> None:
    await ctx["runtime"].close()


async def sweep(ctx: dict) -> dict:
    report = await run_due(ctx["runtime"])
    return {"deadlines": report.deadlines, "emails": report.emails}


def worker_settings(redis_url: str, burst: bool = False) -> dict:
    settings = get_settings()
    return dict(
        functions=[sweep],
        cron_jobs=[cron(sweep, second=0, run_at_startup=True, unique=True, timeout=300)],
        on_startup=startup,
        on_shutdown=shutdown,
        redis_settings=RedisSettings.from_dsn(redis_url),
        queue_name=settings.queue_name,
        burst=burst,
        handle_signals=True,
        max_jobs=10,
    )
