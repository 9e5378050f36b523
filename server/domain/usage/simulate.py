"""Believable usage as NDJSON lines, for the demo seed and `trialdesk usage simulate` (developers):
they go through the same ingest as the platform's reports (server.domain.usage.ingest).

A user is active on a day with probability `activity` (weekends a third of it), and then has some
events and minutes on each service; each service's assigned licenses are reported daily. The
random generator is seeded by the org, so the same command writes the same lines.
"""
from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import orjson

MINUTES_PER_EVENT = {"MESSAGING": 0, "MEETINGS": 35, "CALLING": 6, "DEVICES": 40}


def lines(org_global_id: str, org_id: int, today: date, *, days: int, users: int, services: Sequence[str],
          activity: float = 0.6, first_day: date | None = None, assigned: int | None = None) -> Iterator[bytes]:
    """NDJSON lines (each ending with a newline) for the last `days` days up to `today` (not before
    `first_day`), `users` users at `activity`."""
    rng = random.Random(org_id)
    keys = [f"u{org_id}-{n:04d}" for n in range(users)]
    start = max(today - timedelta(days=days - 1), first_day or date.min)
    day = start
    while day <= today:
        weekend = day.weekday() >= 5
        for service in services:
            yield orjson.dumps({"org": org_global_id, "day": day.isoformat(), "service": service,
                                "assignedLicenses": users if assigned is None else assigned}) + b"\n"
            for key in keys:
                if rng.random() >= (activity / 3 if weekend else activity):
                    continue
                events = rng.randint(1, 12)
                minutes = events * MINUTES_PER_EVENT[service] + rng.randint(0, 20) if MINUTES_PER_EVENT[service] else 0
                yield orjson.dumps({"org": org_global_id, "day": day.isoformat(), "service": service, "user": key,
                                    "events": events, "minutes": minutes}) + b"\n"
        day += timedelta(days=1)
