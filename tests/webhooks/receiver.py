"""A real HTTP receiver for webhook tests and bench/webhooks.py: records every request (headers and
body) and answers with the next status of `statuses` (then `status`), after `delay` seconds.

In the test's event loop (`Receiver(...).start()`) or as its own process
(`python -m tests.webhooks.receiver PORT LOG [DELAY]`, one JSON line per request written to LOG when
the request arrives, before the answer; LOG `-`: none), so a test can kill -9 it mid-request.
"""
from __future__ import annotations

import asyncio
import json
import socket
import sys
from dataclasses import dataclass, field

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    log: str | None = None
    requests: list[Request] = field(default_factory=list)
    server: uvicorn.Server | None = None
    task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = Request(scope["path"], {k.decode(): v.decode() for k, v in scope["headers"]}, body.decode())
        self.requests.append(request)
        if self.log:
            with open(self.log, "a") as out:
                out.write(json.dumps(request.__dict__) + "\n")
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else self.status
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": f"answered {status}".encode()})

    async def start(self) -> "Receiver":
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="error", lifespan="off",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.server.force_exit = True
            await asyncio.wait_for(self.task, 15)
            self.server = None


if __name__ == "__main__":
    port, log = int(sys.argv[1]), (sys.argv[2] if sys.argv[2] != "-" else None)
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    asyncio.run(uvicorn.Server(uvicorn.Config(Receiver(port=port, delay=delay, log=log), host="127.0.0.1", port=port,
                                              log_level="error", lifespan="off", access_log=False)).serve())
