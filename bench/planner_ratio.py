"""The planner against the reference path over the property test's generated queries (issue 25): is
any query slower planned than field by field?

The queries are tests/planner/test_property.py's generator's (derandomized: the same every run,
TRIALDESK_BENCH_EXAMPLES of them), over its arrangement (three partners, customers with everything
and with nothing, shipments with return mismatches), each for one actor of Alpha's, one of Beta's and
one of everyone else (the signed-out caller too), plus the stored page documents for the roles. Each
(query, actor) runs the planned path as `/graphql` runs it (the planner answers the root fields it
can, the reference path the others, merged) and the reference path alone, interleaved,
TRIALDESK_BENCH_REPEATS times each, in-process on PostgreSQL (no HTTP: both would pay it alike); the
ratio is the planned path's fastest call over the reference's (the cost with the least interference
from a shared machine: single sub-millisecond calls jump 10-30× under load, medians with them). The answers are checked equal first. It
prints the worst ratios with their queries, and how many are above 1.0. Target (issue 25): the
worst ≤ 1.0.

    uv run python -m bench planner_ratio
    TRIALDESK_BENCH_EXAMPLES=40 TRIALDESK_BENCH_REPEATS=5 uv run python -m bench planner_ratio

Needs PostgreSQL (TRIALDESK_BENCH_PG) and Redis (TRIALDESK_BENCH_REDIS); a throw-away database.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid

import orjson

from bench.customers_page import PG, REDIS

EXAMPLES = int(os.environ.get("TRIALDESK_BENCH_EXAMPLES", "100"))
REPEATS = int(os.environ.get("TRIALDESK_BENCH_REPEATS", "9"))


def _examples() -> list[tuple[str, tuple[int, ...]]]:
    """The property test's generated (query template, actors) pairs, derandomized."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    from tests.planner.test_property import query

    found: list[tuple[str, tuple[int, ...]]] = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(template=query(), actors=st.tuples(*[st.integers(0, 100)] * 3))
    def collect(template: str, actors: tuple[int, ...]) -> None:
        found.append((template, actors))

    collect()
    return found


async def _paths(app, documents, actor, text: str, variables: dict) -> tuple[float, float, bytes, bytes, str]:
    """(planned seconds, reference seconds, their bodies, how the planner took it) for one call each."""
    from graphql import get_operation_ast

    from server import graphql_http
    from server.schema.context import Context

    state = app.state
    planner = state.planner
    document, _ = documents.get(text)
    operation = get_operation_ast(document, "Q")

    async def reference(planned=None) -> dict:
        context = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=actor)
        _, body, _ = await graphql_http.run(documents.schema, documents, context, text, variables, "Q",
                                            expose_errors=True, planned=planned)
        return body

    started = time.perf_counter()
    context = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=actor)
    try:
        answer = await planner.run(context, text, document, operation, variables, "Q")
    finally:
        await context.close()
    if answer is None:
        planned, how = await reference(), "reference"
    elif answer.complete:
        planned, how = {"data": answer.data}, "planned"
    else:
        planned, how = await reference(answer), "partial"
    middle = time.perf_counter()
    body = await reference()
    ended = time.perf_counter()
    return middle - started, ended - middle, orjson.dumps(planned), orjson.dumps(body), how


async def _measure(app) -> None:
    from server import graphql_http
    from server.pages.operations import read_operations
    from tests.planner.test_property import SCHEMA, _bench

    bench = await _bench(app, app.state.sessionmaker)
    documents = graphql_http.DocumentCache(SCHEMA)
    cases = []
    for template, actors in _examples():
        text = bench.text(template)
        if documents.get(text)[0] is None:
            continue
        for group, index in zip(bench.groups, actors, strict=True):
            cases.append((text, group[index % len(group)], {"yes": index % 2 == 0, "no": index % 3 == 0}))
    stored = read_operations()
    for name in ("CustomersPage",):
        text = stored[name].replace(f"query {name}", "query Q", 1)
        for group in bench.groups:
            cases.append((text, group[0], {}))
    results = []
    differ = 0
    for text, actor, variables in cases:
        planned_times, reference_times = [], []
        how = ""
        for _ in range(REPEATS):
            planned, reference, planned_body, body, how = await _paths(app, documents, actor, text, variables)
            if planned_body != body:
                differ += 1
                break
            planned_times.append(planned)
            reference_times.append(reference)
        if planned_times:
            planned, reference = min(planned_times), min(reference_times)
            results.append((planned / reference, how, planned * 1e3, reference * 1e3, actor, text))
    results.sort(key=lambda r: r[0], reverse=True)
    ratios = [r[0] for r in results]
    kinds = {how: sum(1 for r in results if r[1] == how) for how in ("planned", "partial", "reference")}
    print(f"{len(results)} (query, actor) pairs from {EXAMPLES} generated queries + the CustomersPage document, "
          f"{REPEATS} calls each per path, interleaved; answered: {kinds}; different answers: {differ}")
    print(f"planned/reference ratio (fastest calls): median {statistics.median(ratios):.2f}, "
          f"above 1.0: {sum(1 for r in ratios if r > 1.0)}, worst {ratios[0]:.2f} "
          f"(target ≤ 1.0: {'met' if ratios[0] <= 1.0 else 'NOT met'})")
    print("worst five:")
    for ratio, how, planned, reference, actor, text in results[:5]:
        who = actor.kind.value + (f" partner {actor.partner_id}" if actor.partner_id else "")
        print(f"  {ratio:.2f} ({how}: {planned:.2f} ms vs {reference:.2f} ms, {who}): {text[:300]}")


async def run() -> None:
    import asyncpg

    from server.app import create_app
    from server.db import migrate
    from server.settings import Settings

    admin_dsn = PG.replace("postgresql+asyncpg", "postgresql")
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as error:
        print(f"PostgreSQL not reachable at {PG} ({error}): bench.planner_ratio skipped")
        return
    name = f"td_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = PG.rsplit("/", 1)[0] + "/" + name
        await asyncio.to_thread(migrate.upgrade, url)
        settings = Settings(DATABASE_URL=url, REDIS_URL=REDIS, TRIALDESK_ENV="test", TRIALDESK_TEST_CLOCK="1",
                            SECRET_KEY="bench-" + "x" * 40, TRIALDESK_QUEUE=f"bench-{name}")
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await _measure(app)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
