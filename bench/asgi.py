"""One HTTP request straight through an ASGI app in this process (no sockets, no HTTP client): the
benches' `profile` modes measure the server's own CPU per request with it."""
from __future__ import annotations


async def request(app, method: str, path: str, headers: dict[str, str] | None = None,
                  body: bytes | str | None = None) -> tuple[int, bytes]:
    """(status, body) of one request; `path` may carry a query string."""
    chunks: list[bytes] = []
    status, sent = 0, False
    payload = body.encode() if isinstance(body, str) else (body or b"")
    path, _, query = path.partition("?")

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"bench"), *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())],
             "client": ("127.0.0.1", 1), "server": ("bench", 80), "app": app}
    await app(scope, receive, send)
    return status, b"".join(chunks)
