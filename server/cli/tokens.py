"""`trialdesk token create|list|revoke`: API tokens of any user (R-ROLE-02, R-ROLE-05)."""
from __future__ import annotations

import sys

import typer

from server.cli.common import decode, fail, run_in_transaction

token_app = typer.Typer(no_args_is_help=True, help="API tokens.")


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
