"""Dev-only pages. `/dev/outbox`: the emails the outbox holds, newest first (SPEC §8), so a developer
without an SMTP server sees what would have gone out. Mounted only when TRIALDESK_ENV=dev or test;
it lives outside server/pages because it reads the outbox table directly (no GraphQL type for it).
"""
from __future__ import annotations

from html import escape

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from server.db.models import OutboxEmail
from server.domain.notifications.outbox import read_at_send, rendered

LIMIT = 200
#: An email's HTML is styled inline (mail clients need it) and its srcdoc frame inherits the page's
#: policy: this dev page relaxes style-src only (server.middleware keeps every other header).
EMAIL_PREVIEW_POLICY = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _status(row: OutboxEmail) -> str:
    if row.sent_at:
        return f"sent {row.sent_at:%Y-%m-%d %H:%M}"
    if row.failed_at:
        return f"failed: {row.last_error or ''}"
    return f"queued (attempts {row.attempts})" + (f": {row.last_error}" if row.last_error else "")


async def outbox_page(request: Request) -> Response:
    """The latest emails; `?id=N` shows one with its text and HTML bodies."""
    async with request.app.state.sessionmaker() as db:
        if request.query_params.get("id", "").isdigit():
            row = await db.get(OutboxEmail, int(request.query_params["id"]))
            if row is None:
                return HTMLResponse("<p>No such email.</p>", status_code=404)
            # the sweep's rows are rendered when sent: here, on read, with what the sender reads (R-USE-06)
            subject, text, html = rendered(row, at_send=await read_at_send(db, [row]))
            return HTMLResponse(
                f"<!doctype html><title>{escape(subject)}</title><p><a href='/dev/outbox'>&larr; Outbox</a></p>"
                f"<h1>{escape(subject)}</h1><p>To {escape(row.recipient)} · {escape(row.kind)} · {escape(row.locale)}"
                f" · {escape(row.message_id)} · {escape(_status(row))}</p><pre>{escape(text)}</pre>"
                f"<iframe sandbox style='width:100%;height:480px' srcdoc=\"{escape(html or '')}\"></iframe>",
                headers={"Content-Security-Policy": EMAIL_PREVIEW_POLICY})
        rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(LIMIT)))
    items = "".join(
        f"<tr><td>{r.id}</td><td>{r.created_at:%Y-%m-%d %H:%M}</td><td>{escape(r.recipient)}</td>"
        f"<td>{escape(r.kind)}</td><td>{escape(r.locale)}</td><td><a href='/dev/outbox?id={r.id}'>{escape(rendered(r)[0])}</a></td>"
        f"<td>{escape(_status(r))}</td></tr>" for r in rows)
    return HTMLResponse("<!doctype html><html><head><meta charset='utf-8'><title>Outbox</title></head><body>"
                        "<h1>Outbox (dev)</h1><table><thead><tr><th>#</th><th>Queued</th><th>To</th><th>Kind</th>"
                        f"<th>Locale</th><th>Subject</th><th>Status</th></tr></thead><tbody>{items}</tbody></table>"
                        "</body></html>")


def routes(env: str) -> list[Route]:
    return [Route("/dev/outbox", outbox_page)] if env in ("dev", "test") else []
