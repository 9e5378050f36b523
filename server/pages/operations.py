"""The GraphQL documents the pages run (`web/operations/<Name>.graphql`), executed in-process.

Every document is read, parsed and validated once (through the app's `DocumentCache`) the first
time a page runs one; `validate_all()` is the contract test's entry point. A page calls
`run_operation(request, "CustomersPage", {...})` with the request's actor (set by
`server.auth.middleware`): the same schema, the same checks as `POST /graphql`, no HTTP hop.
A document the read planner can answer (`app.state.planner`, server.planner: PostgreSQL only) runs
as its one statement instead; the planner hands back anything it does not answer like the reference.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request

from server import graphql_http
from server.schema.context import Context

OPERATIONS = Path(__file__).resolve().parents[2] / "web" / "operations"


class OperationFailed(Exception):
    """A stored document did not run (invalid document, GraphQL errors without data); `errors`: the
    GraphQL errors, for a page that can tell the visitor (a refused lookup's code and message)."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass
class Result:
    data: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def payload(self, key: str) -> dict[str, Any]:
        """A mutation's payload (`{trial, userErrors}`) under `key`."""
        return self.data.get(key) or {"userErrors": []}


def read_operations(directory: Path = OPERATIONS) -> dict[str, str]:
    """Document text by operation name (the file's stem)."""
    return {path.stem: path.read_text() for path in sorted(directory.glob("*.graphql"))}


def validate_all(documents: graphql_http.DocumentCache, directory: Path = OPERATIONS) -> dict[str, list[str]]:
    """Errors by document name; empty when every stored document validates against the schema."""
    problems = {}
    for name, text in read_operations(directory).items():
        document, errors = documents.get(text)
        if document is None:
            problems[name] = [e.message for e in errors]
    return problems


def load_operations(state: Any) -> dict[str, str]:
    """Read and validate every stored document once per app (kept on `app.state`)."""
    operations = getattr(state, "page_operations", None)
    if operations is None:
        operations = read_operations()
        for text in operations.values():
            state.documents.get(text)  # parse + validate now, not on a user's first visit
        state.page_operations = operations
    return operations


def without_nul(value: Any) -> Any:
    """Form values without U+0000. No typed field holds one and no text column can (PostgreSQL
    refuses it: a 500, found by fuzzing the forms, tests/security/test_form_fuzz.py); `/graphql` refuses such a request outright
    (graphql_http.check_params), a page drops the character and answers the form as usual."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {k: without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


async def run_operation(request: Request, name: str, variables: dict[str, Any] | None = None) -> Result:
    """Execute the stored document `name` as the request's actor; raise OperationFailed when it
    could not run at all (a page bug or an unavailable service, never bad user input)."""
    state = request.app.state
    text = load_operations(state)[name]
    variables = without_nul(variables)
    request_id = request.scope.get("state", {}).get("request_id")
    planner = getattr(state, "planner", None)
    prepared = graphql_http.prepare(planner, state.documents, text, name, request.state.actor, variables)
    planned = None
    if prepared.planned:  # one SQL statement (server.planner)
        reading = Context(sessionmaker=getattr(state, "read_sessionmaker", state.sessionmaker), settings=state.settings,
                          actor=request.state.actor, request=request, redis=state.redis,
                          request_id=request_id,  # autocommit reads: no BEGIN/ROLLBACK (server.db.engine)
                          write_sessionmaker=state.sessionmaker)  # an audited look-up's writes
        planned = await graphql_http.run_planned(planner, (prepared.document, prepared.operation), reading, text,
                                                 variables, name)
        if planned is not None and planned.complete:
            body = graphql_http.planned_body(planned, state.settings.env != "production", request_id)
            if body["data"] is None:
                raise OperationFailed(f"{name}: {body.get('errors')}", body.get("errors"))
            return Result(data=body["data"], errors=body.get("errors", []))
        # else the root fields it left (or all of them) run below
    context = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=request.state.actor,
                      request=request, redis=state.redis, request_id=request_id)
    status, body, _ = await graphql_http.run(state.graphql_schema, state.documents, context, text, variables, name,
                                             expose_errors=state.settings.env != "production", planned=planned,
                                             prepared=prepared)
    if status != 200 or body.get("data") is None:
        raise OperationFailed(f"{name}: {body.get('errors')}", body.get("errors"))
    return Result(data=body["data"], errors=body.get("errors", []))
