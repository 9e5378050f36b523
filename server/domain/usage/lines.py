"""One line of a usage report (R-USE-01/02), read and checked on its own: an activity line, an
assignment line, or a rejection naming the line, a code and the field.

    {"org": "<Customer ID>", "day": "YYYY-MM-DD", "service": "MEETINGS", "user": "<key>", "events": 3, "minutes": 95}
    {"org": "<Customer ID>", "day": "YYYY-MM-DD", "service": "MEETINGS", "assignedLicenses": 37}

The org is checked against the database by the batch (server.domain.usage.ingest); everything else
here, with the clock's today.

`Reader` reads a report's lines: a good activity line is checked by plain comparisons, its org and
day decoded once per report; any other line is read again by `read_line`, so a line's answer (its
fields, or its rejection with the same code, field and message) never depends on which way it was
read (tests/usage/test_lines.py). Measured (bench/usage.py's lines, one core): `read_line` 2.4 µs a
line, `Reader` about 1 µs.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, NamedTuple

import orjson

from server.enums import ErrorCode, ServiceType

#: R-USE-02 / R-USE-08: no day more than this many days before today.
HISTORY_DAYS = 400
MAX_USER_KEY = 64
MAX_COUNT = 2**31 - 1
SERVICES = frozenset(s.value for s in ServiceType)


class Activity(NamedTuple):
    line: int
    org_id: int
    day: date
    service: str
    user_key: str
    events: int
    minutes: int


class Assignment(NamedTuple):
    line: int
    org_id: int
    day: date
    service: str
    assigned: int


class Rejection(NamedTuple):
    line: int
    code: str
    field: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code, "field": self.field, "message": self.message}


class _Refused(Exception):
    def __init__(self, field: str | None, message: str, code: ErrorCode = ErrorCode.INVALID_USAGE) -> None:
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


def _count(data: dict, name: str) -> int:
    if name not in data or data[name] is None:
        raise _Refused(name, f"`{name}` is required.")
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Refused(name, f"`{name}` must be a whole number.")
    if isinstance(value, float):
        if not value.is_integer():
            raise _Refused(name, f"`{name}` must be a whole number.")
        value = int(value)
    if value < 0:
        raise _Refused(name, f"`{name}` must not be negative.")
    if value > MAX_COUNT:
        raise _Refused(name, f"`{name}` must be at most {MAX_COUNT}.")
    return value


def _day(data: dict, today: date) -> date:
    value = data.get("day")
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise _Refused("day", "`day` must be a date as YYYY-MM-DD (UTC).")
    if day > today:
        raise _Refused("day", f"`day` {day} is after today ({today}, UTC).")
    if day < today - timedelta(days=HISTORY_DAYS):
        raise _Refused("day", f"`day` {day} is more than {HISTORY_DAYS} days ago.")
    return day


def _user_key(data: dict) -> str:
    value = data["user"]
    if not isinstance(value, str) or not value.strip():
        raise _Refused("user", "`user` must be a non-empty opaque key.")
    if len(value) > MAX_USER_KEY:
        raise _Refused("user", f"`user` must be at most {MAX_USER_KEY} characters.")
    if "@" in value:
        raise _Refused("user", "`user` must be an opaque key, never an email (no `@`).")
    return value


def _read(raw: bytes, line: int, today: date, decode_org: Callable[[str], int | None]) -> Activity | Assignment:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _Refused(None, "The line is not JSON.") from None
    if not isinstance(data, dict):
        raise _Refused(None, "The line must be one JSON object.")
    org = data.get("org")
    org_id = decode_org(org) if isinstance(org, str) else None
    if org_id is None:
        raise _Refused("org", "No such customer org.", ErrorCode.NOT_FOUND)
    day = _day(data, today)
    service = data.get("service")
    if service not in SERVICES:
        raise _Refused("service", f"`service` must be one of {', '.join(sorted(SERVICES))}.")
    if "user" not in data and "assignedLicenses" in data:
        return Assignment(line, org_id, day, service, _count(data, "assignedLicenses"))
    if "assignedLicenses" in data:
        raise _Refused("assignedLicenses", "A line reports either a user's activity or assigned licenses, not both.")
    if "user" not in data:
        raise _Refused("user", "`user` is required (or `assignedLicenses` for an assignment line).")
    return Activity(line, org_id, day, service, _user_key(data), _count(data, "events"), _count(data, "minutes"))


def read_line(raw: bytes, line: int, today: date,
              decode_org: Callable[[str], int | None]) -> Activity | Assignment | Rejection:
    """The line as an Activity or Assignment, or its Rejection (`decode_org`: a Customer global ID
    to its key, None when it is not one)."""
    try:
        return _read(raw, line, today, decode_org)
    except _Refused as refused:
        return Rejection(line, refused.code.value, refused.field, refused.message)


_activity = functools.partial(tuple.__new__, Activity)   # Activity(...) without its Python-level __new__


class Reader:
    """Reads one report's lines at `today` (`read_line`'s answers, the common lines faster): an
    activity line whose six fields are all good is taken at once (exact types, each org and day
    decoded once per report); any other line is read again by `read_line`, which says why."""

    def __init__(self, today: date, decode_org: Callable[[str], int | None]) -> None:
        self.today, self.decode_org = today, decode_org
        self._orgs: dict[str, int | None] = {}
        self._days: dict[str, date | None] = {}

    def _day(self, value: str) -> date | None:
        try:
            return _day({"day": value}, self.today)
        except _Refused:
            return None

    def read(self, raw: bytes, line: int) -> Activity | Assignment | Rejection | None:
        """The line's answer; None for a blank line (skipped, still counted)."""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        if type(data) is dict and len(data) == 6:
            org, day, service, user = data.get("org"), data.get("day"), data.get("service"), data.get("user")
            events, minutes = data.get("events"), data.get("minutes")
            if (type(org) is str and type(day) is str and type(user) is str and type(events) is int
                    and type(minutes) is int and 0 <= events <= MAX_COUNT and 0 <= minutes <= MAX_COUNT
                    and type(service) is str and service in SERVICES
                    and len(user) <= MAX_USER_KEY and "@" not in user and user.strip()):
                org_id = self._orgs.get(org, False)
                if org_id is False:
                    org_id = self._orgs[org] = self.decode_org(org)
                found = self._days.get(day, False)
                if found is False:
                    found = self._days[day] = self._day(day)
                if org_id is not None and found is not None:
                    return _activity((line, org_id, found, service, user, events, minutes))
        elif data is None and not raw.strip():
            return None
        return read_line(raw, line, self.today, self.decode_org)
