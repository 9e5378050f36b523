"""`trialdesk usage …` (SPEC §10): import the platform's NDJSON report from a file, simulate usage.

Both go through the platform's ingest (server.domain.usage.ingest), as `POST /ingest/usage` does,
as the operator (SYSTEM): a summary on stdout, each rejected line on stderr, exit 1 if any line was
rejected or the file is over the limits (16 MiB, 50,000 lines; then nothing is stored).
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Optional

import typer

usage_app = typer.Typer(no_args_is_help=True, help="Usage reported by the platform (SPEC §10).")

CHUNK = 1 << 16


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


async def _chunks(source: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in source:
        yield chunk


def _file_chunks(path: Path) -> Iterable[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _run(make_source) -> None:
    """Ingest `make_source(db)`'s chunks as the operator and print the report."""
    from jobs.runtime import Runtime
    from server import clock
    from server.domain.core.actor import SYSTEM
    from server.domain.usage import ingest
    from server.ingest import decode_org

    async def main():
        runtime = Runtime.create()
        try:
            async with runtime.sessionmaker() as db:
                await clock.refresh(db)
                source = await make_source(db)
            return await ingest.ingest(runtime.sessionmaker, SYSTEM, _chunks(source), decode_org)
        finally:
            await runtime.close()

    try:
        report = asyncio.run(main())
    except ingest.TooLarge as error:
        _fail(f"{error} Nothing was stored.")
    except OSError as error:
        _fail(str(error))
    typer.echo(f"accepted {report.accepted} rejected {len(report.rejected)}")
    for rejection in report.rejected:
        typer.echo(f"line {rejection.line}: {rejection.code} {rejection.field or '-'}: {rejection.message}", err=True)
    if report.rejected:
        raise typer.Exit(1)


@usage_app.command("import")
def usage_import(file: Path = typer.Argument(..., help="an NDJSON file, one usage line a line (DESIGN)")) -> None:
    """Import a usage report from an NDJSON file, as POST /ingest/usage does."""
    if not file.is_file():
        _fail(f"no such file: {file}")

    async def source(db):
        return _file_chunks(file)

    _run(source)


@usage_app.command("simulate")
def usage_simulate(customer: str = typer.Option(..., "--customer", help="the customer's global ID"),
                   days: int = typer.Option(30, "--days", min=1, max=400),
                   users: int = typer.Option(20, "--users", min=1, max=5000),
                   activity: float = typer.Option(0.6, "--activity", min=0.0, max=1.0),
                   service: Optional[list[str]] = typer.Option(None, "--service",
                                                               help="default: the services of its latest trial")) -> None:
    """Write believable usage for a customer through the ingest path (developers)."""
    from sqlalchemy import select

    from server import clock
    from server.db.models import Trial, TrialService
    from server.domain.usage import simulate
    from server.ingest import decode_org

    org_id = decode_org(customer)
    if org_id is None:
        _fail(f"--customer: '{customer}' is not a Customer ID")

    async def source(db):
        services = list(service or [])
        if not services:
            trial_id = await db.scalar(select(Trial.id).where(Trial.customer_id == org_id).order_by(Trial.id.desc()))
            services = list(await db.scalars(select(TrialService.service).where(
                TrialService.trial_id == trial_id, TrialService.removed_at.is_(None)))) if trial_id else []
        return simulate.lines(customer, org_id, clock.today(), days=days, users=users,
                              services=services or ["MESSAGING", "MEETINGS"], activity=activity)

    _run(source)
