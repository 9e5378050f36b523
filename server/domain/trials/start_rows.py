"""The rows a new customer's trial start writes (R-NEW-01..04), once `trials.start_trial` has
checked it: the customer org, its full admin, the partner's FULL_ADMIN grant, the trial
(PENDING_PROVISIONING, started now), its services (holding them, R-SVC-06), its deadlines (PROVISION
due now and the end-related ones, `timeline.end_deadlines`) and two audit events.

The caller's checks that read (`Checks`: trials.START_CHECKS and the function that raises the
first failed rule) run first, in the same statement on PostgreSQL. The values are built once,
here; how they travel differs (bench.start_trial):
- PostgreSQL: one statement: the checks, then data-modifying CTEs chained on the new ids, each
  inserting only when the checks passed. A start is one round trip instead of eight (each costs
  ≈ 0.35 ms of CPU in SQLAlchemy + asyncpg, more than PostgreSQL spends on it). It returns the
  checks and the new ids: the answer is built from the values sent.
- SQLite (the embedded default, one process): the checks, then one Core insert per table.
Constraints referee concurrent starts the same way on both: a unique violation on the admin email
is ORG_EXISTS (R-NEW-02), on a held service or a site URL SERVICE_NOT_AVAILABLE / SITE_URL_TAKEN.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db.engine import asyncpg_sql, driver_connection
from server.db.models import AuditEvent, CustomerOrg, CustomerUser, PartnerAccessGrant, Trial, TrialService
from server.domain.core import audit
from server.domain.trials import availability
from server.domain.timeline import deadlines as timeline
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.enums import CustomerRole, ErrorCode, PartnerAccess, ProvisioningStatus, TrialKind, TrialState

CUSTOMERS, TRIALS, SERVICES = CustomerOrg.__table__, Trial.__table__, TrialService.__table__


@dataclass(frozen=True)
class Checks:
    """What a start reads before it writes: `statement` (one row: certified, locale, own_org, org_exists;
    none when the actor has no partner) with `params`, and `refuse(row)`, which raises the first
    rule the row breaks. The customer and its admin get the row's `locale` (the partner's)."""
    statement: Any
    params: dict[str, Any]
    refuse: Callable[[Any], None]


@dataclass
class NewTrialRows:
    """Column values by table, without the ids the database assigns."""
    customer: dict[str, Any]
    admin: dict[str, Any]
    grant: dict[str, Any]
    trial: dict[str, Any]
    services: list[dict[str, Any]]
    #: R-SET-01: a reminder on each day before the end still to come: (kind, days, due); only the
    #: partner's chosen days are written (read in the same statement as the rest).
    reminders: list[tuple[timeline.DeadlineKind, int, datetime]]
    deadlines: list[tuple[timeline.DeadlineKind, datetime]]
    audit: list[dict[str, Any]] = field(default_factory=list)


def new_trial_rows(actor: Actor, *, name: str, business_vertical: str, country: str, region: str, email: str,
                   locale: str, license_count: int, duration_days: int, setup_now: bool,
                   services: list[dict[str, Any]], now: datetime) -> NewTrialRows:
    """`services`: the trial_services values without trial_id and customer_id."""
    ends_at = now + timedelta(days=duration_days)
    partner_id = actor.partner_id
    rows = NewTrialRows(
        customer=dict(name=name, business_vertical=business_vertical, country=country, region=region,
                      admin_email=email, managing_partner_id=partner_id,
                      provisioning_status=ProvisioningStatus.PROVISIONING.value, provisioning_error=None,
                      subscription_status="ACTIVE", locale=locale, region_locked=False, created_at=now),
        admin=dict(email=email, name="", role=CustomerRole.FULL_ADMIN.value, locale=locale,
                   moved_to_consumer_at=None, created_at=now),
        grant=dict(partner_id=partner_id, access=PartnerAccess.FULL_ADMIN.value, granted_at=now),
        trial=dict(partner_id=partner_id, started_by_user_id=actor.user_id, kind=TrialKind.NEW_CUSTOMER.value,
                   state=TrialState.PENDING_PROVISIONING.value, license_count=license_count,
                   duration_days=duration_days, starts_at=now, ends_at=ends_at, grace_ends_at=ends_at + timeline.GRACE,
                   setup_now=setup_now, device_skip=None, version=1, order_number=None, converted_at=None,
                   cancelled_at=None, released_at=None, created_at=now),
        services=services,
        reminders=timeline.reminder_candidates(ends_at, now),
        deadlines=[(timeline.DeadlineKind.PROVISION, now), *timeline.end_deadlines(ends_at, now, reminder_days=())])
    return rows


def _audit_events(actor: Actor, rows: NewTrialRows, customer_id: int, trial_id: int) -> list[dict[str, Any]]:
    trial = rows.trial
    snapshot = {"state": trial["state"], "license_count": trial["license_count"], "version": trial["version"],
                "starts_at": trial["starts_at"].isoformat(), "ends_at": trial["ends_at"].isoformat(),
                "services": [s["service"] for s in rows.services], "kind": trial["kind"]}
    customer = rows.customer
    return [
        audit.event(actor, "customer.created", "Customer", customer_id, customer_id=customer_id,
                    after={"name": customer["name"], "country": customer["country"], "region": customer["region"],
                           "admin": customer["admin_email"]}),
        audit.event(actor, "trial.started", "Trial", trial_id, customer_id=customer_id, after=snapshot),
    ]


def org_exists_error() -> DomainError:
    """R-NEW-02: the admin email already belongs to an organization (checked first, or a concurrent
    start with the same email won)."""
    return DomainError(ErrorCode.ORG_EXISTS, "This email belongs to an existing organization: use the "
                       "existing-customer flow.", "adminEmail")


def _mapped(error: IntegrityError) -> Exception:
    text_ = str(error.orig).lower()
    if "customer_users" in text_ and "email" in text_:   # a concurrent start with this admin email won
        return org_exists_error()
    return availability.integrity_error(error) or error


async def write(db: AsyncSession, actor: Actor, rows: NewTrialRows, checks: Checks) -> tuple[Any, Any, list[Any]]:
    """Check, then insert everything; (trial, customer, services) as rows with every column."""
    try:
        if db.bind.dialect.name == "postgresql":
            locale, customer_id, trial_id, service_ids = await _write_postgres(db, actor, rows, checks)
        else:
            locale, customer_id, trial_id, service_ids = await _write_each(db, actor, rows, checks)
    except IntegrityError as error:
        mapped = _mapped(error)
        if isinstance(mapped, DomainError):
            raise mapped from None
        raise
    return _answer(rows, locale, customer_id, trial_id, service_ids)


def _answer(rows: NewTrialRows, locale: str, customer_id: int, trial_id: int,
            service_ids: list[int]) -> tuple[Any, Any, list[Any]]:
    """(trial, customer, services) as written, with every column."""
    rows.customer["locale"] = rows.admin["locale"] = locale
    customer = SimpleNamespace(id=customer_id, **rows.customer)
    trial = SimpleNamespace(id=trial_id, customer_id=customer_id, **rows.trial)
    services = [SimpleNamespace(id=i, trial_id=trial_id, customer_id=customer_id, **s)
                for i, s in zip(service_ids, rows.services)]
    return trial, customer, services


async def _write_each(db: AsyncSession, actor: Actor, rows: NewTrialRows,
                      checks: Checks) -> tuple[str, int, int, list[int]]:
    conn = await db.connection()
    checked = (await conn.execute(checks.statement, checks.params)).one_or_none()
    checks.refuse(checked)
    locale = checked.locale
    customer_id = (await conn.execute(insert(CUSTOMERS).returning(CUSTOMERS.c.id),
                                      {**rows.customer, "locale": locale})).scalar_one()
    await conn.execute(insert(CustomerUser.__table__), {**rows.admin, "customer_id": customer_id, "locale": locale})
    await conn.execute(insert(PartnerAccessGrant.__table__), {**rows.grant, "customer_id": customer_id})
    trial_id = (await conn.execute(insert(TRIALS).returning(TRIALS.c.id),
                                   {**rows.trial, "customer_id": customer_id})).scalar_one()
    service_ids = list((await conn.execute(
        insert(SERVICES).returning(SERVICES.c.id, sort_by_parameter_order=True),
        [{**s, "trial_id": trial_id, "customer_id": customer_id} for s in rows.services])).scalars())
    chosen = await timeline.reminder_days_of(db, rows.trial["partner_id"])
    await timeline.schedule_many(db, "Trial", trial_id, [
        *rows.deadlines, *((kind, due) for kind, days, due in rows.reminders if days in chosen)])
    await conn.execute(insert(AuditEvent.__table__), _audit_events(actor, rows, customer_id, trial_id))
    return locale, customer_id, trial_id, service_ids


def _columns(table, values: dict[str, Any]) -> tuple[str, str]:
    """`a, b, c` and `CAST(:<table>_a AS <type>), …` for the given values of `table` (the locale: the
    checks' row)."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    casts = ", ".join("checks.locale" if k == "locale" else
                      f"CAST(:{table.name}_{k} AS {table.c[k].type.compile(dialect=dialect)})" for k in values)
    return ", ".join(values), casts


def _postgres_statement(rows: NewTrialRows, checks: Checks):
    """The one-statement check and write for rows shaped like `rows` (cached: the shape is fixed)."""
    checks_sql = str(checks.statement.compile(dialect=DefaultDialect(paramstyle="named")))
    customer_cols, customer_vals = _columns(CUSTOMERS, rows.customer)
    admin_cols, admin_vals = _columns(CustomerUser.__table__, rows.admin)
    grant_cols, grant_vals = _columns(PartnerAccessGrant.__table__, rows.grant)
    trial_cols, trial_vals = _columns(TRIALS, rows.trial)
    service_names = list(SERVICE_ARRAYS)
    return text(f"""
WITH checks AS ({checks_sql}),
customer AS (
  INSERT INTO customer_orgs ({customer_cols}) SELECT {customer_vals} FROM checks
  WHERE checks.certified AND NOT checks.own_org AND NOT checks.org_exists
  RETURNING id),
admin AS (
  INSERT INTO customer_users (customer_id, {admin_cols}) SELECT id, {admin_vals} FROM customer, checks),
access AS (
  INSERT INTO partner_access (customer_id, {grant_cols}) SELECT id, {grant_vals} FROM customer),
trial AS (
  INSERT INTO trials (customer_id, {trial_cols}) SELECT id, {trial_vals} FROM customer
  RETURNING id, customer_id),
services AS (
  INSERT INTO trial_services (trial_id, customer_id, holds, {", ".join(service_names)})
  SELECT trial.id, trial.customer_id, true, {", ".join(f"s.{n}" if n != "meetings_features" else "CAST(s.meetings_features AS JSONB)" for n in service_names)}
  FROM trial, unnest({", ".join(f"CAST(:s_{n} AS {t}[])" for n, t in SERVICE_ARRAYS.items())})
       WITH ORDINALITY AS s({", ".join(service_names)}, n)
  ORDER BY s.n
  RETURNING id),
deadlines AS (
  INSERT INTO deadlines (kind, subject_type, subject_id, due_at, attempts, created_at)
  SELECT d.kind, 'Trial', trial.id, d.due_at, 0, CAST(:now AS TIMESTAMP WITH TIME ZONE)
  FROM trial, unnest(CAST(:d_kind AS TEXT[]), CAST(:d_due AS TIMESTAMP WITH TIME ZONE[])) AS d(kind, due_at)
  UNION ALL
  SELECT r.kind, 'Trial', trial.id, r.due_at, 0, CAST(:now AS TIMESTAMP WITH TIME ZONE)
  FROM trial, unnest(CAST(:r_kind AS TEXT[]), CAST(:r_days AS TEXT[]), CAST(:r_due AS TIMESTAMP WITH TIME ZONE[]))
       AS r(kind, days, due_at)
  WHERE r.days IN (SELECT jsonb_array_elements_text(coalesce((SELECT s.reminder_days FROM partner_settings s
                   WHERE s.partner_id = CAST(:audit_partner AS BIGINT)), CAST(:r_default AS JSONB))))),
events AS (
  INSERT INTO audit_events (at, actor, action, subject_type, subject_id, partner_id, customer_id, after)
  SELECT CAST(:now AS TIMESTAMP WITH TIME ZONE), CAST(:actor AS TEXT), 'customer.created', 'Customer',
         trial.customer_id, CAST(:audit_partner AS BIGINT), trial.customer_id, CAST(:customer_after AS JSONB) FROM trial
  UNION ALL
  SELECT CAST(:now AS TIMESTAMP WITH TIME ZONE), CAST(:actor AS TEXT), 'trial.started', 'Trial',
         trial.id, CAST(:audit_partner AS BIGINT), trial.customer_id, CAST(:trial_after AS JSONB) FROM trial)
SELECT checks.certified, checks.locale, checks.own_org, checks.org_exists, trial.customer_id, trial.id AS trial_id,
       ARRAY(SELECT id FROM services ORDER BY id) AS service_ids
FROM checks LEFT JOIN trial ON true""")


#: trial_services columns sent as one array each (the rest: trial_id, customer_id, holds = true).
SERVICE_ARRAYS = {"service": "TEXT", "license_count": "INTEGER", "meetings_edition": "TEXT", "site_url": "TEXT",
                  "time_zone": "TEXT", "meetings_features": "TEXT", "pstn": "TEXT"}
_statements: dict[tuple, Any] = {}


def _postgres_params(actor: Actor, rows: NewTrialRows, checks: Checks) -> tuple[Any, dict[str, Any]]:
    """The one statement for rows shaped like `rows` (built once per shape) and its bound values."""
    shape = (id(checks.statement), tuple(rows.customer), tuple(rows.admin), tuple(rows.grant), tuple(rows.trial))
    statement = _statements.get(shape)
    if statement is None:
        statement = _statements[shape] = _postgres_statement(rows, checks)
    params: dict[str, Any] = dict(checks.params)
    for table, values in ((CUSTOMERS, rows.customer), (CustomerUser.__table__, rows.admin),
                          (PartnerAccessGrant.__table__, rows.grant), (TRIALS, rows.trial)):
        params.update((f"{table.name}_{k}", v) for k, v in values.items() if k != "locale")
    for name in SERVICE_ARRAYS:
        values = [s.get(name) for s in rows.services]
        if name == "meetings_features":
            values = [None if v is None else json.dumps(v) for v in values]
        params[f"s_{name}"] = values
    events = _audit_events(actor, rows, 0, 0)
    params.update(d_kind=[k.value for k, _ in rows.deadlines], d_due=[due for _, due in rows.deadlines],
                  r_kind=[k.value for k, _, _ in rows.reminders], r_days=[str(days) for _, days, _ in rows.reminders],
                  r_due=[due for _, _, due in rows.reminders], r_default=json.dumps(timeline.DEFAULT_REMINDER_DAYS),
                  now=events[0]["at"], actor=events[0]["actor"], audit_partner=events[0]["partner_id"],
                  customer_after=json.dumps(events[0]["after"]), trial_after=json.dumps(events[1]["after"]))
    return statement, params


async def _write_postgres(db: AsyncSession, actor: Actor, rows: NewTrialRows,
                          checks: Checks) -> tuple[str, int, int, list[int]]:
    statement, params = _postgres_params(actor, rows, checks)
    conn = await db.connection()
    row = (await conn.execute(statement, params)).one_or_none()
    checks.refuse(row)
    return row.locale, row.customer_id, row.trial_id, list(row.service_ids)


async def write_alone(engine: AsyncEngine, actor: Actor, rows: NewTrialRows,
                      checks: Checks) -> tuple[Any, Any, list[Any]]:
    """`write` for a start that is a transaction of its own (nothing else to commit with it), on
    PostgreSQL: the one statement in autocommit on the pooled asyncpg connection. One statement is
    atomic by itself, so this writes and refuses exactly as `write` in a transaction does, without
    BEGIN and COMMIT (two round trips) and without the Session and Connection execution path
    (≈ 1.5 ms of CPU per start with them, bench.start_trial). The SQL is compiled once."""
    from asyncpg import IntegrityConstraintViolationError

    statement, params = _postgres_params(actor, rows, checks)
    sql, names, _ = asyncpg_sql(statement, engine.dialect)
    try:
        async with driver_connection(engine) as driver:
            found = await driver.fetchrow(sql, *(params[name] for name in names))
    except IntegrityConstraintViolationError as error:  # as `write` sees it through SQLAlchemy
        mapped = _mapped(IntegrityError(sql, None, error))
        if isinstance(mapped, DomainError):
            raise mapped from None
        raise mapped from error
    row = None if found is None else SimpleNamespace(**found)
    checks.refuse(row)
    return _answer(rows, row.locale, row.customer_id, row.trial_id, list(row.service_ids))
