"""SQL twins of the trial end rules R-TIME-01 (the 7-day warning, and R-SET-01's other reminder days),
R-TIME-02 (expiry) and R-TIME-04 (access ended): each rule of server/domain/trials/end_of_life.py as one
PostgreSQL statement per batch (≥ 10k transitions/s with one worker).

Each `trial_rule` in end_of_life.py is a plan in Python: the reference, run on SQLite, by a batch of one
and by the fallback of a failing batch. On PostgreSQL the same rule is also written here, as a
`Statement`: which trials it applies to (state and date, re-checked under the row lock), the state it
moves them to, the audit event it writes and the emails it queues to which audience. `statement()`
turns it into one SQL statement of data-modifying CTEs: lock (or move) the trials of the batch that
the rule applies to, read their names, write their audit events, find each audience's recipients
and insert the outbox rows (`ON CONFLICT (dedup_key) DO NOTHING`: a re-applied deadline sends
nothing twice). The worker sends an array of trial ids and the time; no row comes back to Python.

Why: the Python plan costs the worker ~130 µs of CPU per transition (rows to objects, dicts, keys,
array encoding), more than the database's writes, and one worker process is one core. In one
statement the worker's share is a few µs per transition and two lanes keep both cores on the
database's writes (figures in bench/sweep.py).

The plans and the statements must agree row for row: tests/trials/test_end_of_life_sql.py runs every rule
both ways over the same generated data (several partners, inactive and read-only users, users moved
to the consumer org, one email in two cases, trials the rule does not apply to, dedup keys already
queued) and compares the trials, audit events and outbox rows. `TRIALDESK_COMPILED_RULES=0` (Settings)
turns the statements off (the plans run on PostgreSQL too).

Recipients, as server/domain/notifications/recipients.py: customer admins are FULL_ADMIN and ADMIN users still
in the org, customer users every user still in the org; partner admins are the managing partner's
active users with the roles it chose for the email kind (R-SET-01; by default PARTNER_FULL_ADMIN,
PARTNER_ADMIN or SALES_FULL_ADMIN) plus the active user who started the trial if they belong to it. An email (lower-cased) gets one row per event, with the
locale of the person who comes first by id, as the plans' dedup does.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import (
    AuditEvent, CustomerOrg, CustomerUser, OutboxEmail, PartnerOrg, PartnerSettings, RoleGrant, Trial, User,
)
from server.domain.trials import lifecycle
from server.domain.notifications import recipients
from server.domain.timeline import set_based
from server.domain.core.actor import SYSTEM
from server.domain.timeline.batch import Audience
from server.domain.trials.lifecycle import TrialEvent
from server.domain.notifications.outbox import EmailKind
from server.domain.timeline.deadlines import GRACE
from server.enums import TrialState
from server.settings import get_settings

#: SQL for the days a rule's dedup keys and contexts name (trials as `x`; the end day is written
#: once per trial, as `e.ends_day`).
ENDS_DAY = "e.ends_day"
GRACE_END = f"coalesce(x.grace_ends_at, x.ends_at + interval '{GRACE.days} days')"
GRACE_END_DAY = f"to_char({GRACE_END} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
#: `ends_at.isoformat()` as Python writes it for a UTC datetime (no fraction when it is zero).
ENDS_ISO = ("replace(to_char(x.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')"
            " || '+00:00'")


@dataclass(frozen=True)
class Send:
    """Queue `kind` to each of `audience` once for the event `event:<day>` (day: SQL over `x`)."""
    kind: EmailKind
    audience: Audience
    event: str
    day: str = ENDS_DAY


@dataclass(frozen=True)
class Statement:
    """One trial rule, as the SQL of its parts. `applies` is a condition over the trial `x` with
    `$2` the sweep's time; `move` the state a moving rule applies in and the event that moves it
    (the target comes from the state machine, lifecycle.next_state); `action` the audit event's
    action, `after` the SQL of its after JSON (NULL: JSON null; a moving rule's event records the
    states before and after instead); `context` the email context's (key, SQL) pairs beyond the
    base ones (customer_name, partner_name, trial_id, ends_at)."""
    applies: str
    action: str
    sends: tuple[Send, ...]
    move: tuple[TrialState, TrialEvent] | None = None
    after: str = "NULL"
    context: tuple[tuple[str, str], ...] = ()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(values) -> str:
    return ", ".join(_literal(v) for v in values)


def _audience_rows(audience: Audience) -> str:
    """Each trial in `named` (its columns) with each recipient of `audience` (email, locale, rank)."""
    cu = CustomerUser.__table__.name
    if audience is Audience.PARTNER_ADMINS:
        users = User.__table__.name
        return (f"SELECT n.*, a.email, a.locale, a.user_id AS rank FROM named n"
                f" JOIN admins_of_partners a ON a.partner_id = n.partner_id"
                f" UNION ALL SELECT n.*, lower(u.email), coalesce(u.locale, 'en'), u.id FROM named n"
                f" JOIN {users} u ON u.id = n.started_by_user_id AND u.partner_id = n.partner_id AND u.active")
    roles = f" AND u.role IN ({_in(recipients.CUSTOMER_ADMIN_ROLES)})" if audience is Audience.CUSTOMER_ADMINS else ""
    return (f"SELECT n.*, lower(u.email) AS email, coalesce(u.locale, 'en') AS locale, u.id AS rank FROM named n"
            f" JOIN {cu} u ON u.customer_id = n.customer_id AND u.moved_to_consumer_at IS NULL{roles}")


def _partner_admins(kind: EmailKind) -> str:
    """The partner's people who get its copy of `kind`: the roles it chose (R-SET-01), or the default."""
    users, grants, settings = User.__table__.name, RoleGrant.__table__.name, PartnerSettings.__table__.name
    default = _literal(json.dumps(list(recipients.PARTNER_ADMIN_ROLES)))
    return (f"admins_of_partners AS MATERIALIZED (SELECT u.partner_id, u.id AS user_id, lower(u.email) AS email,"
            f" coalesce(u.locale, 'en') AS locale FROM {users} u LEFT JOIN {settings} s ON s.partner_id = u.partner_id"
            f" WHERE u.partner_id IN (SELECT DISTINCT partner_id FROM named) AND u.active"
            f" AND EXISTS (SELECT 1 FROM {grants} g WHERE g.user_id = u.id AND g.role IN (SELECT jsonb_array_elements_text("
            f"coalesce(s.recipients -> {_literal(kind.value)}, CAST({default} AS jsonb))))))")


@cache
def statement(rule: Statement) -> str:
    """The rule's SQL: $1 the trial ids (set_based.int_array, in the deadlines' order), $2 the time,
    $3 the system actor's label, $4 the batch's salt for Message-IDs. Built once per rule.

    A Message-ID is `<md5(salt + dedup key)@trialdesk>`: 32 hex digits like the plans' uuid4, unique
    because the dedup key is, fixed when queued (a resend after a crash carries it), unguessable
    across batches; gen_random_uuid() cost 6 µs per email, a quarter of the outbox row."""
    trials, customers, partners = Trial.__table__.name, CustomerOrg.__table__.name, PartnerOrg.__table__.name
    columns = "x.id, x.customer_id, x.partner_id, x.started_by_user_id, x.ends_at, x.grace_ends_at"
    batch = "x.id = ANY(CAST(CAST($1 AS text) AS bigint[]))"            # the primary key's index, one probe per id
    before_json, after_json = "NULL", rule.after
    if rule.move is not None:
        state, event = rule.move
        after = lifecycle.next_state(state, event)
        target = (f"UPDATE {trials} x SET state = {_literal(after.value)}, version = coalesce(x.version, 0) + 1"
                  f" WHERE {batch} AND x.state = {_literal(state.value)} AND {rule.applies} RETURNING {columns}")
        before_json, after_json = (f"jsonb_build_object('state', {_literal(s.value)})" for s in (state, after))
    else:
        target = f"SELECT {columns} FROM {trials} x WHERE {batch} AND {rule.applies} FOR UPDATE"
    context = ", ".join(f"{_literal(key)}, {sql}" for key, sql in {
        "customer_name": "c.name", "partner_name": "p.name", "trial_id": "x.id", "ends_at": ENDS_DAY,
        **dict(rule.context)}.items())
    ctes = [
        f"target AS MATERIALIZED ({target})",
        f"named AS MATERIALIZED (SELECT x.*, d.ord, jsonb_build_object({context}) AS context,"
        f" {', '.join(f'{send.day} AS day{i}' for i, send in enumerate(rule.sends))}"
        f" FROM target x JOIN unnest(CAST(CAST($1 AS text) AS bigint[])) WITH ORDINALITY AS d(id, ord) ON d.id = x.id"
        f" JOIN {customers} c ON c.id = x.customer_id JOIN {partners} p ON p.id = x.partner_id"
        f" CROSS JOIN LATERAL (SELECT to_char(x.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS ends_day) e)",
        f"audited AS (INSERT INTO {AuditEvent.__table__.name}"
        f" (at, actor, action, subject_type, subject_id, partner_id, customer_id, before, after)"
        f" SELECT CAST($2 AS timestamptz), CAST($3 AS text), {_literal(rule.action)}, 'Trial', x.id, x.partner_id, x.customer_id,"
        f" coalesce(({before_json})::jsonb, 'null'::jsonb), coalesce(({after_json})::jsonb, 'null'::jsonb)"
        f" FROM named x ORDER BY x.ord)",
    ]
    partner_kinds = [send.kind for send in rule.sends if send.audience is Audience.PARTNER_ADMINS]
    if len(partner_kinds) > 1:
        raise ValueError("one partner copy per rule")            # admins_of_partners is the roles of one kind
    if partner_kinds:
        ctes.append(_partner_admins(partner_kinds[0]))
    sends = " UNION ALL ".join(
        f"SELECT r.ord, {i} AS send, r.rank, {_literal(send.kind.value)} AS kind,"
        f" 'trial:' || r.id || ':' || {_literal(send.event)} || ':' || r.day{i} || ':' || r.email AS dedup_key,"
        f" r.email, r.locale, r.customer_id, r.id AS trial_id, r.context FROM ({_audience_rows(send.audience)}) r"
        for i, send in enumerate(rule.sends))
    # One row per (trial, send, email), the first person by id: the dedup key's parts, compared as
    # integers and bytes rather than the key's text in the database's collation.
    ctes.append(f"emails AS (SELECT DISTINCT ON (ord, send, email COLLATE \"C\") * FROM ({sends}) s"
                f" ORDER BY ord, send, email COLLATE \"C\", rank)")
    outbox = OutboxEmail.__table__.name
    return (f"WITH {', '.join(ctes)} INSERT INTO {outbox}"
            f" (dedup_key, kind, recipient, locale, message_id, customer_id, trial_id, created_at, attempts, context)"
            f" SELECT dedup_key, kind, email, locale, '<' || md5(CAST($4 AS text) || dedup_key) || '@trialdesk>',"
            f" customer_id, trial_id, CAST($2 AS timestamptz), 0, context FROM emails ORDER BY ord, send, rank"
            f" ON CONFLICT (dedup_key) DO NOTHING")


def applies(db: AsyncSession) -> bool:
    return set_based.on_postgres(db) and get_settings().compiled_rules


async def apply(db: AsyncSession, rule: Statement, trial_ids: list[int], now: datetime) -> None:
    """Apply `rule` to the trials of a batch in the session's transaction, in one statement.

    Planned for its parameters each time (`force_custom_plan`, for the rest of the sweep's
    transaction): after five runs PostgreSQL would otherwise try a generic plan, which cannot know
    that the array holds a thousand ids, estimates one row per CTE and joins them in nested loops,
    a thousand times a thousand rows (4× the CPU, bench/sweep.py). Planning costs ~5 µs per trial."""
    await set_based.execute(db, "SET LOCAL plan_cache_mode = force_custom_plan", [])
    await set_based.execute(db, statement(rule), [set_based.int_array(trial_ids), now, SYSTEM.label, secrets.token_hex(16)])
