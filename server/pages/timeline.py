"""The trial's life drawn on one axis (inline SVG): start, 7-day warning, end, grace end, release.

Past and future come from the trial's state and days left (the server's clock, test clock
included), so the page never needs a clock of its own.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

WIDTH, LEFT, RIGHT = 720, 40, 680
NUMBER_HOLD = timedelta(days=15)
#: What each point is, in words (R-TIME-01..05); the home page says the grace end in the same words.
LABELS = {"start": "Trial starts", "warning": "7-day warning emails", "end": "Trial ends, grace period starts",
          "grace": "Grace ends: the organization is released",  # R-TIME-05
          "release": "Phone numbers released"}  # R-TIME-06: numbers are kept 15 days after grace


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _passed(trial: dict[str, Any], milestone: str) -> bool:
    state, days_left = trial["state"], trial.get("daysLeft")
    if state in ("RELEASED",):
        return True
    if state == "EXPIRED":
        return milestone in ("start", "warning", "end")
    if state == "ACTIVE":
        return milestone == "start" or (milestone == "warning" and days_left is not None and days_left <= 7)
    if state in ("CONVERTED", "CANCELLED"):
        return milestone == "start"
    return False


def milestones(trial: dict[str, Any]) -> list[dict[str, Any]]:
    """Dated milestones with their x position and whether they have passed."""
    start, end, grace = _when(trial.get("startsAt")), _when(trial.get("endsAt")), _when(trial.get("graceEndsAt"))
    if not (start and end):
        return []
    grace = grace or end + timedelta(days=30)
    calling = any(s["type"] == "CALLING" for s in trial.get("services", []))
    dates = {"start": start, "warning": end - timedelta(days=7), "end": end, "grace": grace}
    if calling:  # without Webex Calling there are no numbers to keep: nothing happens after grace
        dates["release"] = grace + NUMBER_HOLD
    points = [(key, LABELS[key], dates[key]) for key in dates]
    first, last = points[0][2], points[-1][2]
    span = max((last - first).total_seconds(), 1)
    result = []
    for key, label, when in points:
        x = LEFT + (RIGHT - LEFT) * (when - first).total_seconds() / span
        result.append({"key": key, "label": label, "date": when.date().isoformat(), "x": round(x, 1),
                       "past": _passed(trial, key)})
    # Labels alternate above and below the axis so close dates stay readable.
    for index, point in enumerate(result):
        point["above"] = index % 2 == 0
    return result
