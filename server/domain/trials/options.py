"""What a trial asks for and the checks on it (R-SVC-01..05, R-NEW-01, R-GEO-01).

`TrialRequest` is the plain value the resolvers build from GraphQL input; `check()` collects every
problem at once (each next to its field) and raises them together, before anything is written.
Decisions: MEETINGS without options means BASIC; CALLING without options means CCP (the customer
orders its numbers later); options for a service that is not chosen are an INVALID_INPUT.
"""
from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import TrialService
from server.domain.core.errors import DomainError, raise_all
from server.domain.devices.delivery import Contact
from server.domain.orgs.addresses import Address
from server.enums import ErrorCode, MeetingsEdition, MeetingsFeature, PstnOption, ServiceType

DURATIONS = (30, 60, 90)                       # R-SVC-05, R-EXT-01
SITE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")
SITE_SUFFIX = ".webex.com"
BUSINESS_VERTICALS = (
    "Agriculture", "Construction", "Education", "Energy and Utilities", "Financial Services", "Government",
    "Healthcare", "Hospitality", "Information Technology", "Legal", "Manufacturing", "Media and Entertainment",
    "Non-profit", "Professional Services", "Real Estate", "Retail", "Telecommunications", "Transportation", "Other",
)


@dataclass
class MeetingsOptions:
    edition: MeetingsEdition = MeetingsEdition.BASIC
    site_url: str | None = None
    time_zone: str | None = None
    features: list[MeetingsFeature] = field(default_factory=list)


@dataclass
class DeviceOrder:
    type: str
    model: str
    quantity: int
    poe_confirmed: bool = False
    shipping_address: Address | None = None
    contact: Contact | None = None


@dataclass
class TrialRequest:
    services: list[ServiceType]
    license_count: int
    duration_days: int
    meetings: MeetingsOptions | None = None
    pstn: PstnOption | None = None
    devices: list[DeviceOrder] = field(default_factory=list)


def site_host(site_url: str | None) -> str | None:
    """'Acme.webex.com' or 'https://acme.webex.com/' → 'acme.webex.com'; None if not a valid site URL."""
    if not site_url:
        return None
    host = site_url.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not host.endswith(SITE_SUFFIX):
        host += SITE_SUFFIX if "." not in host else ""
    name = host.removesuffix(SITE_SUFFIX)
    return host if host.endswith(SITE_SUFFIX) and SITE_NAME.match(name) else None


def check_license_count(count: int, cap: int, errors: list[DomainError], field: str = "licenseCount") -> None:
    if not 1 <= count <= cap:
        errors.append(DomainError(ErrorCode.LICENSE_COUNT_OUT_OF_RANGE,
                                  f"The license count must be between 1 and {cap}.", field))


def check(request: TrialRequest, max_licenses: int, errors: list[DomainError] | None = None) -> TrialRequest:
    """R-SVC-01..05. Deduplicates services; raises every error found (plus `errors` given)."""
    errors = list(errors or [])
    request.services = list(dict.fromkeys(ServiceType(s) for s in request.services))
    if not request.services:
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "Choose at least one service.", "services"))
    check_license_count(request.license_count, max_licenses, errors)
    if request.duration_days not in DURATIONS:
        errors.append(DomainError(ErrorCode.INVALID_DURATION, "The duration must be 30, 60 or 90 days.", "durationDays"))
    meetings = request.meetings
    if ServiceType.MEETINGS in request.services:
        request.meetings = meetings = meetings or MeetingsOptions()
        if meetings.edition == MeetingsEdition.ENTERPRISE:
            host = site_host(meetings.site_url)
            if host is None:
                errors.append(DomainError(ErrorCode.INVALID_SITE_URL,
                                          "Enterprise needs a site URL <name>.webex.com: 3–40 of a–z, 0–9 and -, "
                                          "not starting or ending with -.", ["meetings", "siteUrl"]))
            meetings.site_url = host
            if not meetings.time_zone or meetings.time_zone not in zoneinfo.available_timezones():
                errors.append(DomainError(ErrorCode.INVALID_TIME_ZONE, "Choose an IANA time zone, e.g. Europe/Oslo.",
                                          ["meetings", "timeZone"]))
        else:
            meetings.site_url = meetings.time_zone = None
        meetings.features = list(dict.fromkeys(meetings.features or []))
    elif meetings is not None:
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "Meetings options need the MEETINGS service.", "meetings"))
    if ServiceType.CALLING in request.services:
        request.pstn = request.pstn or PstnOption.CCP
    elif request.pstn is not None:
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "Calling options need the CALLING service.", "calling"))
    if request.devices and ServiceType.DEVICES not in request.services:
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "Devices need the DEVICES service.", "devices"))
    raise_all(errors)
    return request


def service_rows(request: TrialRequest, trial_id: int, customer_id: int) -> list[TrialService]:
    """One TrialService per chosen service; licenses on all but DEVICES (R-SVC-04)."""
    return [new_service(s, request, trial_id, customer_id) for s in request.services]


def new_service(service: ServiceType, request: TrialRequest, trial_id: int, customer_id: int) -> TrialService:
    row = TrialService(trial_id=trial_id, customer_id=customer_id, service=service.value, holds=True,
                       license_count=None if service is ServiceType.DEVICES else request.license_count)
    if service is ServiceType.MEETINGS and request.meetings:
        m = request.meetings
        row.meetings_edition, row.site_url, row.time_zone = m.edition.value, m.site_url, m.time_zone
        row.meetings_features = [f.value for f in m.features]
    if service is ServiceType.CALLING:
        row.pstn = (request.pstn or PstnOption.CCP).value
    return row


async def flush_services(db: AsyncSession) -> None:
    """Flush new TrialService rows; unique violations become SERVICE_NOT_AVAILABLE / SITE_URL_TAKEN."""
    from sqlalchemy.exc import IntegrityError

    from server.domain.trials.availability import integrity_error

    try:
        await db.flush()
    except IntegrityError as error:
        mapped = integrity_error(error)
        if mapped is None:
            raise
        raise mapped from None
