"""R-USE-06: the usage a trial's warning emails say, read when the email is rendered (the mailer
renders the sweep's outbox rows just before sending them), so it is the usage of the day it goes out.

What they say: per trial service, the active users over 30 days of that service's licensed count;
the whole trial's active users over 30 days of its license count, and its health (R-USE-04) for the
partner's copy. Decided by `adoption.summary` and `adoption.services` (server.domain.usage.trials).

Decisions where the SPEC is silent:
- "The 7-day warning emails" are every reminder of R-TIME-01's warning, on each day the partner chose
  (R-SET-01): the same two email kinds, `USAGE_KINDS`.
- A service with no license count of its own (the trial's count applies to every service) reads the
  trial's count.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.usage import adoption, trials

#: The email kinds that carry the usage (R-USE-06); the partner's also says the health.
USAGE_KINDS = frozenset({"warning_customer", "warning_partner"})


def usage(trial: trials.TrialAdoption, services: list[tuple[str, int | None]],
          figures: list[adoption.ServiceFigures]) -> dict[str, Any]:
    """The `usage` an email's context gets: plain values (the templates word them)."""
    summary = trial.summary
    by_service = {f.service: f for f in figures}
    return {"health": summary.health.value if summary.health else None,
            "active_users_30d": summary.active_users_30d, "licenses": trial.license_count,
            "services": [{"service": service, "active_users_30d": by_service[service].active_users_30d,
                          "licenses": licenses if licenses is not None else trial.license_count}
                         for service, licenses in services if service in by_service]}


async def of_trials(db: AsyncSession, trial_ids: Iterable[int], today: date) -> dict[int, dict[str, Any]]:
    """Each trial's `usage` at `today`."""
    read = await trials.read(db, trial_ids, today)
    services = await trials.services(db, read)
    found = {}
    for trial_id, trial in read.items():
        names = [service for service, _ in services.get(trial_id, [])]
        figures = await adoption.services(db, trial.customer_id, trial.starts_at, names, today)
        found[trial_id] = usage(trial, services.get(trial_id, []), figures)
    return found
