"""`trialdesk db …`, `demo seed`, `schema export`: the database's schema, the demo data, the GraphQL SDL."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from server.cli.common import run_in_transaction

db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
demo_app = typer.Typer(no_args_is_help=True, help="Demo data.")
schema_app = typer.Typer(no_args_is_help=True, help="GraphQL schema.")


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
    print_sign_ins(result.created)


def print_sign_ins(created: bool) -> None:
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
