"""Queries of the partner's home page: `attention` and `trialsByWeek`, each one domain
read in the viewer's scope (trialsByWeek also on the read planner)."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from server import loaders
from server.domain.partner_day import attention
from server.domain.partner_day import weeks as trial_weeks
from server.domain.core.errors import DomainError
from server.resolvers.answer import as_graphql_error
from server.schema.permissions import IsAuthenticated
from server.schema.types.attention import AttentionList, TrialsByWeek
from server.planner import declare as plan
from server.planner import roots

AUTH = [IsAuthenticated]


@strawberry.type
class AttentionQuery:
    @strawberry.field(permission_classes=AUTH, description="What needs attention, every category in a fixed order "
                      "with its total and first rows; scoped as `customers`.")
    async def attention(self, info: Info, first: int = 5) -> list[AttentionList]:
        try:
            async with loaders.read(info.context) as db:
                found = await attention.needs_attention(db, info.context.actor, first)
        except DomainError as error:
            raise await as_graphql_error(info, error, "attention")
        return [AttentionList.of(f) for f in found]

    @strawberry.field(permission_classes=AUTH, description="Trials started, converted, expired and released per "
                      "ISO week (UTC), oldest first, ending with the current week; scoped as `customers`.")
    async def trials_by_week(self, info: Info, weeks: int = 12) -> TrialsByWeek:
        try:
            async with loaders.read(info.context) as db:
                found = await trial_weeks.trials_by_week(db, info.context.actor, weeks)
        except DomainError as error:
            raise await as_graphql_error(info, error, "trialsByWeek")
        return TrialsByWeek.of(found)


# The home page's lists and chart: the partner_day domain's own statements (3 for the whole home page,
# bench.home) and Python rules over their rows; a query asking them beside planned root fields is still
# planned for those (partial plans).
plan.unplanned("attention", "partner_day.attention: per-category statements and Python rules (3 statements for the "
               "home page, bench.home); answered on the reference path beside planned root fields")
# trialsByWeek: the domain's one statement (its week boundaries and moment bound per call) and the
# resolver's own objects from its row.
plan.plannable("TrialsByWeek", weeks=plan.ByRoot(), conversionRate=plan.ByRoot())
plan.plannable("TrialWeek", weekStart=plan.ByRoot(), isoWeek=plan.ByRoot(), started=plan.ByRoot(),
               converted=plan.ByRoot(), expired=plan.ByRoot(), released=plan.ByRoot(), conversionRate=plan.ByRoot())
plan.root("trialsByWeek", roots.Statement(
    "TrialsByWeek",
    check=lambda actor, args: trial_weeks.check(actor, args["weeks"]),
    key=lambda args: (args["weeks"],),
    statement=lambda actor, args, prefix: trial_weeks.statement(actor, args["weeks"], prefix),
    params=lambda args, now, prefix: trial_weeks.parameters(now, args["weeks"], prefix),
    build=lambda env, args, row: TrialsByWeek.of(trial_weeks.weeks_of(env.now, args["weeks"], row))))
