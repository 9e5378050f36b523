"""`GET /consent/{token}`: the link in a consent request email (R-EX-03..06).

Opening it redeems the single-use signed link (`server.domain.consent.requests.redeem_link`), signs the
customer admin in (`sign_in_customer_admin`) and lands on the consent page
`/my/consent/{trialId}`, which runs GraphQL like every page. It lives beside the sessions because
it creates the actor the API later trusts (pages may not touch the database). Expired, used or
invalid links get a page that says so and what to do.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.auth import links
from server.auth.pages import sign_in_customer_admin
from server.domain.consent import requests as consent
from server.pages import rendering
from server.schema.node import to_global_id


async def open_consent_link(request: Request) -> Response:
    rendering.use_locale(request)
    state = request.app.state
    try:
        async with state.sessionmaker() as db, db.begin():
            user, consent_request = await consent.redeem_link(db, state.settings, request.path_params["token"])
        response = rendering.see_other(f"/my/consent/{to_global_id('Trial', consent_request.trial_id)}")
        await sign_in_customer_admin(request, response, user.id)
    except links.LinkError as error:
        return rendering.render(request, "consent/link_error.html", {"title": rendering._("Consent"),
                                                                     "reason": error.reason}, status_code=400)
    return response


routes = [Route("/consent/{token}", open_consent_link)]
