"""`/logos/<sha256>.png|jpg` (R-SET-01): a partner's logo as we re-encoded it, from our origin, for
customer emails, the consent page and /my. Public (mail clients fetch it without a session): the
URL is the content's hash, so it names nothing guessable and never changes meaning; cached for a
year, `nosniff`, its own media type, and a CSP that lets it be nothing but an image."""
from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.domain.partner_settings import logo

NAME = re.compile(r"(?P<hash>[0-9a-f]{64})\.(?P<ext>png|jpg)")


async def serve(request: Request) -> Response:
    found = NAME.fullmatch(request.path_params["name"])
    stored = None
    if found is not None:
        async with request.app.state.sessionmaker() as db:
            stored = await logo.by_hash(db, found["hash"])
    if stored is None or (found["ext"] == "png") != (stored[1] == "image/png"):
        return Response("Not found", status_code=404, media_type="text/plain")
    data, media_type = stored
    return Response(data, media_type=media_type, headers={
        "Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox", "Content-Disposition": "inline"})


routes = [Route("/logos/{name}", serve)]
