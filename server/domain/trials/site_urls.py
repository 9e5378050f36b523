"""R-SVC-02: is a Meetings site URL well formed and still free? (the wizard's live check).

Site URLs are stored lower-case (`service_options.site_host`), so uniqueness is case-insensitive;
a released trial's site URL is cleared (R-TIME-05) and so is free again. The answer only says
taken or free, never whose.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import TrialService
from server.domain.trials.options import SITE_SUFFIX, site_host


@dataclass
class SiteUrlCheck:
    site_url: str | None
    valid: bool
    available: bool
    message: str


async def check_site_url(db: AsyncSession, name: str) -> SiteUrlCheck:
    """`acme`, `Acme.webex.com` or `https://acme.webex.com/` → the host, its format and whether it is free."""
    host = site_host((name or "").strip()[:200])
    if host is None:
        return SiteUrlCheck(None, False, False, f"Enter a site name of 3 to 40 letters, digits or hyphens "
                            f"(not starting or ending with a hyphen): <name>{SITE_SUFFIX}.")
    taken = await db.scalar(select(exists().where(TrialService.site_url == host)))
    if taken:
        return SiteUrlCheck(host, True, False, f"{host} is taken.")
    return SiteUrlCheck(host, True, True, f"{host} is free.")
