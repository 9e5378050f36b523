"""The CSRF token of a form body, read before any endpoint runs (server.auth.middleware).

A form of at most `MAX_FORM_BYTES` is read whole and parsed as Starlette parses it. A larger
multipart form (a file upload sent without JavaScript: the token is then a form field, not a
header) is read only up to that limit: its token is taken from the fields that are complete in
those first bytes (our forms put the token first, before any file input), and the endpoint then
gets the whole body, those bytes replayed and the rest streamed as it arrives. So a page answers
an oversized upload itself with its form message (the logo's "at most 200 KB") instead of a 403,
and nothing before the CSRF check holds more than `MAX_FORM_BYTES`. A larger urlencoded form, or
a multipart one whose token is not in its first bytes, has no token.
"""
from __future__ import annotations

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header
from starlette.requests import Request
from starlette.types import Message, Receive, Scope

from server.auth import csrf

MAX_FORM_BYTES = 1_000_000


async def _head(receive: Receive) -> tuple[list[bytes], bool, bool]:
    """(the chunks read, whether they are the whole body, whether the client is gone): reads until
    the body ends or passes MAX_FORM_BYTES."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return chunks, False, True
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return chunks, True, False
        if size > MAX_FORM_BYTES:
            return chunks, False, False


def _replay(chunks: list[bytes], complete: bool, receive: Receive) -> Receive:
    """The body again: the chunks read, then (when they were not all of it) the rest from `receive`."""
    pending = list(chunks)

    async def again() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending) or not complete}
        return await receive()
    return again


def _multipart_token(content_type: str, head: bytes) -> str | None:
    """The `csrf_token` field among the parts complete in `head` (the first bytes of a multipart body)."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        return None
    found: dict[str, str] = {}
    part: dict = {}

    def on_part_begin() -> None:
        part.clear()
        part.update(header=b"", name=None, data=b"")

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part["header"] += data[start:end]

    def on_header_end() -> None:
        value, params = parse_options_header(part["header"])
        if value == b"form-data" and b"name" in params:
            part["name"] = params[b"name"].decode("latin-1")
        part["header"] = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.get("name") == csrf.FIELD and len(part["data"]) < 1024:
            part["data"] += data[start:end]

    def on_part_end() -> None:
        if part.get("name") == csrf.FIELD and csrf.FIELD not in found:
            found[csrf.FIELD] = part["data"].decode("utf-8", "replace")

    parser = MultipartParser(boundary, {"on_part_begin": on_part_begin, "on_header_value": on_header_value,
                                        "on_header_end": on_header_end, "on_part_data": on_part_data,
                                        "on_part_end": on_part_end})
    try:
        parser.write(head)
    except Exception:  # noqa: BLE001 - a malformed body simply has no token
        return None
    return found.get(csrf.FIELD)


async def form_token(scope: Scope, receive: Receive, content_type: str) -> tuple[str | None, Receive]:
    """(the form's CSRF token or None, a receive that gives the endpoint the whole body)."""
    chunks, complete, gone = await _head(receive)
    replay = _replay(chunks, complete, receive)
    if gone:
        return None, replay
    if not complete or sum(map(len, chunks)) > MAX_FORM_BYTES:   # (a client may send it all in one message)
        multipart = content_type.startswith("multipart/form-data")
        head = b"".join(chunks)[:MAX_FORM_BYTES]
        return (_multipart_token(content_type, head) if multipart else None), replay
    try:
        form = await Request(scope, _replay(chunks, True, receive)).form()
        given = form.get(csrf.FIELD)
        await form.close()
    except Exception:  # noqa: BLE001 - a malformed form is simply not a valid token
        given = None
    return (given if isinstance(given, str) else None), replay
