"""`trialdesk planner report`: which fields the read planner answers, and what a server fell back on."""
from __future__ import annotations

from typing import Optional

import typer

from server.cli.common import fail

planner_app = typer.Typer(no_args_is_help=True, help="The read planner.")


@planner_app.command("report")
def planner_report(url: Optional[str] = typer.Option(None, "--url", help="a running server on this machine, e.g. "
                                                    "http://127.0.0.1:8000: also its counters (/metrics)"),
                   all_fields: bool = typer.Option(False, "--all", help="list every undeclared field")) -> None:
    """Coverage: the schema's read fields with a plan declaration, the root fields left to the reference
    path and why; with --url, what a server answered through the planner and why root fields fell
    back to the reference path."""
    from server.planner.metrics import coverage, why_not
    from server.schema.schema import schema

    declared, undeclared = coverage(schema._schema)
    typer.echo(f"planned fields: {len(declared)} of {len(declared) + len(undeclared)}")
    reasons = why_not(undeclared, schema._schema)
    for field in [f for f in undeclared if f.startswith("Query.")]:
        typer.echo(f"  left to the reference path: {field}: {reasons[field]}")
    under: dict[str, list[str]] = {}
    for field in [f for f in undeclared if not f.startswith("Query.")]:
        if reasons[field].startswith("only under "):
            under.setdefault(reasons[field], []).append(field)
        else:
            typer.echo(f"  left to the reference path: {field}: {reasons[field]}")
    for reason, fields in under.items():  # the types of the root fields above: they go with them
        listed = ": " + ", ".join(fields) if all_fields else " (--all lists them)"
        typer.echo(f"  {len(fields)} field(s) {reason}{listed}")
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
                            "trialdesk_planner_root_fields_total", "trialdesk_planner_refusals_total")):
            typer.echo(line.replace("trialdesk_planner_", ""))
