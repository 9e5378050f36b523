"""`trialdesk …`: admin and operations commands, one module per command group. Output for scripts on
stdout, messages on stderr, a non-zero exit on bad input."""
from __future__ import annotations

import os
import sys

import typer

from server.cli import clock, database, orgs, planner, processes, tokens, usage

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Trialdesk: trial management for Webex partners.")
for group, name in [(database.db_app, "db"), (database.demo_app, "demo"), (database.schema_app, "schema"),
                    (orgs.partner_app, "partner"), (orgs.user_app, "user"), (tokens.token_app, "token"),
                    (orgs.customer_app, "customer"), (clock.clock_app, "clock"), (clock.jobs_app, "jobs"),
                    (planner.planner_app, "planner"), (usage.usage_app, "usage")]:
    app.add_typer(group, name=name)
for command, name in [(processes.serve, "serve"), (processes.worker, "worker"), (processes.run, "run"),
                      (clock.consent_link, "consent-link")]:
    app.command(name)(command)


def main() -> None:
    try:
        app()
    except Exception as error:  # noqa: BLE001 - a CLI answers with a message, never a traceback
        if os.environ.get("TRIALDESK_DEBUG"):
            raise
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
