"""`trialdesk clock advance`, `consent-link` (test clock only) and `jobs run-due`: time moved by hand and
everything due run now."""
from __future__ import annotations

import asyncio

import typer

from server.cli.common import decode, fail, run_in_transaction

clock_app = typer.Typer(no_args_is_help=True, help="The test clock (TRIALDESK_TEST_CLOCK=1 only).")
jobs_app = typer.Typer(no_args_is_help=True, help="Background work.")


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
