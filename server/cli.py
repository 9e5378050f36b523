"""`trialdesk …`: admin and operations commands. Output for scripts on stdout, messages on stderr."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Optional, TypeVar

import typer

from server.domain.core.errors import DomainError
from server.enums import PartnerTier, Role, ServiceType

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Trialdesk: trial management for Webex partners.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
demo_app = typer.Typer(no_args_is_help=True, help="Demo data.")
schema_app = typer.Typer(no_args_is_help=True, help="GraphQL schema.")
partner_app = typer.Typer(no_args_is_help=True, help="Partner organizations.")
user_app = typer.Typer(no_args_is_help=True, help="Partner and trials-team users.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens.")
customer_app = typer.Typer(no_args_is_help=True, help="Customer organizations.")
clock_app = typer.Typer(no_args_is_help=True, help="The test clock (TRIALDESK_TEST_CLOCK=1 only).")
jobs_app = typer.Typer(no_args_is_help=True, help="Background work.")
planner_app = typer.Typer(no_args_is_help=True, help="The read planner (issue 15).")
for sub, name in [(db_app, "db"), (demo_app, "demo"), (schema_app, "schema"), (partner_app, "partner"),
                  (user_app, "user"), (token_app, "token"), (customer_app, "customer"), (clock_app, "clock"),
                  (jobs_app, "jobs"), (planner_app, "planner")]:
    app.add_typer(sub, name=name)

T = TypeVar("T")


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def run_in_transaction(work: Callable[..., Awaitable[T]]) -> T:
    """Run `work(db)` in one transaction; DomainErrors become a clear message and exit 1."""
    from jobs.runtime import Runtime

    async def main() -> T:
        runtime = Runtime.create()
        try:
            async with runtime.sessionmaker() as db, db.begin():
                from server import clock

                await clock.refresh(db)
                return await work(db)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except DomainError as error:
        fail("; ".join(e.message for e in error.errors))
    except (OSError, ConnectionError) as error:
        fail(f"cannot reach the database: {error}")
    raise AssertionError("unreachable")


def decode(global_id: str, type_name: str, option: str) -> int:
    from server.schema.node import decode_id

    pk = decode_id(global_id, type_name)
    if pk is None:
        if global_id.isdigit():
            return int(global_id)
        fail(f"{option}: '{global_id}' is not a {type_name} ID")
    return pk  # type: ignore[return-value]


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to the newest schema."""
    from server.db import migrate
    from server.settings import get_settings

    url = get_settings().database_url
    migrate.upgrade(url, revision)
    typer.echo(f"database at {revision}", err=True)


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="target revision, e.g. base")) -> None:
    from server.db import migrate
    from server.settings import get_settings

    migrate.downgrade(get_settings().database_url, revision)


@demo_app.command("seed")
def demo_seed() -> None:
    """Seed the demo partner, its users (one per role) and a few customers. Idempotent."""
    from server.demo import seed
    from server.schema.node import to_global_id

    result = run_in_transaction(seed)
    typer.echo(to_global_id("Partner", result.partner_id))  # for scripts (stdout); `run` does not print it
    _print_sign_ins(result.created)


def _print_sign_ins(created: bool) -> None:
    """The demo sign-ins, one who can do the main job (start a trial) first, each with what the role may do."""
    from rich.console import Console
    from rich.table import Table

    from server.demo import DEMO_PASSWORD, SIGN_INS

    table = Table(title=f"Demo sign-ins (password {DEMO_PASSWORD})" + ("" if created else ", already seeded"),
                  title_justify="left")
    table.add_column("email", no_wrap=True)
    table.add_column("role", no_wrap=True)
    table.add_column("may")
    for email, role, may in SIGN_INS:
        table.add_row(email, role, may)
    Console(stderr=True, width=None if sys.stderr.isatty() else 150).print(table)


@schema_app.command("export")
def schema_export(path: Path = typer.Option(Path("schema.graphql"), "--path", help="where to write the SDL")) -> None:
    """Write the GraphQL SDL (schema.graphql)."""
    from server.schema.schema import sdl

    path.write_text(sdl())
    typer.echo(f"wrote {path}", err=True)


@partner_app.command("create")
def partner_create(name: str = typer.Option(..., "--name"), tier: int = typer.Option(1, "--tier", min=1, max=2),
                   uncertified: bool = typer.Option(False, "--uncertified"),
                   distributor: Optional[str] = typer.Option(None, "--distributor", help="distributor's partner ID")) -> None:
    """Create a partner organization; prints its global ID."""
    from server.domain.orgs import directory
    from server.schema.node import to_global_id

    distributor_id = decode(distributor, "Partner", "--distributor") if distributor else None
    partner = run_in_transaction(lambda db: directory.create_partner(
        db, name, tier=PartnerTier.TIER1 if tier == 1 else PartnerTier.TIER2, certified=not uncertified,
        distributor_id=distributor_id))
    typer.echo(to_global_id("Partner", partner.id))


@user_app.command("create")
def user_create(email: str = typer.Option(..., "--email"), role: list[Role] = typer.Option(..., "--role"),
                partner: Optional[str] = typer.Option(None, "--partner"),
                password: Optional[str] = typer.Option(None, "--password")) -> None:
    """Create a partner user (or, with --role TRIALS_TEAM and no --partner, a trials-team user)."""
    from server.domain.orgs import directory
    from server.schema.node import to_global_id

    partner_id = decode(partner, "Partner", "--partner") if partner else None
    user = run_in_transaction(lambda db: directory.create_user(db, email, role, partner_id=partner_id,
                                                               password=password))
    typer.echo(to_global_id("User", user.id))


@token_app.command("create")
def token_create(email: str = typer.Option(..., "--email", help="the user the token acts for"),
                 name: str = typer.Option("cli", "--name")) -> None:
    """Create an API token with the user's roles; prints only the bearer token (shown once). Every user
    may have one (DESIGN): a partner user's acts for their partner, a trials-team user's records
    shipments and returns and decides device extensions over GraphQL, as `/trials-team` does."""
    from sqlalchemy import select

    from server.auth.tokens import hash_token, new_token
    from server.db.models import User
    from server.domain.orgs import directory

    token = new_token()

    async def work(db):
        user = await db.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.active:
            fail(f"no active user with email {email}")
        await directory.create_api_token(db, user, hash_token(token), await directory.roles_of(db, user.id), name)

    run_in_transaction(work)
    typer.echo(token)


@token_app.command("list")
def token_list(email: str = typer.Option(..., "--email", help="the user whose tokens to list")) -> None:
    """List a user's API tokens, revoked ones too: ID (what `token revoke --id` and the GraphQL API
    take), name, created, last used, revoked (UTC, to the minute)."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from server.db.models import User
    from server.domain.orgs import users
    from server.domain.core.actor import SYSTEM
    from server.schema.node import to_global_id

    async def work(db):
        user = await db.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            fail(f"no user with email {email}")
        return await users.api_tokens(db, SYSTEM, user_id=user.id)

    rows = run_in_transaction(work)
    if not rows:
        typer.echo(f"{email} has no API tokens", err=True)
        return
    table = Table(title=f"API tokens of {email.strip().lower()}")
    for col in ("id", "name", "created", "last used", "revoked"):
        table.add_column(col, no_wrap=col != "name")
    for row in rows:
        table.add_row(to_global_id("ApiToken", row.id), row.name, _minute(row.created_at),
                      _minute(row.last_used_at), _minute(row.revoked_at))
    # A script reading stdout gets whole lines, whatever its terminal's width.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def _minute(at) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else "–"


@token_app.command("revoke")
def token_revoke(token_id: str = typer.Option(..., "--id", help="the token's ID as `token list` shows it "
                                                                "(the GraphQL API's global ID)")) -> None:
    """Revoke any user's API token (partner staff or trials team): it stops working on its next request.
    Exits non-zero when there is no such token or it is revoked already."""
    from server.domain.orgs import users
    from server.domain.core.actor import SYSTEM
    from server.schema.node import to_global_id

    pk = decode(token_id, "ApiToken", "--id")
    row = run_in_transaction(lambda db: users.revoke_api_token(db, SYSTEM, pk))
    typer.echo(f"revoked {to_global_id('ApiToken', row.id)} ({row.name})", err=True)


@customer_app.command("create")
def customer_create(name: str = typer.Option(..., "--name"), country: str = typer.Option(..., "--country"),
                    admin_email: str = typer.Option(..., "--admin-email"),
                    full_admin: bool = typer.Option(True, "--full-admin/--not-full-admin"),
                    extra_admin: list[str] = typer.Option([], "--extra-admin"),
                    purchased: list[ServiceType] = typer.Option([], "--purchased"),
                    managed_by: Optional[str] = typer.Option(None, "--managed-by"),
                    vertical: str = typer.Option("Other", "--vertical")) -> None:
    """Create an existing customer organization; prints its global ID."""
    from server.domain.orgs import directory
    from server.schema.node import to_global_id

    managed_id = decode(managed_by, "Partner", "--managed-by") if managed_by else None
    customer = run_in_transaction(lambda db: directory.create_customer(
        db, name, country, admin_email, full_admin=full_admin, extra_admins=extra_admin, purchased=purchased,
        managed_by=managed_id, vertical=vertical))
    typer.echo(to_global_id("Customer", customer.id))


@clock_app.command("advance")
def clock_advance(days: int = typer.Option(0, "--days", min=0), hours: int = typer.Option(0, "--hours", min=0)) -> None:
    """Move the test clock forward; prints the new now."""
    from server import clock
    from server.settings import get_settings

    if not get_settings().test_clock:
        fail("the test clock is off: set TRIALDESK_TEST_CLOCK=1 (never in production)")
    try:
        now = run_in_transaction(lambda db: clock.advance_by(db, days, hours))
    except ValueError as error:
        fail(str(error))
    typer.echo(now.isoformat())


@app.command("consent-link")
def consent_link(trial: str = typer.Option(..., "--trial", help="the trial's global ID"),
                 email: str = typer.Option(..., "--email", help="a customer admin who got the request")) -> None:
    """Test clock only: print the consent URL that the consent email to EMAIL carries."""
    from sqlalchemy import select

    from server.db.models import ConsentRequest, CustomerUser
    from server.domain.consent import requests as consent
    from server.settings import get_settings

    settings = get_settings()
    if not settings.test_clock:
        fail("consent-link works with the test clock only (TRIALDESK_TEST_CLOCK=1)")
    trial_id = decode(trial, "Trial", "--trial")

    async def work(db):
        request = await db.scalar(select(ConsentRequest).where(ConsentRequest.trial_id == trial_id,
                                                               ConsentRequest.status == "PENDING"))
        if request is None:
            fail("that trial has no consent request waiting for an answer")
        user = await db.scalar(select(CustomerUser).where(CustomerUser.email == email.strip().lower(),
                                                          CustomerUser.customer_id == request.customer_id))
        if user is None:
            fail(f"{email} is not a user of that customer")
        return consent.link_url(settings, request, user.email)

    typer.echo(run_in_transaction(work))


@jobs_app.command("run-due")
def jobs_run_due() -> None:
    """Run everything due now (deadlines, the outbox) until nothing is left, then exit."""
    from jobs.runtime import Runtime
    from jobs.sweep import run_due

    async def main():
        runtime = Runtime.create()
        try:
            return await run_due(runtime)
        finally:
            await runtime.close()

    report = asyncio.run(main())
    typer.echo(f"deadlines={report.deadlines} emails={report.emails} webhooks={report.webhooks} "
               f"failures={len(report.failures)}")
    if report.failures:
        for failure in report.failures:
            typer.echo(f"failed: {failure}", err=True)


@app.command("serve")
def serve(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
          workers: int = typer.Option(1, "--workers", min=1, help="web processes (stateless)")) -> None:
    """Run the web server (uvicorn)."""
    import uvicorn

    uvicorn.run("server.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False, proxy_headers=True)


@app.command("worker")
def worker(burst: bool = typer.Option(False, "--burst", help="run queued work, then exit")) -> None:
    """Run the arq worker: cron sweep every minute (deadlines and outbox)."""
    from arq.worker import run_worker

    from jobs.worker import worker_settings
    from server.settings import get_settings

    url = get_settings().redis_url
    if not url:
        fail("REDIS_URL is not set (`trialdesk run` starts an embedded Redis for you)")
    run_worker(worker_settings(url, burst=burst))  # type: ignore[arg-type]


@app.command("run")
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
        _print_sign_ins(run_in_transaction(seed).created)
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
                child.send_signal(signal.SIGINT)  # a SIGTERM to this process alone reached no child
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


@planner_app.command("report")
def planner_report(url: Optional[str] = typer.Option(None, "--url", help="a running server on this machine, e.g. "
                                                    "http://127.0.0.1:8000: also its counters (/metrics)"),
                   all_fields: bool = typer.Option(False, "--all", help="list every undeclared field")) -> None:
    """Coverage: the schema's fields with a plan declaration; with --url, what a server answered
    through the planner and why operations fell back to the reference path."""
    from server.planner.metrics import coverage
    from server.schema.schema import schema

    declared, undeclared = coverage(schema._schema)
    typer.echo(f"planned fields: {len(declared)} of {len(declared) + len(undeclared)}")
    for field in undeclared if all_fields else []:
        typer.echo(f"  not planned: {field}")
    if url is None:
        return
    import httpx

    try:
        response = httpx.get(url.rstrip("/") + "/metrics", timeout=5)
    except httpx.HTTPError as error:
        fail(f"could not read {url}/metrics: {error}")
    if response.status_code != 200:
        fail(f"{url}/metrics answered {response.status_code} (it answers the machine itself only)")
    for line in response.text.splitlines():
        if line.startswith(("trialdesk_planner_answered_total", "trialdesk_planner_fallbacks_total",
                            "trialdesk_planner_root_fields_total")):
            typer.echo(line.replace("trialdesk_planner_", ""))


from server.cli_usage import usage_app  # noqa: E402 - its commands live beside the domain they call

app.add_typer(usage_app, name="usage")


def main() -> None:
    try:
        app()
    except Exception as error:  # noqa: BLE001 - a CLI answers with a message, never a traceback
        if os.environ.get("TRIALDESK_DEBUG"):
            raise
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
