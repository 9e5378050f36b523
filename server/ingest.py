"""`POST /ingest/usage` (DESIGN contract, SPEC §10): the platform's usage report as NDJSON.

Bearer tokens only (server.auth.middleware.BEARER_ONLY): 401 without a valid token (a cookie
session is no token here), 403 for a token that is not the platform's (role PLATFORM), 415 for a
content type other than `application/x-ndjson`, 413 for a body over 16 MiB or 50,000 lines (a
declared Content-Length over the limit is refused before reading). The body is streamed into
server.domain.usage.ingest line by line; the answer is `{"accepted": N, "rejected": [...]}`.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.domain.core.actor import ActorKind
from server.domain.core.errors import DomainError
from server.domain.usage import ingest as usage_ingest
from server.schema.node import decode_id

CONTENT_TYPE = "application/x-ndjson"


def decode_org(global_id: str) -> int | None:
    return decode_id(global_id, "Customer")


def _refuse(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def ingest_usage(request: Request) -> JSONResponse:
    actor = request.state.actor
    if request.state.auth_method != "bearer" or actor.kind is ActorKind.ANONYMOUS:
        return _refuse(401, "UNAUTHENTICATED", "Send the platform's API token as `Authorization: Bearer …`.")
    if not usage_ingest.may_report(actor):
        return _refuse(403, "FORBIDDEN", "Only the platform (role PLATFORM) reports usage.")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != CONTENT_TYPE:
        return _refuse(415, "UNSUPPORTED_MEDIA_TYPE", f"Send the lines as `{CONTENT_TYPE}`.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > usage_ingest.MAX_BYTES:
        return _refuse(413, "TOO_LARGE", f"At most {usage_ingest.MAX_BYTES} bytes and "
                                         f"{usage_ingest.MAX_LINES} lines a request.")
    try:
        report = await usage_ingest.ingest(request.app.state.sessionmaker, actor, request.stream(), decode_org)
    except usage_ingest.TooLarge as error:
        return _refuse(413, "TOO_LARGE", f"{error} Send at most {usage_ingest.MAX_BYTES} bytes and "
                                         f"{usage_ingest.MAX_LINES} lines a request.")
    except DomainError as error:
        return _refuse(403, error.code.value, error.message)
    return JSONResponse(report.as_json())


routes = [Route("/ingest/usage", ingest_usage, methods=["POST"])]
