"""POST/GET /graphql following the GraphQL-over-HTTP spec.

- `application/graphql-response+json` (when the client accepts it): 400 for request errors
  (unparsable body, parse, validation, operation selection, variable coercion); 200 otherwise.
- `application/json` (legacy clients): 200 with `errors` for GraphQL errors, 400 only for a body
  that is not a GraphQL request at all.
- Queries over GET; mutations only over POST (405 with `Allow: POST`).
- Documents are parsed and validated once per distinct text (LRU caches): a page's stored
  document costs nothing after its first use.
- The root fields of a query the read planner can answer (server.planner: their selections declared
  plannable), sent as text or by its persisted SHA-256, run as one SQL statement: the same actor
  (bearer token or session), the same variables; the root fields it hands back (undeclared fields, a
  field with an unplannable selection) run through the reference path below, and the answer merges
  both in the document's order, with the errors the planner answers some root fields with (a
  signed-out caller, a bad cursor, an object out of reach: as the reference answers them) in
  graphql-core's order; when the planner fails, the reference path answers the whole query. server.app checks a bearer token and
  runs the planner's statement on one asyncpg connection of the read pool
  (server.db.engine.read_connection): one checkout per request, like the floor.
"""
from __future__ import annotations

import asyncio
import html
import re
from collections import OrderedDict
from typing import Any, NamedTuple

import orjson
import structlog
from graphql import (
    DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, OperationType, execute, get_operation_ast,
    parse, validate,
)
import graphql.execution.executor as graphql_executor
from graphql.execution.values import get_variable_values
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server.schema.context import Context


async def _gather_settled(*awaitables: Any) -> list[Any]:
    """graphql-core's `gather_with_cancel`, without the cancel: sibling fields run to their end and
    then the first failure (in field order) propagates. graphql-core 3.3 cancels the siblings of a
    failed field, and a sibling cancelled in the middle of a statement on the request's read session
    breaks that connection (asyncpg closes it; a session could stay idle in a transaction holding
    locks). Same answers, a few milliseconds more on an error. tests/security/test_sibling_cancel.py"""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


graphql_executor.gather_with_cancel = _gather_settled

log = structlog.get_logger("graphql")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_QUERY_CHARS = 100_000
#: A request body's limit: 1 MiB with credentials; 16 KiB without (signed out, a caller may run only
#: `__typename` and the catalog queries) — checked before anything else reads it.
MAX_BODY_BYTES = 1 << 20
MAX_ANONYMOUS_BODY_BYTES = 16 << 10
#: Variables' shape, checked before they are coerced (graphql-core recurses per level and walks every
#: item): nesting depth, items in one list, values in all.
MAX_VARIABLE_DEPTH = 16
MAX_LIST_ITEMS = 1000
MAX_VARIABLE_VALUES = 20_000


#: graphql-core's " Did you mean 'x'?" ending: in production it would spell out the schema's field,
#: argument and enum names to anyone who guesses near them, with introspection off.
SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


def without_suggestion(error: GraphQLError) -> GraphQLError:
    return GraphQLError(SUGGESTION.sub("", error.message), error.nodes, error.source, error.positions, error.path,
                        error.original_error, error.extensions)


class DocumentCache:
    """Parsed and validated documents by their text; validation errors cached too (without field
    suggestions when `suggestions` is off: production)."""

    def __init__(self, schema: GraphQLSchema, rules: list | None = None, size: int = 512,
                 suggestions: bool = True) -> None:
        self.schema = schema
        self.rules = rules
        self.size = size
        self.suggestions = suggestions
        self._docs: OrderedDict[str, tuple[DocumentNode | None, list[GraphQLError]]] = OrderedDict()

    def get(self, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
        hit = self._docs.get(query)
        if hit is not None:
            self._docs.move_to_end(query)
            return hit
        try:
            document = parse(query, max_tokens=5000)
        except GraphQLError as error:
            entry: tuple[DocumentNode | None, list[GraphQLError]] = (None, [error])
        else:
            rules = None if self.rules is None else [*__import__("graphql").specified_rules, *self.rules]
            errors = validate(self.schema, document, rules)
            if not self.suggestions:
                errors = [without_suggestion(e) for e in errors]
            entry = (None if errors else document, list(errors))
        self._docs[query] = entry
        if len(self._docs) > self.size:
            self._docs.popitem(last=False)
        return entry


class RequestError(Exception):
    """The request is not a GraphQL request we can execute (answered before execution)."""

    def __init__(self, status: int, errors: list[dict[str, Any]], headers: dict[str, str] | None = None):
        self.status = status
        self.errors = errors
        self.headers = headers or {}


#: Accept header -> the media type it picks: clients send one of a few headers, parsed once each
#: (emptied when it passes 256 entries, so a caller varying it holds no more memory).
_ACCEPTED: dict[str, str | None] = {}


def _media_type(request: Request) -> str | None:
    accept = request.headers.get("accept", "")
    try:
        return _ACCEPTED[accept]
    except KeyError:
        pass
    picked = _accepted(accept)
    if len(_ACCEPTED) >= 256:
        _ACCEPTED.clear()
    _ACCEPTED[accept] = picked
    return picked


def _accepted(accept: str) -> str | None:
    if not accept:
        return JSON
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE in types:
        return GRAPHQL_RESPONSE
    if JSON in types or "*/*" in types or "application/*" in types:
        return JSON
    return None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes (by its Content-Length,
    or while it streams in): an oversized body is never held whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, [{"message": f"The request body is over {limit} bytes."}])
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, [{"message": f"The request body is over {limit} bytes."}])
        chunks.append(chunk)
    return b"".join(chunks)


async def read_params(request: Request, body_limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    if request.method == "GET":
        q = request.query_params
        params: dict[str, Any] = {"query": q.get("query"), "operationName": q.get("operationName")}
        for key in ("variables", "extensions"):
            if q.get(key):
                try:
                    params[key] = orjson.loads(q[key])
                except orjson.JSONDecodeError:
                    raise RequestError(400, [{"message": f"`{key}` is not valid JSON."}])
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise RequestError(415, [{"message": "Send the request body as application/json."}])
    raw = await read_body(request, body_limit)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestError(400, [{"message": "The request body is not valid JSON."}])
    if not isinstance(body, dict):
        raise RequestError(400, [{"message": "The request body must be a JSON object."}])
    return body


def check_params(params: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    query, variables, name = params.get("query"), params.get("variables"), params.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise RequestError(400, [{"message": "`query` must be a non-empty string."}])
    if len(query) > MAX_QUERY_CHARS:
        raise RequestError(400, [{"message": "The query is too long."}])
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, [{"message": "`variables` must be an object."}])
    check_variables(variables)
    if name is not None and not isinstance(name, str):
        raise RequestError(400, [{"message": "`operationName` must be a string."}])
    if _has_nul(query) or _has_nul(variables):
        raise RequestError(400, [{"message": "Text may not contain the NUL character (U+0000)."}])
    return query, variables, name


def check_variables(variables: Any) -> None:
    """Refuse variables nested deeper than MAX_VARIABLE_DEPTH, with a list over MAX_LIST_ITEMS or over
    MAX_VARIABLE_VALUES values in all (a 400 request error): walked without recursion and stopped at
    the first excess, so neither a 330-deep nesting (graphql-core's RecursionError) nor a
    2,000,000-item list (seconds of coercion) reaches the executor."""
    pending, count = [(variables, 0)], 0
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                raise RequestError(400, [{"message": f"A list in `variables` has over {MAX_LIST_ITEMS} items."}])
            children = value
        else:
            continue
        if depth >= MAX_VARIABLE_DEPTH:
            raise RequestError(400, [{"message": f"`variables` nest over {MAX_VARIABLE_DEPTH} levels deep."}])
        count += len(children)
        if count > MAX_VARIABLE_VALUES:
            raise RequestError(400, [{"message": f"`variables` hold over {MAX_VARIABLE_VALUES} values."}])
        pending.extend((child, depth + 1) for child in children)


_NUL_ESCAPE = re.compile(r"\\u0000", re.IGNORECASE)


def _has_nul(value: Any) -> bool:
    """A NUL character anywhere in the request (raw, or a GraphQL string's \\u0000 escape): no text
    column holds one (PostgreSQL refuses it, "invalid byte sequence"), so it is refused here, at the
    API's edge, before any resolver passes it to a query (found by the fuzzer: a 500)."""
    if isinstance(value, str):
        # the escape's pattern is searched only in text with a backslash (a query rarely has one)
        return "\x00" in value or ("\\" in value and _NUL_ESCAPE.search(value) is not None)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _error_json(error: GraphQLError, expose: bool, request_id: str | None) -> dict[str, Any]:
    original = error.original_error
    if original is None or isinstance(original, (GraphQLError, PermissionError, ValueError)):
        formatted = error.formatted
        if isinstance(original, PermissionError) and "extensions" not in formatted:
            formatted["extensions"] = {"code": "FORBIDDEN"}
        return formatted
    log.error("graphql_internal_error", path=error.path, error=repr(original), exc_info=original)
    formatted = error.formatted
    if not expose:
        formatted["message"] = "Internal server error."
    formatted["extensions"] = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    return formatted


def respond(body: dict[str, Any], status: int, media_type: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)


async def run(schema: GraphQLSchema, documents: DocumentCache, context: Context, query: str,
              variables: dict[str, Any] | None, operation_name: str | None, *, method: str = "POST",
              expose_errors: bool = False, planned: Any = None,
              prepared: Prepared | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Parse (cached), validate (cached), select, coerce and execute. Returns (status for
    graphql-response+json, body, headers). Used by the HTTP endpoint and by the portal pages.
    `planned`: what the read planner answered of this query (server.planner.run.Answer): only the
    root fields it left run here, and the answer is both parts in the document's order.
    `prepared`: the caller's `prepare` of this query (its document and operation, not looked up twice)."""
    if prepared is None:
        prepared = prepare(None, documents, query, operation_name)
    document, operation = prepared.document, prepared.operation
    if document is None:
        return 400, {"errors": [e.formatted for e in documents.get(query)[1]]}, {}
    if operation is None:
        return 400, {"errors": [{"message": "Pick one operation with `operationName`."}]}, {}
    if method == "GET" and operation.operation is not OperationType.QUERY:
        return 405, {"errors": [{"message": "Send mutations with POST."}]}, {"Allow": "POST"}
    coerced = get_variable_values(schema, operation.variable_definitions or [], variables or {})
    if isinstance(coerced, list):
        if not documents.suggestions:
            coerced = [without_suggestion(e) for e in coerced]
        return 400, {"errors": [e.formatted for e in coerced]}, {}
    try:
        result = execute(schema, document if planned is None else planned.rest_document(), context_value=context,
                         variable_values=variables, operation_name=operation_name)
        if hasattr(result, "__await__"):
            result = await result
    finally:
        await context.close()
    data, errors = (result.data, result.errors) if planned is None else planned.merge(result.data, result.errors)
    body: dict[str, Any] = {}
    if errors:
        body["errors"] = [_error_json(e, expose_errors, context.request_id) for e in errors]
    body["data"] = data
    return 200, body, {}


def planned_body(answer: Any, expose_errors: bool = False, request_id: str | None = None) -> dict[str, Any]:
    """The response body of an operation the planner answered whole (server.planner.run.Answer): its
    data, and the errors it answered some root fields with, formatted like the reference path's
    (`_error_json`; kept on an answer the plan keeps, a signed-out caller's)."""
    if not answer.errors:
        return {"data": answer.data}
    formatted = answer.formatted
    if formatted is None:
        formatted = [_error_json(error, expose_errors, request_id) for error in answer.errors]
        if answer.constant:
            answer.formatted = formatted
    return {"errors": formatted, "data": answer.data}


class Prepared(NamedTuple):
    """A query's document and selected operation (None: it does not validate, or names no single
    operation) and whether the read planner may answer some of its root fields (`planned`)."""
    document: DocumentNode | None
    operation: OperationDefinitionNode | None
    planned: bool


def prepare(planner: Any, documents: DocumentCache, query: str, operation_name: str | None,
            actor: Any = None, variables: dict[str, Any] | None = None) -> Prepared:
    """The document (cached), its operation, and the planner's verdict: `planned` when the planner
    may answer this query or some of its root fields (server.planner), else not: no planner, the
    document does not validate, names no single operation, is a mutation, no root field's selection
    is declared plannable or would read anything, or (`actor`: the caller when known before any read)
    the plan hands it back for that actor (counted). `/graphql` and the pages run the reference path
    with this (`run(..., prepared=)`): the document and operation are looked up once whichever path
    answers, so an operation the reference answers whole costs the reference path and the plan's
    verdict (one dict lookup, `Planner.accepts`)."""
    document, _ = documents.get(query)
    if document is None:
        return Prepared(None, None, False)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return Prepared(document, None, False)
    planned = planner is not None and operation.operation is OperationType.QUERY and \
        planner.accepts(query, operation_name, document, operation, actor, variables)
    return Prepared(document, operation, planned)


async def run_planned(planner: Any, planned: tuple, context: Context, query: str, variables: dict[str, Any] | None,
                      operation_name: str | None) -> Any:
    """What the planner answered (server.planner.run.Answer: all of it when `complete`, else the
    reference path runs the rest with `run(..., planned=answer)`), or None: the reference path
    answers the whole operation."""
    document, operation = planned
    try:
        return await planner.run(context, query, document, operation, variables, operation_name)
    finally:
        await context.close()


#: GraphiQL (dev only): React 18.2.0 and GraphiQL 3.8.3 vendored under web/static/graphiql/ (their
#: licenses beside them, web/static/VENDORED.md), started by web/static/graphiql-start.js: no CDN, no
#: inline script or style, so the page works offline under the same CSP as every other response.
GRAPHIQL_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="csrf-token" content="{csrf}">
  <title>GraphiQL · Trialdesk</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/graphiql/graphiql.min.css">
  <link rel="stylesheet" href="/static/graphiql-page.css">
  <script src="/static/graphiql/react.production.min.js" defer></script>
  <script src="/static/graphiql/react-dom.production.min.js" defer></script>
  <script src="/static/graphiql/graphiql.min.js" defer></script>
  <script src="/static/graphiql-start.js" defer></script>
</head>
<body>
  <div id="graphiql">Loading…</div>
</body>
</html>
"""


def graphiql_page(csrf_token: str) -> HTMLResponse:
    """GraphiQL for a signed-in browser: its queries carry the session cookie and this CSRF token."""
    return HTMLResponse(GRAPHIQL_PAGE.replace("{csrf}", html.escape(csrf_token, quote=True)))
