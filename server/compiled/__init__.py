"""Compiled stored operations (issue 10): hand-verified SQL executors for hot page documents.

Runners: `CustomersPage` (the customers list, customers_page.py) and `CustomerPage` (a customer's
detail page, customer_page.py).

Mechanism: a compiled runner answers ONE stored document (`web/operations/<Name>.graphql`), pinned
by the SHA-256 of its text. It reads the whole response in one SQL statement (PostgreSQL JSON
aggregation, WHERE clauses taken from the domain's own scope and filter builders) and shapes it with
the same domain functions the reference path calls (derived statuses, cursors, global IDs). There is
no general selection compiler: the equivalence test (tests/test_compiled_equivalence.py) proves each
runner against field-by-field Strawberry execution, which stays the reference path for everything.

A runner returns the response's `data`, or None to hand the request to the reference path (inputs it
does not handle, errors to report). Registration happens at start-up (`server.app`), on PostgreSQL
only, and only for documents whose text still has the pinned hash: an edited document silently falls
back to the reference path (and the equivalence test fails until the runner is re-verified).
Pages never import this package: `run_operation` consults `app.state.compiled_operations`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

Runner = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any] | None]]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def runners() -> dict[str, tuple[str, Runner]]:
    """Operation name → (pinned SHA-256 of the document text, runner)."""
    from server.compiled import customer_page, customers_page

    return {"CustomersPage": (customers_page.DOCUMENT_SHA256, customers_page.run),
            "CustomerPage": (customer_page.DOCUMENT_SHA256, customer_page.run)}


def for_app(dialect: str, operations: dict[str, str]) -> dict[str, Runner]:
    """The runners to use for the stored `operations` (name → text) on a `dialect` engine."""
    if dialect != "postgresql":
        return {}  # the embedded default (SQLite) keeps the reference path
    return {name: run for name, (pinned, run) in runners().items()
            if name in operations and sha256(operations[name]) == pinned}
