"""SPEC §10's simulated usage (`trialdesk usage simulate`, the demo seed: server.domain.usage.simulate),
as its documentation says: a user is active on a day with probability `activity`, on weekends a
third of it, and then has events and, per event, a service's minutes plus 0 to 20 (none for
messaging). Pure: the lines alone, no database."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import orjson

from server.domain.usage import simulate

MONDAY = date(2026, 11, 2)
TODAY = MONDAY + timedelta(days=27)        # four whole weeks


def _activity(services=("MESSAGING", "MEETINGS", "CALLING")) -> list[dict]:
    lines = [orjson.loads(line) for line in simulate.lines("org-7", 7, TODAY, days=28, users=40, services=services)]
    return [line for line in lines if "user" in line]


def test_spec_10_simulated_minutes_are_the_services_minutes_per_event_plus_up_to_20():
    """Kills `MINUTES_PER_EVENT` changed (MEETINGS 35 -> 36) and the extra minutes subtracted
    (`+ rng.randint(0, 20)` -> `-`), both survivors of `make mutate`."""
    extra: dict[str, set[int]] = {"MESSAGING": set(), "MEETINGS": set(), "CALLING": set()}
    for line in _activity():
        per_event = {"MESSAGING": 0, "MEETINGS": 35, "CALLING": 6}[line["service"]]
        assert 1 <= line["events"] <= 12
        extra[line["service"]].add(line["minutes"] - per_event * line["events"])
    assert extra == {"MESSAGING": {0}, "MEETINGS": set(range(21)), "CALLING": set(range(21))}


def test_spec_10_simulated_users_are_a_third_as_active_on_weekends():
    """Kills the weekend test dropped (`weekend = None`: as active every day), a survivor of `make mutate`."""
    per_day = Counter(date.fromisoformat(line["day"]) for line in _activity(services=("MEETINGS",)))
    weekday = sum(n for day, n in per_day.items() if day.weekday() < 5) / 20
    weekend = sum(n for day, n in per_day.items() if day.weekday() >= 5) / 8
    assert 0.5 * 40 <= weekday <= 0.7 * 40            # activity 0.6 of 40 users
    assert 0.1 * 40 <= weekend <= 0.3 * 40            # a third of it
