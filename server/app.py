"""Starlette app factory: routes, middleware, lifespan."""
from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from server import clock
from server import devtools
from server import graphql_bearer
from server import graphql_http as gql
from server import graphql_limits
from server import ingest
from server import persisted
from server.auth import consent_link
from server.auth import pages as auth_pages
from server.auth.authenticate import token_check
from server.auth.middleware import AuthMiddleware, graphql_actor
from server.domain.core.actor import ActorKind
from server.db.engine import (
    close_read_pool, make_engine, make_read_sessionmaker, make_sessionmaker, open_read_pool, read_connection,
    read_engine,
)
from server.logging import configure as configure_logging
from server.middleware import RequestIdMiddleware, SecurityHeadersMiddleware
from server.pages import guard, rendering
from server import logos
from server.pages import audit_log as audit_log_pages
from server.pages import email_texts as email_text_pages
from server.pages import partner_settings as partner_settings_pages
from server.pages import settings as settings_pages
from server.pages import webhooks as webhook_pages
from server.pages.routes import routes as page_routes
from server.planner.execute import Reading
from server.planner.run import Planner
from server.schema.context import Context
from server.settings import Settings, get_settings

WEB = Path(__file__).resolve().parent.parent / "web"
log = structlog.get_logger("app")


async def healthz(request: Request) -> JSONResponse:
    """200 when the database and Redis answer; 503 naming the one that does not."""
    checks: dict[str, str] = {}
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "down"
        checks["database"] = f"down: {type(error).__name__}"
    try:
        await request.app.state.redis.ping()
        checks["redis"] = "ok"
    except Exception as error:  # noqa: BLE001
        checks["redis"] = f"down: {type(error).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if healthy else "unavailable", **checks}, status_code=200 if healthy else 503)


async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico on documents that name no icon (a CSV, JSON): not a 404."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


async def page_not_found(request: Request, exc: Exception) -> Response:
    """An unknown URL: a browser gets the not-found page in the portal's frame, anything else plain text."""
    if request.url.path.startswith(("/static/", "/graphql")) or "text/html" not in request.headers.get("accept", ""):
        return Response("Not Found", status_code=404, media_type="text/plain")
    rendering.use_locale(request)
    return await guard.not_found(request)


async def metrics(request: Request) -> Response:
    """The planner's counters in Prometheus text, for the machine itself only (server.planner.metrics)."""
    from server.planner import metrics as planner_metrics

    if not planner_metrics.readable(request.client.host if request.client else None, request.headers):
        return Response("Not Found", status_code=404, media_type="text/plain")
    return Response(planner_metrics.prometheus(request.app.state.planner, request.app.state.graphql_schema),
                    media_type="text/plain; version=0.0.4")


async def graphql_endpoint(request: Request) -> Response:
    try:
        return await _graphql(request)
    finally:
        # A bearer token is checked (and its last use recorded) on every request, as AuthMiddleware does
        # elsewhere: also when the answer needed no actor (a malformed request, GraphiQL, 406).
        if request.scope["state"].get("bearer_token") is not None:
            await graphql_actor(request)


async def _graphql(request: Request) -> Response:
    state = request.app.state
    media_type = gql._media_type(request)
    if request.method == "GET" and "text/html" in request.headers.get("accept", "") \
            and "query" not in request.query_params and state.settings.is_dev:
        return gql.graphiql_page(request.scope.get("state", {}).get("csrf_token") or "")
    if media_type is None:
        return gql.respond({"errors": [{"message": "Accept application/graphql-response+json or application/json."}]},
                           406, gql.JSON)
    try:
        requested = await gql.read_params(request, await _body_limit(request))
        params = await persisted.resolve(requested, state.redis, state.stored_documents)
        query, variables, name = gql.check_params(params)
    except persisted.PersistedQueryError as error:
        status = 400 if media_type == gql.GRAPHQL_RESPONSE else 200
        return gql.respond({"errors": [error.error]}, status, media_type)
    except gql.RequestError as error:
        status = error.status if (media_type == gql.GRAPHQL_RESPONSE or error.status != 400) else 400
        return gql.respond({"errors": error.errors}, status, media_type, error.headers)
    response = await _answer(request, query, variables, name, media_type)
    await _register(request, requested, query)
    return response


async def _register(request: Request, requested: dict, query: str) -> None:
    """A persisted query's text is kept after the answer, and only a signed-in caller's valid document
    (server.persisted.register): an anonymous request stores nothing."""
    if persisted.requested_hash(requested) is None:  # no persistedQuery extension (checked by `resolve`)
        return
    state, scope = request.app.state, request.scope["state"]
    actor = scope.get("actor") if scope.get("bearer_token") is None else None
    await persisted.register(requested, state.redis, state.stored_documents,
                             valid=state.documents.get(query)[0] is not None,
                             signed_in=actor is not None and actor.kind is not ActorKind.ANONYMOUS,
                             max_chars=gql.MAX_QUERY_CHARS)


async def _answer(request: Request, query: str, variables, name: str | None, media_type: str) -> Response:
    state = request.app.state
    request_id = request.scope.get("state", {}).get("request_id")
    await _refresh_clock(state)
    scope = request.scope.get("state", {})
    known = scope.get("actor") if scope.get("bearer_token") is None else None  # a token is checked on the read
    prepared = gql.prepare(state.planner, state.documents, query, name, known, variables)
    answer = None
    if prepared.planned:  # root fields declared plannable (server.planner): one statement
        answer = await _run_planned(request, (prepared.document, prepared.operation), query, variables, name,
                                    request_id)
        if answer is not None and answer.complete:
            return gql.respond(gql.planned_body(answer, state.settings.env != "production", request_id), 200,
                               media_type)
    # AuthMiddleware: session cookie (CSRF checked there), or the bearer token it left to this endpoint
    actor = await graphql_actor(request)
    context = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=actor, request=request,
                      redis=state.redis, request_id=request_id)
    status, body, headers = await gql.run(state.graphql_schema, state.documents, context, query, variables, name,
                                          method=request.method, expose_errors=state.settings.env != "production",
                                          planned=answer, prepared=prepared)
    if status == 405:
        return gql.respond(body, 405, media_type, headers)
    if media_type == gql.JSON:
        status = 200
    return gql.respond(body, status, media_type, headers)


async def _body_limit(request: Request) -> int:
    """How much of the body `/graphql` reads: 1 MiB for a signed-in caller, 16 KiB otherwise. A bearer
    token is checked before a larger body is read (and its variables walked); a small request's token
    is checked later, on the planned statement's connection (one checkout per request)."""
    state = request.scope["state"]
    if state.get("bearer_token") is not None:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) <= gql.MAX_ANONYMOUS_BODY_BYTES:
            return gql.MAX_ANONYMOUS_BODY_BYTES
        actor = await graphql_actor(request)
    else:
        actor = state.get("actor")
    signed_in = actor is not None and actor.kind is not ActorKind.ANONYMOUS
    return gql.MAX_BODY_BYTES if signed_in else gql.MAX_ANONYMOUS_BODY_BYTES


async def _run_planned(request: Request, planned: tuple, query: str, variables, name: str | None,
                       request_id: str | None):
    """What the planner answered (server.planner.run.Answer, or None: the reference path answers),
    with a bearer token checked on the same read connection as the planned statement: one checkout
    per request, and one round trip when the token gave an actor on its last request (its row is read
    in the planner's statement, built for that actor: server.auth.authenticate.TokenCheck; the answer is
    kept only when the row still gives that actor). A caller known already (a session, signed out)
    checks out only when the planner reads (`execute.one_row`): an operation of constants makes none."""
    state = request.app.state
    if request.scope.get("state", {}).get("bearer_token") is None:
        reading = Reading(sessionmaker=state.read_sessionmaker, settings=state.settings,
                          actor=await graphql_actor(request), request=request, redis=state.redis,
                          request_id=request_id, write_sessionmaker=state.sessionmaker)
        return await gql.run_planned(state.planner, planned, reading, query, variables, name)
    async with read_connection(state.read_engine) as connection:
        check = token_check(request.scope["state"]["bearer_token"])
        if check is not None:  # the statement built for the token's last actor, its row read with it
            reading = Reading(sessionmaker=state.read_sessionmaker, settings=state.settings, actor=check.guess,
                              request=request, redis=state.redis, request_id=request_id, connection=connection,
                              token=check, write_sessionmaker=state.sessionmaker)
            answer = await gql.run_planned(state.planner, planned, reading, query, variables, name)
            if await graphql_actor(request, connection, check) == check.guess:
                return answer
        actor = await graphql_actor(request, connection)  # read first (or read above: another actor now)
        reading = Reading(sessionmaker=state.read_sessionmaker, settings=state.settings, actor=actor,
                          request=request, redis=state.redis, request_id=request_id, connection=connection,
                          write_sessionmaker=state.sessionmaker)
        return await gql.run_planned(state.planner, planned, reading, query, variables, name)


async def _refresh_clock(state) -> None:
    if clock.enabled():
        async with state.sessionmaker() as db:
            await clock.refresh(db)


def settle_memory() -> None:
    """After start-up: start-up objects (schema, documents, mappers, templates) live forever, so
    move them out of every later collection (`gc.freeze()`). The collection thresholds stay the
    default: raising them (5000 or 20000 for generation 0) changed neither p50 nor p95 of a
    customers page beyond noise, only traded many short pauses for fewer long ones (bench.customers)."""
    gc.collect()
    gc.freeze()


class Trialdesk(Starlette):
    """Starlette with the security headers outermost: Starlette puts its ServerErrorMiddleware (the
    500 answer) outside every `add_middleware` one, so a header middleware added that way would miss 500s."""

    production: bool = False
    #: POST /graphql with a bearer token answered by server.graphql_bearer (the stack's work in one frame),
    #: while the middleware is exactly what it reproduces
    bearer_path: bool = False

    def build_middleware_stack(self):
        self.bearer_path = [m.cls for m in self.user_middleware] == [RequestIdMiddleware, AuthMiddleware]
        return SecurityHeadersMiddleware(super().build_middleware_stack(), production=self.production)

    async def __call__(self, scope, receive, send) -> None:
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        token = graphql_bearer.bearer_token(scope) if self.bearer_path else None
        if token is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await graphql_bearer.answer(self.middleware_stack, graphql_endpoint, token, scope, receive, send)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    configure_logging(settings.env)
    clock.configure(settings.test_clock)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        from server.schema.schema import schema

        app.state.settings = settings
        app.state.engine = make_engine(settings.database_url)
        app.state.sessionmaker = make_sessionmaker(app.state.engine)
        app.state.read_engine = read_engine(app.state.engine)  # autocommit reads: auth, the planner
        app.state.read_sessionmaker = make_read_sessionmaker(app.state.engine)
        open_read_pool(app.state.engine)  # asyncpg connections for the token lookup and the planner
        embedded = None
        redis_url = settings.redis_url
        if not redis_url:
            from server.embedded_redis import EmbeddedRedis

            embedded = EmbeddedRedis()
            redis_url = embedded.url
        # Connect lazily: a Redis that is down must not stop the web app (healthz says so).
        app.state.redis = ArqRedis(connection_pool=ConnectionPool.from_url(redis_url, socket_connect_timeout=2),
                                   default_queue_name=settings.queue_name)
        app.state.graphql_schema = schema._schema
        app.state.documents = gql.DocumentCache(schema._schema, rules=graphql_limits.rules(settings.introspection_enabled),
                                                suggestions=settings.env != "production")
        from server.pages.operations import read_operations

        operations = read_operations()
        app.state.stored_documents = {persisted.sha256(text): text for text in operations.values()}
        # The read planner (server.planner) on PostgreSQL; SQLite and TRIALDESK_COMPILED_OPERATIONS=0
        # keep the reference path for everything.
        app.state.planner = (Planner(schema._schema) if settings.compiled_operations
                             and app.state.engine.dialect.name == "postgresql" else None)
        settle_memory()
        log.info("started", database=settings.database_url.split("@")[-1], env=settings.env)
        try:
            yield
        finally:
            await app.state.redis.aclose()
            await close_read_pool(app.state.engine)
            await app.state.engine.dispose()
            if embedded:
                embedded.stop()

    routes = [
        Route("/healthz", healthz),
        Route("/favicon.ico", favicon),
        Route("/metrics", metrics),
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
        *ingest.routes,
        *auth_pages.routes,
        *settings_pages.routes,
        *webhook_pages.routes,
        *partner_settings_pages.routes,
        *audit_log_pages.routes,
        *email_text_pages.routes,
        *logos.routes,
        *page_routes(),
        *consent_link.routes,
        *devtools.routes(settings.env),
        Mount("/static", StaticFiles(directory=str(WEB / "static")), name="static"),
    ]
    app = Trialdesk(routes=routes, lifespan=lifespan, exception_handlers={404: page_not_found})
    app.production = settings.env == "production"
    app.add_middleware(AuthMiddleware)
    app.add_middleware(RequestIdMiddleware)
    return app
