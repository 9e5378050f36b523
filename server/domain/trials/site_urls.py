"""R-SVC-02: is a Meetings site URL well formed and still free? (the wizard's live check).

Site URLs are stored lower-case (`service_options.site_host`), so uniqueness is case-insensitive;
a released trial's site URL is cleared (R-TIME-05) and so is free again. The answer only says
taken or free, never whose.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import TrialService
from server.domain.trials.options import SITE_SUFFIX, site_host


@dataclass
class SiteUrlCheck:
    site_url: str | None
    valid: bool
    available: bool
    message: str


def host_of(name: str | None) -> str | None:
    """`acme`, `Acme.webex.com` or `https://acme.webex.com/` → the host; None when it is not well formed."""
    return site_host((name or "").strip()[:200])


def taken(host: Any) -> Any:
    """Whether a trial holds the host (a value, or a bound parameter: the read planner's statement)."""
    return exists().where(TrialService.site_url == host)


def host_parameter(prefix: str) -> Any:
    """The host as a parameter bound per call, `{prefix}host` (the read planner's statement)."""
    return bindparam(f"{prefix}host", type_=String)


def answer(host: str | None, is_taken: bool) -> SiteUrlCheck:
    """The check's answer for a host (None: not well formed) and whether it is taken."""
    if host is None:
        return SiteUrlCheck(None, False, False, f"Enter a site name of 3 to 40 letters, digits or hyphens "
                            f"(not starting or ending with a hyphen): <name>{SITE_SUFFIX}.")
    if is_taken:
        return SiteUrlCheck(host, True, False, f"{host} is taken.")
    return SiteUrlCheck(host, True, True, f"{host} is free.")


async def check_site_url(db: AsyncSession, name: str) -> SiteUrlCheck:
    """`acme`, `Acme.webex.com` or `https://acme.webex.com/` → the host, its format and whether it is free
    (no read for a name that is not well formed). The read planner asks the same three functions."""
    host = host_of(name)
    return answer(host, host is not None and bool(await db.scalar(select(taken(host)))))
