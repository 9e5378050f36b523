"""The root fields the planner answers with an error, as the reference path answers them (see
server/planner/__init__.py): the permission classes of the root field's Strawberry definition (a
signed-out caller), the error a root's declaration raises (`declare.Refused`, or a DomainError turned
into a GraphQL error by the resolver's own function, `Root.refusal`: a FORBIDDEN audited there), and
where graphql-core would put each in the response: null at the root's key (`data` null for a non-null
root), the error located at the root field's nodes and path, in graphql-core's order (`settle`).

graphql-core's order for root fields (graphql.execution.executor, with server.graphql_http's
`_gather_settled`): the synchronous resolvers run first, in the document's order, and the first
non-null one that fails ends the operation there (`data` null, no later field's error); then the
asynchronous ones run together and their errors come as they finish: a refusal decided before any
read (a permission class, an argument) at the coroutine's first step, in the document's order, and
those after a read (an object out of reach, a FORBIDDEN and its audit write) after them; a non-null
one that fails nulls `data` and its error comes last (the first such in the document's order; the
others' are dropped)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from graphql import (
    DocumentNode, FragmentDefinitionNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, SelectionSetNode,
    is_non_null_type, located_error,
)

from server.domain.core.errors import DomainError
from server.planner.declare import ROOTS, Fallback, Refused

#: when a root field's error comes (graphql-core's order): its resolver is synchronous; decided at an
#: asynchronous resolver's first step (a permission class, an argument); after a read
SYNC, EARLY, LATE = 0, 1, 2
GRANTED = object()


@dataclass(frozen=True)
class Kind:
    """What of a root field decides where its error goes: `sync` resolver, `non_null` type, its
    Strawberry definition's permission extensions (`permissions`, in order)."""
    sync: bool
    non_null: bool
    permissions: tuple


@lru_cache(maxsize=256)
def kind(schema: GraphQLSchema, name: str) -> Kind:
    from strawberry.permission import PermissionExtension

    field = schema.query_type.fields.get(name)
    if field is None:  # introspection's `__schema`, `__type`: the reference path's
        return Kind(sync=True, non_null=False, permissions=())
    definition = field.extensions.get("strawberry-definition") if field.extensions else None
    extensions = tuple(e for e in getattr(definition, "extensions", ()) if isinstance(e, PermissionExtension))
    return Kind(sync=definition is not None and not definition.is_async, non_null=is_non_null_type(field.type),
                permissions=extensions)


def _granted(source: Any, info: Any, **kwargs: Any) -> Any:
    return GRANTED


def check_permissions(kind: Kind, info: Any) -> None:
    """Raise Refused with the error the root field's permission classes answer this caller (`info`:
    what they read, the request's context), as Strawberry's PermissionExtension raises it (the class's
    `message`, `error_extensions`, `on_unauthorized`); nothing when they let it through. A permission
    that answers a value instead (`fail_silently`) or checks asynchronously is not decided here:
    Fallback, the reference path answers."""
    for extension in kind.permissions:
        try:
            granted = extension.resolve(_granted, None, info) if extension.supports_sync else None
        except GraphQLError as error:
            raise Refused(error) from None
        if granted is not GRANTED:
            raise Fallback("permission answered by the reference")


def info_of(context: Any) -> Any:
    """What a permission class reads of the resolver's `info`: the request's context."""
    return SimpleNamespace(context=context)


@dataclass
class Failure:
    """A root field's error, by the root's position in the document (`index`), when it comes (`phase`),
    whether it nulls `data` (`fatal`), and the error located at the root (`error`)."""
    index: int
    phase: int
    fatal: bool
    error: GraphQLError


def locate(error: GraphQLError, nodes: list, key: str) -> GraphQLError:
    """The error as graphql-core locates a resolver's error (its original error, when it wraps one:
    a PermissionError is answered FORBIDDEN by server.graphql_http's `_error_json`, as for the reference)."""
    original = error.original_error
    return located_error(original if original is not None else error, nodes, [key])


async def as_error(context: Any, planned: Any, error: Exception) -> GraphQLError:
    """A root's refusal as the GraphQL error the reference answers: a DomainError through the root's
    resolver's own function (`Root.refusal`, by default server.resolvers.answer.graphql_error, which
    audits a FORBIDDEN, R-ROLE-02), a Refused's error as it is."""
    if isinstance(error, Refused):
        return error.error
    if isinstance(error, DomainError):
        declaration = ROOTS.get(planned.name)
        convert = getattr(declaration, "refusal", None)
        if convert is None:
            from server.resolvers.answer import graphql_error as convert
        return await convert(context, error, planned.name)
    return error  # a GraphQLError


def settle(failures: list[Failure]) -> tuple[bool, list[GraphQLError]]:
    """(whether `data` is null, the errors in graphql-core's order) of the root fields' failures (the
    planner's and the reference path's, each with its root's position, phase and whether it nulls)."""
    ordered = sorted(failures, key=lambda f: (f.phase != SYNC, f.index))  # stable: the reference's order kept
    errors: list[GraphQLError] = []
    for failure in ordered:
        if failure.phase == SYNC and failure.fatal:  # graphql-core stops at the first synchronous non-null failure
            errors.extend(f.error for f in ordered if f.phase == SYNC and f.index < failure.index)
            errors.append(failure.error)
            return True, errors
    asynchronous = [f for f in ordered if f.phase != SYNC]
    errors = [f.error for f in ordered if f.phase == SYNC]
    errors += [f.error for f in sorted(asynchronous, key=lambda f: (f.phase, f.index)) if not f.fatal]
    fatal = next((f for f in asynchronous if f.fatal), None)  # the first in the document's order
    if fatal is not None:
        errors.append(fatal.error)
    return fatal is not None, errors


@dataclass
class Answer:
    """What the planner answered of an operation: `data` by response key (null at a root it answered
    with an error; None: a non-null root failed); `errors` (located GraphQLErrors, in graphql-core's
    order) when it answered it all (`complete`); `rest`: the root fields it left to the reference path
    (run as `rest_document`, merged by `merge`); `keys`: every response key in the document's order."""
    data: dict[str, Any] | None
    keys: list[str]
    answered: list  # PlannedRoot (server.planner.plans)
    rest: list
    operation: OperationDefinitionNode | None = None
    fragments: list[FragmentDefinitionNode] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)  # the root fields answered with an error
    errors: list[GraphQLError] = field(default_factory=list)
    schema: GraphQLSchema | None = None
    constant: bool = False  # needs no read and is alike for every signed-out caller: kept by the plan
    formatted: list | None = None  # `errors` as the response's JSON, kept on a constant answer (graphql_http)
    counted: list = field(default_factory=list)  # its root fields' counter keys

    @property
    def complete(self) -> bool:
        return not self.rest

    @property
    def valued(self) -> set[str]:
        """The response keys the planner answered with a value (not with an error)."""
        refused = {self.keys[failure.index] for failure in self.failures}
        return {planned.key for planned in self.answered if planned.key not in refused}

    def finish(self) -> "Answer":
        """A complete answer's errors in graphql-core's order, `data` null when a non-null root failed."""
        if self.failures:
            null, self.errors = settle(self.failures)
            if null:
                self.data = None
        return self

    def rest_document(self) -> DocumentNode:
        """The operation with only the root fields left to the reference path (the same field nodes,
        so its errors carry the same paths and locations) and every fragment."""
        selections = tuple(node for planned in self.rest for node in planned.nodes)
        operation = OperationDefinitionNode(
            operation=self.operation.operation, name=self.operation.name,
            variable_definitions=self.operation.variable_definitions, directives=self.operation.directives,
            selection_set=SelectionSetNode(selections=selections), loc=self.operation.loc)
        return DocumentNode(definitions=(operation, *self.fragments))

    def merge(self, reference: dict[str, Any] | None, errors: list[GraphQLError] | None = None
              ) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
        """The whole answer in the document's order with both parts' errors in graphql-core's order
        (`data` None when a non-null root failed on either part, as the reference answers the whole
        operation). `reference`, `errors`: what the reference path answered of the rest."""
        failures = list(self.failures)
        position = {key: index for index, key in enumerate(self.keys)}
        names = {planned.key: planned.name for planned in self.rest}
        last = len(errors) - 1 if errors else -1
        for number, error in enumerate(errors or ()):
            key = error.path[0] if error.path else None
            root = kind(self.schema, names[key]) if key in names else None
            if root is not None and root.sync:
                phase = SYNC
            elif root is not None and any(error.message == permission.message for extension in root.permissions
                                          for permission in extension.permissions):
                phase = EARLY  # a permission class: at the coroutine's first step
            else:
                phase = LATE
            failures.append(Failure(position.get(key, len(self.keys)), phase, reference is None and number == last,
                                    error))
        null, ordered = settle(failures)
        if null or reference is None:
            return None, ordered
        return {key: self.data[key] if key in self.data else reference[key] for key in self.keys}, ordered
