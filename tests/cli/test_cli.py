"""Issue 3: the `trialdesk` CLI really works, and `make run`'s server starts and answers."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select

from server.db.models import ApiToken
from server.enums import Role
from server.schema.node import decode_id
from tests.conftest import ROOT
from tests.factories import partner_team
from tests.helpers import gql


def cli(*args: str, env: dict | None = None, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for_health(client: httpx.AsyncClient, proc: subprocess.Popen, seconds: float) -> httpx.Response:
    """Poll /healthz until the process serves (or dies, or time runs out)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return await client.get("/healthz")
        except httpx.TransportError:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the server did not start"
            await asyncio.sleep(0.2)


async def test_partner_user_token_customer_create_print_ids(app):
    partner = cli("partner", "create", "--name", "CLI Partner", "--tier", "1")
    assert partner.returncode == 0, partner.stderr
    partner_id = partner.stdout.strip()
    tier2 = cli("partner", "create", "--name", "CLI Tier 2", "--tier", "2", "--distributor", partner_id)
    assert tier2.returncode == 0, tier2.stderr
    user = cli("user", "create", "--partner", partner_id, "--email", "cli.sales@cli.example",
               "--role", "SALES_ADMIN", "--role", "READ_ONLY", "--password", "pw-123456")
    assert user.returncode == 0, user.stderr
    token = cli("token", "create", "--email", "cli.sales@cli.example")
    assert token.returncode == 0 and token.stdout.strip().startswith("td_")
    customer = cli("customer", "create", "--name", "CLI Customer", "--country", "NO", "--admin-email",
                   "admin@clicustomer.example", "--purchased", "MEETINGS", "--managed-by", partner_id)
    assert customer.returncode == 0, customer.stderr
    trials_team = cli("user", "create", "--email", "tt@platform.example", "--role", "TRIALS_TEAM")
    assert trials_team.returncode == 0, trials_team.stderr


@pytest.mark.parametrize("args, message", [
    (("partner", "create", "--name", "X", "--tier", "3"), "--tier"),
    (("partner", "create", "--name", "X", "--distributor", "bogus"), "not a Partner ID"),
    (("user", "create", "--email", "not-an-email", "--role", "READ_ONLY", "--partner", "UGFydG5lcjo5OTk"), "valid email"),
    (("user", "create", "--email", "a@b.example", "--role", "KING"), "KING"),
    (("customer", "create", "--name", "C", "--country", "ZZ", "--admin-email", "a@c.example"), "ISO 3166"),
    (("token", "create", "--email", "nobody@nowhere.example"), "no active user"),
    (("token", "list", "--email", "nobody@nowhere.example"), "no user with email"),
    (("token", "revoke", "--id", "bogus"), "not a ApiToken ID"),
    (("token", "revoke", "--id", "QXBpVG9rZW46OTk5OQ"), "No such API token."),
    (("clock", "advance", "--days", "-1"), "greater than or equal to 0"),
])
async def test_bad_arguments_give_a_clear_message_and_non_zero_exit(app, args, message):
    result = cli(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


async def test_r_role_02_token_list_and_revoke_reach_every_users_tokens(app, client, sessionmaker):
    """`trialdesk token list/revoke`: an operator revokes a trials-team user's token (who has no
    page for it) or a partner user's, by the ID `token list` shows (the API's global ID) or its
    number; the token answers UNAUTHENTICATED on its next request."""
    assert cli("user", "create", "--email", "tt@platform.example", "--role", "TRIALS_TEAM").returncode == 0
    secret = cli("token", "create", "--email", "tt@platform.example", "--name", "ops laptop").stdout.strip()
    assert (await gql(client, "{ viewer { email } }", token=secret))["data"]["viewer"]["email"] == "tt@platform.example"

    listed = cli("token", "list", "--email", "TT@platform.example")
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if "ops laptop" in line)
    token_id = next(word for word in line.split() if decode_id(word, "ApiToken"))
    assert line.count("–") == 1  # used (above), not revoked

    revoked = cli("token", "revoke", "--id", token_id)
    assert revoked.returncode == 0 and f"revoked {token_id} (ops laptop)" in revoked.stderr, revoked.stderr
    body = await gql(client, "{ viewer { email } }", token=secret)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    line = next(line for line in cli("token", "list", "--email", "tt@platform.example").stdout.splitlines()
                if token_id in line)
    assert line.count("–") == 0  # revoked now

    again = cli("token", "revoke", "--id", str(decode_id(token_id, "ApiToken")))
    assert again.returncode == 1 and "error: The token is revoked already." in again.stderr

    team = await partner_team(sessionmaker, roles=[Role.SALES_ADMIN])
    seller = team.tokens[Role.SALES_ADMIN]
    async with sessionmaker() as db:
        seller_id = await db.scalar(select(ApiToken.id).where(ApiToken.user_id == team.user_ids[Role.SALES_ADMIN]))
    assert cli("token", "revoke", "--id", str(seller_id)).returncode == 0
    body = await gql(client, "{ viewer { email } }", token=seller)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_clock_advance_and_jobs_run_due(app):
    result = cli("clock", "advance", "--days", "3")
    assert result.returncode == 0, result.stderr
    assert cli("jobs", "run-due").returncode == 0


def test_clock_advance_is_refused_without_the_test_clock(settings):
    result = cli("clock", "advance", "--days", "1", env={"TRIALDESK_TEST_CLOCK": "0"})
    assert result.returncode == 1 and "test clock is off" in result.stderr


def test_schema_export_writes_sdl(tmp_path, settings):
    result = cli("schema", "export", "--path", str(tmp_path / "s.graphql"))
    assert result.returncode == 0 and "type Query" in (tmp_path / "s.graphql").read_text()


async def test_serve_starts_answers_healthz_and_graphql_then_stops(app):
    """What `make run` starts: a real uvicorn process on a free port."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await wait_for_health(client, proc, seconds=30)
            assert health.status_code == 200 and health.json()["database"] == "ok"
            answer = await client.post("/graphql", json={"query": "{ __typename }"})
            assert answer.json() == {"data": {"__typename": "Query"}}
    finally:
        proc.terminate()
        proc.wait(10)


async def test_run_starts_web_and_worker_and_ctrl_c_stops_everything(app, tmp_path):
    """`make run` = `trialdesk run`: migrate, seed, embedded Redis, web + worker; Ctrl-C stops all."""
    import signal

    port = free_port()
    env = {**os.environ, "REDIS_URL": "", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/run.db"}
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "run", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await wait_for_health(client, proc, seconds=60)
        assert health.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        out, err = proc.communicate(timeout=30)
    text = err.decode()
    assert proc.returncode == 0 and "Traceback" not in text and "Error" not in text, text
    # Issue 27 item 1: only the sign-ins and how to stop on stderr, nothing stray on stdout; the
    # first sign-in can start a trial; each row says what the role may do; one line on stopping.
    assert out == b""
    rows = [line for line in text.splitlines() if "@" in line]
    assert "sales.full@nordlys.example" in rows[0] and "start trials" in rows[0], rows
    assert len(rows) == 6 and all("…" not in row for row in rows), rows
    assert text.rstrip().splitlines()[-1] == "Trialdesk stopped: web server, worker and Redis."
    leftovers = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.strip()
    assert leftovers == "", f"processes left running: {leftovers}"
