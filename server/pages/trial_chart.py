"""The trials-by-week chart of the home page, drawn as server-side SVG (no script): per week a bar
for each measure (started, converted, expired, released) and the conversion rate as a line on its
own 0–100 % scale. This module only lays the numbers of `trialsByWeek` out; the page also shows
them as a table (the chart's accessible fallback)."""
from __future__ import annotations

from typing import Any

WIDTH, HEIGHT = 720, 234  # the key is HTML under the drawing (_chart_key.html)
LEFT, RIGHT, TOP, BOTTOM = 40, 645, 20, 210  # the plot area (right: room for "100%" at a phone's text size)
MEASURES = ("started", "converted", "expired", "released")
LABELS = {"started": "Started", "converted": "Converted", "expired": "Expired", "released": "Released"}
GAP = 6  # between two weeks' groups of bars


def _ceiling(value: int) -> int:
    """A round top for the count axis (at least 4, so its quarter ticks are whole numbers)."""
    for top in (4, 8, 12, 20, 40, 60, 100, 200, 400, 1000, 2000, 4000, 10000):
        if value <= top:
            return top
    return ((value // 10000) + 1) * 10000


def layout(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars, rate points and axis ticks in SVG coordinates."""
    top = _ceiling(max([w[m] for w in weeks for m in MEASURES] + [0]))
    height = BOTTOM - TOP
    slot = (RIGHT - LEFT) / max(len(weeks), 1)
    bar = (slot - GAP) / len(MEASURES)
    bars, points, labels = [], [], []
    for n, week in enumerate(weeks):
        x0 = LEFT + n * slot + GAP / 2
        for k, measure in enumerate(MEASURES):
            h = height * week[measure] / top
            bars.append({"x": round(x0 + k * bar, 1), "y": round(BOTTOM - h, 1), "width": round(bar - 1, 1),
                         "height": round(h, 1), "measure": measure, "value": week[measure],
                         "week": week["isoWeek"]})
        centre = round(x0 + (slot - GAP) / 2, 1)
        labels.append({"x": centre, "text": week["isoWeek"].split("-")[1]})
        if week["conversionRate"] is not None:
            points.append({"x": centre, "y": round(BOTTOM - height * week["conversionRate"], 1),
                           "rate": week["conversionRate"]})
    ticks = [{"y": round(BOTTOM - height * q / 4, 1), "count": top * q // 4, "rate": q * 25} for q in range(5)]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": RIGHT, "top": TOP, "bottom": BOTTOM,
            "bars": bars, "points": points, "line": " ".join(f"{p['x']},{p['y']}" for p in points),
            "labels": labels, "ticks": ticks, "measures": MEASURES, "legend": LABELS}


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 100)} %"
