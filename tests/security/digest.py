"""A digest of every table's rows, to show a request changed nothing (issue 16 item 9).

The fuzzers are synchronous (schemathesis and Hypothesis drive `requests` against the live server),
so `Digests` keeps its own event loop and engine. Left out, as not a change a refused request made:
`api_tokens.last_used_at` (every bearer request records it, whatever the answer) and the audit rows
of denials (R-ROLE-02: a denial is logged, in its own transaction, on purpose)."""
from __future__ import annotations

import asyncio
import hashlib

from sqlalchemy import select

from server.db.engine import make_engine
from server.db.models import Base

IGNORED_COLUMNS = {("api_tokens", "last_used_at")}
DENIAL = "permission.denied"


class Digests:
    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = make_engine(database_url)

    def take(self) -> dict[str, str]:
        """{table: sha256-prefix:row count} of the whole database."""
        return self.loop.run_until_complete(self._take())

    async def _take(self) -> dict[str, str]:
        found = {}
        async with self.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                columns = [c for c in table.columns if (table.name, c.name) not in IGNORED_COLUMNS]
                query = select(*columns)
                if table.name == "audit_events":
                    query = query.where(table.c.action != DENIAL)
                rows = sorted(repr(tuple(row)) for row in await conn.execute(query))
                found[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16] + f":{len(rows)}"
        return found

    def close(self) -> None:
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]
