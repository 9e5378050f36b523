"""What every command group shares: a clear message and a non-zero exit on bad input, one
transaction per command (DomainErrors become that message), global IDs or their numbers."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from server.domain.core.errors import DomainError

T = TypeVar("T")


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def run_in_transaction(work: Callable[..., Awaitable[T]]) -> T:
    """Run `work(db)` in one transaction; DomainErrors become a clear message and exit 1."""
    from jobs.runtime import Runtime

    async def main() -> T:
        runtime = Runtime.create()
        try:
            async with runtime.sessionmaker() as db, db.begin():
                from server import clock

                await clock.refresh(db)
                return await work(db)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except DomainError as error:
        fail("; ".join(e.message for e in error.errors))
    except (OSError, ConnectionError) as error:
        fail(f"cannot reach the database: {error}")
    raise AssertionError("unreachable")


def decode(global_id: str, type_name: str, option: str) -> int:
    from server.schema.node import decode_id

    pk = decode_id(global_id, type_name)
    if pk is None:
        if global_id.isdigit():
            return int(global_id)
        fail(f"{option}: '{global_id}' is not a {type_name} ID")
    return pk  # type: ignore[return-value]
