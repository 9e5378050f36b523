"""Every portal page route (app.py includes `routes()`); each endpoint runs in its visitor's locale."""
from __future__ import annotations

from functools import wraps

from starlette.routing import Route

from server.pages import (
    bulk_extend, calling, customer_detail, customer_view, customers, customers_export, home, locale, rendering,
    trial_actions, trial_wizard, trials_team,
)


def localized(endpoint):
    """Set the translation locale for the whole request (messages built before rendering too)."""
    @wraps(endpoint)
    async def wrapped(request):
        rendering.use_locale(request)
        return await endpoint(request)
    return wrapped


def routes() -> list[Route]:
    pages = [
        Route("/", home.home),
        Route("/customers", customers.customer_list),
        Route("/customers.csv", customers_export.customers_csv),
        Route("/customers/extend", bulk_extend.extend_selected, methods=["POST"]),
        Route("/locale", locale.set_locale, methods=["POST"]),
        Route("/trials/new", trial_wizard.new_trial, methods=["GET", "POST"]),
        Route("/trials/new/site-url", trial_wizard.site_url_check),
        Route("/customers/{id}", customer_detail.customer_page),
        Route("/customers/{id}/setup", customer_detail.setup_page),
        *trial_actions.routes(),
        Route("/customers/{id}/calling/{action}", calling.calling_action, methods=["POST"]),
        Route("/my", customer_view.my_page),
        Route("/my/consent/{trial}", customer_view.consent_page, methods=["GET", "POST"]),
        Route("/my/trials/{trial}/cancel-confirm", customer_view.my_cancel_confirm),
        Route("/my/trials/{trial}/buy", customer_view.buy_page, methods=["GET", "POST"]),
        Route("/my/trials/{trial}/{action}", customer_view.my_trial_action, methods=["POST"]),
        Route("/trials-team", trials_team.queue),
        Route("/trials-team/{kind}/{id}", trials_team.decide, methods=["POST"]),
        Route("/trials/existing", trial_wizard.existing_trial, methods=["GET", "POST"]),
    ]
    return [Route(r.path, localized(r.endpoint), methods=r.methods, name=r.name) for r in pages]
