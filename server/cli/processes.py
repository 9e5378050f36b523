"""`trialdesk serve`, `worker` and `run`: the web server, the arq worker, and both at once (`make run`)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from server.cli.common import fail, run_in_transaction
from server.cli.database import print_sign_ins

def serve(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
          workers: int = typer.Option(1, "--workers", min=1, help="web processes (stateless)")) -> None:
    """Run the web server (uvicorn)."""
    import uvicorn

    uvicorn.run("server.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False, proxy_headers=True)


def worker(burst: bool = typer.Option(False, "--burst", help="run queued work, then exit")) -> None:
    """Run the arq worker: cron sweep every minute (deadlines and outbox)."""
    from arq.worker import run_worker

    from jobs.worker import worker_settings
    from server.settings import get_settings

    url = get_settings().redis_url
    if not url:
        fail("REDIS_URL is not set (`trialdesk run` starts an embedded Redis for you)")
    run_worker(worker_settings(url, burst=burst))  # type: ignore[arg-type]


def run(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
        seed_demo: bool = typer.Option(True, "--seed/--no-seed")) -> None:
    """What `make run` does: migrate, seed the demo, start Redis if needed, the web server and a worker.

    Ctrl-C reaches the whole foreground process group. The web server and the worker start with
    SIGINT ignored, so neither turns it into a KeyboardInterrupt traceback: uvicorn and arq still
    catch it and stop gracefully; this process waits for them (SIGTERM after 10 s), stops the
    embedded Redis and says so in one line, exit 0."""
    from server.demo import seed
    from server.settings import get_settings

    settings = get_settings()
    Path("var").mkdir(exist_ok=True)
    from server.db import migrate

    migrate.upgrade(settings.database_url, "head")
    if seed_demo:
        print_sign_ins(run_in_transaction(seed).created)
    env = dict(os.environ)
    embedded = None
    if not settings.redis_url:
        from server.embedded_redis import EmbeddedRedis

        embedded = EmbeddedRedis("var")
        env["REDIS_URL"] = embedded.url
    env.setdefault("BASE_URL", f"http://{host}:{port}")
    exe = [sys.executable, "-m", "server.cli"]
    quiet = {"env": env, "preexec_fn": lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)}
    children = [subprocess.Popen([*exe, "serve", "--host", host, "--port", str(port)], **quiet),
                subprocess.Popen([*exe, "worker"], **quiet)]
    clock_note = " Test clock on: `uv run trialdesk clock advance --days N` moves it." if settings.test_clock else ""
    typer.echo(f"Trialdesk is running at http://{host}:{port}/ (GraphiQL at /graphql).{clock_note} "
               "Ctrl-C stops it.", err=True)

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not interrupt the shutdown
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                # A SIGTERM to this process alone reached no child. SIGTERM, not SIGINT: after Ctrl-C
                # the children already have a SIGINT, and uvicorn takes a second one as "force exit"
                # (its lifespan task cancelled: a CancelledError traceback on the way out).
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.terminate()
                try:
                    child.wait(5)
                except subprocess.TimeoutExpired:
                    child.kill()
        if embedded:
            embedded.stop()
        typer.echo("Trialdesk stopped: web server, worker and Redis.", err=True)
