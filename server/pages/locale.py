"""`POST /locale`: the language switch (en, nb) remembers the choice in a cookie for a year."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server import i18n
from server.pages import rendering


def _safe_next(value: str) -> str:
    """Only a path on this site (no scheme, no `//host`)."""
    return value if value.startswith("/") and not value.startswith("//") else "/"


async def set_locale(request: Request) -> Response:
    form = await request.form()
    chosen = str(form.get("locale", ""))
    response = rendering.see_other(_safe_next(str(form.get("next", "/"))))
    if chosen in i18n.LOCALES:
        response.set_cookie(i18n.COOKIE, chosen, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response
