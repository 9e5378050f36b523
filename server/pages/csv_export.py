"""Streamed, formula-safe CSV for the portal's exports (the customers list, the audit log).

An export runs its stored GraphQL document page by page through the connection's cursor, so it has
the page's scope exactly and never reads the database itself; rows are streamed as each page
arrives (constant memory: one page at a time). The first page is read before the answer starts, so
a failure then is an ordinary error page, not a cut file.

- UTF-8 with a byte-order mark, so spreadsheet programs read "ø" correctly.
- CSV formula injection: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
  prefixed with an apostrophe (OWASP's advice), so a spreadsheet shows it as text and never runs
  it as a formula; the csv module then quotes cells holding commas, quotes or line breaks.
"""
from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from server.pages import rendering

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: formula-looking text gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def lines(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


Page = Callable[[str | None], Awaitable[dict[str, Any]]]


async def streamed(request: Request, filename: str, header: Callable[[], list[str]],
                   row: Callable[[dict[str, Any]], list[str]], page: Page) -> StreamingResponse:
    """The CSV of every page of a connection: `page(after)` answers one (edges, pageInfo), `row`
    turns a node into its cells (made safe here), in the visitor's language."""
    first = await page(None)
    locale = rendering.use_locale(request)

    async def stream() -> AsyncIterator[str]:
        rendering.use_locale(request)  # the body is produced after the endpoint returned
        yield "\ufeff" + lines([header()])
        connection = first
        while True:
            yield lines([[safe_cell(v) for v in row(edge["node"])] for edge in connection["edges"]])
            if not connection["pageInfo"]["hasNextPage"]:
                return
            connection = await page(connection["pageInfo"]["endCursor"])

    return StreamingResponse(stream(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                      "Content-Language": locale, "Cache-Control": "no-store"})
