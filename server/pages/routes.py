"""Every portal page route (app.py includes `routes()`); each endpoint runs in its visitor's locale."""
from __future__ import annotations

from functools import wraps

from starlette.routing import Route

from server.pages import customers, locale, rendering


def localized(endpoint):
    """Set the translation locale for the whole request (messages built before rendering too)."""
    @wraps(endpoint)
    async def wrapped(request):
        rendering.use_locale(request)
        return await endpoint(request)
    return wrapped


def routes() -> list[Route]:
    pages = [
        Route("/customers", customers.customer_list),
        Route("/locale", locale.set_locale, methods=["POST"]),
    ]
    return [Route(r.path, localized(r.endpoint), methods=r.methods, name=r.name) for r in pages]
