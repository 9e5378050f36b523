"""Setting a customer up (R-SVC-02, R-NEW-04): the Meetings site URL check the wizard runs as the
partner types, and the retry after UNABLE_TO_PROVISION. Thin: each calls one domain function."""
from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from server import loaders
from server.domain.trials import provisioning
from server.domain.trials import site_urls
from server.resolvers.trial_payload import trial_payload, trial_pk
from server.schema.permissions import IsAuthenticated
from server.schema.types.trials import TrialPayload
from server.planner import declare as plan

AUTH = [IsAuthenticated]


@strawberry.type(description="R-SVC-02: a Meetings site URL's format and whether it is free (case-insensitive).")
class SiteUrlCheck:
    site_url: str | None = strawberry.field(description="The normalized host, e.g. acme.webex.com; null when invalid.")
    valid: bool
    available: bool
    message: str


@strawberry.type
class ProvisioningQuery:
    @strawberry.field(permission_classes=AUTH, description="R-SVC-02: is `<name>.webex.com` well formed and free?")
    async def site_url_available(self, info: Info, name: str) -> SiteUrlCheck:
        return await site_url_check(info.context, name)


async def site_url_check(context, name: str) -> SiteUrlCheck:
    """siteUrlAvailable on the request's read session."""
    async with loaders.read(context) as db:
        return _out(await site_urls.check_site_url(db, name))


def _out(found: site_urls.SiteUrlCheck) -> SiteUrlCheck:
    return SiteUrlCheck(site_url=found.site_url, valid=found.valid, available=found.available, message=found.message)


@strawberry.type
class ProvisioningMutation:
    @strawberry.mutation(permission_classes=AUTH, description="R-NEW-04: try again after UNABLE_TO_PROVISION "
                         "(edit rights, R-ROLE-02); provisioning runs again at once.")
    async def retry_provisioning(self, info: Info, trial_id: strawberry.ID) -> TrialPayload:
        actor = info.context.actor
        return await trial_payload(info, "retryProvisioning",
                                   lambda db: provisioning.retry_provisioning(db, actor, trial_pk(trial_id)))


plan.plannable("SiteUrlCheck", siteUrl=plan.ByRoot(), valid=plan.ByRoot(), available=plan.ByRoot(),
               message=plan.ByRoot())


class SiteUrlRoot(plan.Root):
    """siteUrlAvailable in the planner's statement: `site_urls.taken` of the host `site_urls.host_of` reads
    from the name (bound per call), answered by `site_urls.answer`, the functions `check_site_url` calls; a
    name that is not well formed is answered without a read, as the reference does."""

    def read(self, args: dict, env: Any, prefix: str) -> tuple:
        host = site_urls.host_of(args["name"])
        return (host is None,), ({} if host is None else {f"{prefix}host": host})

    def reads(self, args: dict | None) -> bool:
        return args is None or site_urls.host_of(args["name"]) is not None

    def compile(self, compiler: Any, planned: Any, prefix: str):
        pick = compiler.picker("SiteUrlCheck", planned.nodes)
        if site_urls.host_of(planned.args["name"]) is None:
            return [], lambda values, env: pick(_out(site_urls.answer(None, False)))
        return [site_urls.taken(site_urls.host_parameter(prefix))], lambda values, env: pick(
            _out(site_urls.answer(site_urls.host_of(env.args["name"]), values[0])))


plan.root("siteUrlAvailable", SiteUrlRoot())
