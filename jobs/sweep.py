"""Everything due now: deadlines, then the outbox. Shared by the arq cron job and `trialdesk jobs run-due`."""
from __future__ import annotations

from dataclasses import dataclass, field

from jobs.runtime import Runtime


@dataclass
class SweepReport:
    deadlines: int = 0
    emails: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.deadlines + self.emails


async def run_due(runtime: Runtime) -> SweepReport:
    """Apply due deadlines and flush the outbox until nothing is left. (Handlers land with issue 6.)"""
    return SweepReport()
