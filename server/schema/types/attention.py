"""The partner's day (beside the API.graphql contract): what needs attention, and trials
by week. Rules and decisions: server.domain.partner_day.attention and server.domain.partner_day.weeks."""
from __future__ import annotations

from datetime import date

import strawberry

from server.domain.partner_day import attention as attention_domain
from server.domain.partner_day import weeks as trial_weeks
from server.schema.node import to_global_id

AttentionKind = strawberry.enum(attention_domain.AttentionKind)


@strawberry.type(description="One customer (and trial) that needs attention.")
class AttentionItem:
    customer_id: strawberry.ID
    customer_name: str
    trial_id: strawberry.ID | None
    day: date | None = strawberry.field(description="The day that matters, UTC: the trial's end, its release "
                                        "(in grace), the consent request's lapse, the devices' last return day, "
                                        "when the extension was asked or the interest shown.")
    days_left: int | None = strawberry.field(description="Whole days to `day`, rounded up, never negative.")
    overdue: bool = strawberry.field(description="DEVICE_RETURNS_DUE: the last return day has passed.")

    @classmethod
    def of(cls, item: attention_domain.AttentionItem) -> "AttentionItem":
        return cls(customer_id=to_global_id("Customer", item.customer_id), customer_name=item.customer_name,
                   trial_id=to_global_id("Trial", item.trial_id) if item.trial_id is not None else None,
                   day=item.day, days_left=item.days_left, overdue=item.overdue)


@strawberry.type(description="A category of the home page: how many, and the first few.")
class AttentionList:
    kind: AttentionKind
    total_count: int
    items: list[AttentionItem]

    @classmethod
    def of(cls, found: attention_domain.AttentionList) -> "AttentionList":
        return cls(kind=found.kind, total_count=found.total, items=[AttentionItem.of(i) for i in found.items])


@strawberry.type(description="One ISO week (UTC) of trials.")
class TrialWeek:
    week_start: date = strawberry.field(description="The Monday.")
    iso_week: str = strawberry.field(description="e.g. 2026-W49.")
    started: int
    converted: int
    expired: int
    released: int
    conversion_rate: float | None = strawberry.field(
        description="converted / (converted + released); null when no outcome was decided that week.")

    @classmethod
    def of(cls, week: trial_weeks.TrialWeek) -> "TrialWeek":
        return cls(week_start=week.start, iso_week=week.iso_week, started=week.started, converted=week.converted,
                   expired=week.expired, released=week.released, conversion_rate=week.conversion_rate)


@strawberry.type
class TrialsByWeek:
    weeks: list[TrialWeek]
    conversion_rate: float | None = strawberry.field(description="The same ratio over all the weeks shown.")

    @classmethod
    def of(cls, weeks: list[trial_weeks.TrialWeek]) -> "TrialsByWeek":
        converted, released = sum(w.converted for w in weeks), sum(w.released for w in weeks)
        return cls(weeks=[TrialWeek.of(w) for w in weeks],
                   conversion_rate=trial_weeks.conversion_rate(converted, released))
