"""Starting trials: new customer (R-NEW-01..04) and paid customer (R-PAID-01); shared pieces for
the existing-customer flow (server.domain.consent.requests).

Decisions:
- R-ORG-03: a partner's own org is `PartnerOrg.own_customer_id`, or any org whose admin email has
  the same domain as one of the partner's users.
- Dates: new- and paid-customer trials start now (ends = now + duration, grace ends 30 days
  later); existing-customer trials start when consent is accepted.
- A new customer's trial is PENDING_PROVISIONING with a PROVISION deadline due now (the handler
  makes it ACTIVE and sends the welcome email, R-NEW-04). A paid customer is provisioned already:
  its trial is ACTIVE at once and every customer admin is told (R-PAID-01).
- `start_trial` is the API's hot write (bench.start_trial): one SELECT for every check
  that reads (partner, R-ORG-03, R-NEW-02), then Core inserts with RETURNING, one statement per
  table (services, deadlines and audit events as multi-row inserts), and it answers with the rows
  it wrote (`StartedTrial`) instead of reading them back. The ORM unit of work cost a third of a
  start. The other flows keep the ORM path (`create_trial`); both build their rows from the same
  `options` and `timeline` functions.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import clock
from server.db.engine import read_rows, unit_of_work
from server.db.models import CustomerOrg, CustomerUser, PartnerOrg, Trial, TrialService, User
from server.domain.core import audit
from server.domain.trials import availability
from server.domain.devices import shipments
from server.domain.orgs import geography
from server.domain.notifications import notify
from server.domain.core import permissions
from server.domain.trials import options
from server.domain.timeline import deadlines as timeline
from server.domain.trials import start_rows
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.orgs.directory import normalize_email
from server.domain.core.errors import DomainError, raise_all
from server.domain.notifications.outbox import EmailKind
from server.domain.core.permissions import Action
from server.domain.trials.options import BUSINESS_VERTICALS, TrialRequest
from server.enums import ErrorCode, TrialKind, TrialState


@dataclass
class CustomerForm:
    """R-NEW-01 / R-EX-01: who the customer is."""
    company_name: str
    admin_email: str
    business_vertical: str
    country: str
    supported_location_confirmed: bool


def snapshot(trial: Trial, services: list | None = None) -> dict[str, Any]:
    """The audit view of a trial."""
    data = {"state": trial.state, "license_count": trial.license_count, "version": trial.version,
            "starts_at": trial.starts_at.isoformat() if trial.starts_at else None,
            "ends_at": trial.ends_at.isoformat() if trial.ends_at else None}
    if services is not None:
        data["services"] = [s.service for s in services if s.removed_at is None]
    return data


async def startable_partner(db: AsyncSession, actor: Actor) -> PartnerOrg:
    """R-ROLE-01 (sales roles only) and R-ORG-01 (certified partners only)."""
    permissions.require(actor, Action.START_TRIAL)
    partner = await visibility.partner_of(db, actor)
    if not partner.certified:
        raise DomainError(ErrorCode.PARTNER_NOT_CERTIFIED, "Only certified partners may start trials.")
    return partner


def check_form(form: CustomerForm, errors: list[DomainError]) -> tuple[str | None, str]:
    """R-NEW-01 / R-EX-01 / R-GEO-01 checks; returns (normalized email or None, country)."""
    if not form.company_name or not form.company_name.strip():
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "Enter the company name.", "companyName"))
    if form.business_vertical not in BUSINESS_VERTICALS:
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "Pick a business vertical from the list.",
                                  "businessVertical"))
    country = (form.country or "").strip().upper()
    if not geography.is_country(country):
        errors.append(DomainError(ErrorCode.INVALID_COUNTRY, f"'{form.country}' is not a country code.", "country"))
    elif not geography.is_supported(country):
        errors.append(DomainError(ErrorCode.UNSUPPORTED_LOCATION, "Trials are not offered in this country.", "country"))
    if not form.supported_location_confirmed:
        errors.append(DomainError(ErrorCode.UNSUPPORTED_LOCATION, "Confirm that the customer is in a supported location.",
                                  "supportedLocationConfirmed"))
    try:
        email = normalize_email(form.admin_email, "adminEmail")
    except DomainError as error:
        errors.append(error)
        email = None
    return email, country


_users, _customer_users, _partners = User.__table__.c, CustomerUser.__table__.c, PartnerOrg.__table__.c
#: R-ORG-03: a user of partner `:partner_id` has an email at the domain of `:own_domain` ('%@<domain>').
SAME_DOMAIN_AS_PARTNER_USER = exists().where(_users.partner_id == bindparam("partner_id"),
                                             func.lower(_users.email).like(bindparam("own_domain")))
#: R-NEW-02: `:email` belongs to a customer org already.
EMAIL_OF_AN_ORG = exists().where(_customer_users.email == bindparam("email"))
#: What a new customer's start reads, in one statement: the partner (R-ORG-01), R-ORG-03, R-NEW-02.
START_CHECKS = select(_partners.certified, _partners.locale, SAME_DOMAIN_AS_PARTNER_USER.label("own_org"),
                      EMAIL_OF_AN_ORG.label("org_exists")).where(_partners.id == bindparam("partner_id"))


def own_domain(email: str | None) -> str | None:
    """The LIKE pattern of SAME_DOMAIN_AS_PARTNER_USER for `email` (None matches nothing)."""
    return None if email is None else "%@" + email.rsplit("@", 1)[-1]


def own_org_error() -> DomainError:
    return DomainError(ErrorCode.OWN_ORG_NOT_ALLOWED,
                       "A partner cannot start a trial for its own organization here; order it separately.",
                       "adminEmail")


async def refuse_own_org(db: AsyncSession, partner: PartnerOrg, *, email: str | None = None,
                         customer_id: int | None = None) -> None:
    """R-ORG-03: no trial for the partner's own organization through these flows."""
    own = customer_id is not None and customer_id == partner.own_customer_id
    if email and not own:
        own = bool(await db.scalar(select(SAME_DOMAIN_AS_PARTNER_USER),
                                   {"partner_id": partner.id, "own_domain": own_domain(email)}))
    if own:
        raise own_org_error()


def start_clock(trial: Trial) -> None:
    now = clock.now()
    trial.starts_at = now
    trial.ends_at = now + timedelta(days=trial.duration_days)
    trial.grace_ends_at = trial.ends_at + timeline.GRACE


async def create_trial(db: AsyncSession, actor: Actor, customer: CustomerOrg, request: TrialRequest, *,
                       kind: TrialKind, state: TrialState, setup_now: bool = False) -> Trial:
    """Trial + services (+ device orders); holds the services (R-SVC-06), audited."""
    trial = Trial(customer_id=customer.id, partner_id=actor.partner_id, started_by_user_id=actor.user_id,
                  kind=kind.value, state=state.value, license_count=request.license_count,
                  duration_days=request.duration_days, setup_now=setup_now, version=1, created_at=clock.now())
    if state is not TrialState.PENDING_CONSENT:
        start_clock(trial)
    db.add(trial)
    await db.flush()
    services = options.service_rows(request, trial.id, customer.id)
    db.add_all(services)
    await options.flush_services(db)
    if request.devices:
        await shipments.request_shipments(db, actor, trial, request.devices)      # R-DEV-01
    if trial.ends_at is not None:
        await timeline.plan_trial(db, trial)
    audit.record(db, actor, "trial.started", "Trial", trial.id, customer_id=customer.id,
                 after={**snapshot(trial, services), "kind": kind.value})
    return trial


@dataclass(frozen=True)
class StartedTrial:
    """What `start_trial` wrote, as rows of `trials`, `customer_orgs` and `trial_services`."""
    trial: Any
    customer: Any
    services: list[Any]

    @property
    def id(self) -> int:
        return self.trial.id

    @property
    def state(self) -> str:
        return self.trial.state


#: trial_services columns a start sends (the database assigns the id; start_rows adds trial and customer).
SERVICE_COLUMNS = [c.key for c in TrialService.__table__.c if c.key not in ("id", "trial_id", "customer_id")]


async def start_trial(db: AsyncSession, actor: Actor, form: CustomerForm, request: TrialRequest, *,
                      setup_now: bool, max_licenses: int) -> StartedTrial:
    """R-NEW-01..04: a new customer org and its trial; provisioning runs asynchronously.
    Checked in this order: R-ROLE-01, R-ORG-01, every input error at once, R-ORG-03, R-NEW-02."""
    email, country, params, errors = _checked(actor, form, request, max_licenses)
    if errors:  # nothing to write: START_CHECKS says which error comes first
        refuse(await (await db.connection()).execute(START_CHECKS, params), errors)
    rows = _new_rows(actor, form, request, email, country, setup_now)
    trial, customer, services = await start_rows.write(db, actor, rows, start_rows.Checks(START_CHECKS, params, refuse))
    if request.devices:
        await shipments.request_shipments(db, actor, await db.get(Trial, trial.id), request.devices)  # R-DEV-01
    return StartedTrial(trial, customer, services)


async def start_trial_alone(sessionmaker: async_sessionmaker[AsyncSession], actor: Actor, form: CustomerForm,
                            request: TrialRequest, *, setup_now: bool, max_licenses: int) -> StartedTrial:
    """`start_trial` as a transaction of its own (the caller writes nothing with it: no
    clientMutationId to remember). On PostgreSQL a start without devices is its one statement,
    in autocommit on a pooled connection (start_rows.write_alone), with no Session, BEGIN or COMMIT;
    refused inputs read START_CHECKS the same way. Otherwise `start_trial` in a unit of work."""
    engine = sessionmaker.kw["bind"]
    if request.devices or engine.dialect.name != "postgresql":
        async with unit_of_work(sessionmaker) as db:
            return await start_trial(db, actor, form, request, setup_now=setup_now, max_licenses=max_licenses)
    email, country, params, errors = _checked(actor, form, request, max_licenses)
    if errors:
        found = await read_rows(engine, START_CHECKS, params)
        refuse(SimpleNamespace(**found[0]) if found else None, errors)
    rows = _new_rows(actor, form, request, email, country, setup_now)
    trial, customer, services = await start_rows.write_alone(engine, actor, rows,
                                                             start_rows.Checks(START_CHECKS, params, refuse))
    return StartedTrial(trial, customer, services)


def _checked(actor: Actor, form: CustomerForm, request: TrialRequest,
             max_licenses: int) -> tuple[str | None, str, dict[str, Any], list[DomainError]]:
    """R-ROLE-01 and the partner (raised), then the input errors (returned, none read yet); with
    the normalized email, the country and START_CHECKS' parameters."""
    permissions.require(actor, Action.START_TRIAL)
    if actor.partner_id is None:
        raise permissions.forbidden("Only partner users may do this.")
    errors: list[DomainError] = []
    email, country = check_form(form, errors)
    try:
        options.check(request, max_licenses, errors)
        errors = []
    except DomainError as error:
        errors = error.errors
    return email, country, {"partner_id": actor.partner_id, "own_domain": own_domain(email), "email": email}, errors


def _new_rows(actor: Actor, form: CustomerForm, request: TrialRequest, email: str, country: str,
              setup_now: bool) -> start_rows.NewTrialRows:
    services = [{c: getattr(s, c) for c in SERVICE_COLUMNS} for s in options.service_rows(request, 0, 0)]
    return start_rows.new_trial_rows(
        actor, name=form.company_name.strip(), business_vertical=form.business_vertical, country=country,
        region=geography.region_for(country).value, email=email, locale=None, license_count=request.license_count,
        duration_days=request.duration_days, setup_now=setup_now, services=services, now=clock.now())


def refuse(checks: Any, errors: list[DomainError] | None = None) -> None:
    """Raise, in this order: not a partner (no row), R-ORG-01, the input `errors`, R-ORG-03, R-NEW-02;
    `checks` is START_CHECKS' result or its row."""
    if hasattr(checks, "one_or_none"):
        checks = checks.one_or_none()
    if checks is None:
        raise permissions.forbidden("Only partner users may do this.")
    if not checks.certified:
        raise DomainError(ErrorCode.PARTNER_NOT_CERTIFIED, "Only certified partners may start trials.")
    raise_all(errors or [])
    if checks.own_org:
        raise own_org_error()
    if checks.org_exists:
        raise start_rows.org_exists_error()


async def add_trial_to_paid_customer(db: AsyncSession, actor: Actor, customer_id: int | None, request: TrialRequest,
                                     *, max_licenses: int) -> Trial:
    """R-PAID-01: a customer this partner manages picks available services; the trial starts now and
    every customer admin is told."""
    partner = await startable_partner(db, actor)
    # A sales admin may add a trial to any customer the partner manages (R-ROLE-02 "add to paid: yes").
    customer = await visibility.get_customer(db, actor, customer_id, Action.START_TRIAL)
    if customer.managing_partner_id != partner.id:
        raise DomainError(ErrorCode.INVALID_STATE, "Only the managing partner may add a trial to a paid customer.",
                          "customerId")
    options.check(request, max_licenses)
    await refuse_own_org(db, partner, customer_id=customer.id)
    await availability.require(db, customer.id, partner.id, request.services)
    trial = await create_trial(db, actor, customer, request, kind=TrialKind.PAID_CUSTOMER, state=TrialState.ACTIVE)
    await notify.to_customer_admins(db, EmailKind.TRIAL_STARTED, trial, "trial_started",
                                    services=[s.value for s in request.services])
    return trial


async def release_holds(db: AsyncSession, trial: Trial, *, free_site: bool = False) -> None:
    """A trial that leaves HOLDING_STATES no longer blocks its services (R-SVC-06); a cancelled one
    also frees its Meetings site URL."""
    from sqlalchemy import update

    from server.db.models import TrialService

    values: dict[str, Any] = {"holds": False}
    if free_site:
        values["site_url"] = None
    await db.execute(update(TrialService).where(TrialService.trial_id == trial.id).values(**values))
