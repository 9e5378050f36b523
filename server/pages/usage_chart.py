"""The customer page's usage chart (SPEC §10 R-USE-05): per service of a trial, daily active users
of the last 30 days as a server-side SVG line (no script), with the same numbers as a table (the
chart's accessible fallback), as the home page's trials-by-week chart. This module only lays the
`adoption.daily` series out."""
from __future__ import annotations

from typing import Any

from server.pages.trial_chart import _ceiling

WIDTH, HEIGHT = 720, 204  # the key is HTML under the drawing (_chart_key.html)
LEFT, RIGHT, TOP, BOTTOM = 40, 685, 16, 180  # room for the last day's label at a phone's text size


def layout(daily: list[dict[str, Any]], services: list[str]) -> dict[str, Any]:
    """One polyline per service over the days of the series, axis ticks and day labels."""
    days = sorted({d["day"] for d in daily})
    top = _ceiling(max([d["activeUsers"] for d in daily] + [0]))
    step = (RIGHT - LEFT) / max(len(days) - 1, 1)
    x_of = {day: round(LEFT + n * step, 1) for n, day in enumerate(days)}
    lines = []
    for n, service in enumerate(services):
        points = [(x_of[d["day"]], round(BOTTOM - (BOTTOM - TOP) * d["activeUsers"] / top, 1), d)
                  for d in daily if d["service"] == service]
        lines.append({"service": service, "n": n, "line": " ".join(f"{x},{y}" for x, y, _ in points),
                      "points": [{"x": x, "y": y, "day": d["day"], "value": d["activeUsers"]} for x, y, d in points]})
    # The last day and every 7th before it (a label for the first day as well would crowd the second).
    labels = [{"x": x_of[day], "day": day} for n, day in enumerate(days) if (len(days) - 1 - n) % 7 == 0]
    ticks = [{"y": round(BOTTOM - (BOTTOM - TOP) * q / 4, 1), "count": top * q // 4} for q in range(5)]
    table = [{"day": day, **{s: next((d["activeUsers"] for d in daily if d["day"] == day and d["service"] == s), 0)
                             for s in services}} for day in days]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": RIGHT, "bottom": BOTTOM, "lines": lines,
            "labels": labels, "ticks": ticks, "table": table, "services": services}
