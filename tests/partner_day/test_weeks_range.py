"""Trials by week (the home page's chart): 1 to 52 weeks may be asked for, each edge included;
0 and 53 are refused with INVALID_INPUT (never a 500, never a silent clamp)."""
from __future__ import annotations

from tests.partner_day.conftest import WEEKS


async def test_trials_by_week_accepts_1_to_52_weeks(kit):
    """Kills: the lower bound of `weeks.trials_by_week` moved (1 refused) and MAX_WEEKS changed."""
    for weeks in (1, 52):
        body = await kit.call(WEEKS, {"weeks": weeks})
        assert "errors" not in body, body
        assert len(body["data"]["trialsByWeek"]["weeks"]) == weeks
    for weeks in (0, 53):
        body = await kit.call(WEEKS, {"weeks": weeks})
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", weeks
