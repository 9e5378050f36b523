"""Queries of the partner's home page: `attention` and `trialsByWeek`, each one domain
read in the viewer's scope, also on the read planner (`roots.Statement`)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

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


# attention: the domain's one statement (every category's first rows, a UNION ALL; its moments and page
# size bound per call and per root field) and the domain's rules over its rows (lists_of).
def _attention_row(item: dict) -> SimpleNamespace:
    at, day = item["at"], item["day"]
    return SimpleNamespace(**{**item, "at": None if at is None else datetime.fromisoformat(at).astimezone(UTC),
                              "day": None if day is None else date.fromisoformat(day)})


plan.plannable("AttentionList", kind=plan.ByRoot(), totalCount=plan.ByRoot(), items=plan.ByRoot())
plan.plannable("AttentionItem", customerId=plan.ByRoot(), customerName=plan.ByRoot(), trialId=plan.ByRoot(),
               day=plan.ByRoot(), daysLeft=plan.ByRoot(), overdue=plan.ByRoot())
plan.root("attention", roots.Statement(
    "AttentionList", many=True,
    check=lambda actor, args: attention.check(actor, args["first"]),
    key=lambda args: (),
    statement=lambda actor, args, prefix: attention.statement(actor, prefix),
    params=lambda args, now, prefix: attention.parameters(now, args["first"], prefix),
    build=lambda env, args, rows: [AttentionList.of(found) for found in attention.lists_of(
        [_attention_row(item) for item in rows], args["first"], env.now)]))


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
