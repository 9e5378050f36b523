"""A plan: what the planner decides once per (document, operation) — which root fields it cannot
answer whatever the request (an undeclared field), which it answers with an error whoever asks
(literal arguments refused for everyone), whether it would read anything, whether it answers a
signed-out caller — and what it remembers (an operation that read nothing for an actor, a root field
refused by the data, a signed-out caller's answer that needs no read). The per-request types: `Env`,
`PlannedRoot`. Used by server.planner.run."""
from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLError, GraphQLSchema, OperationDefinitionNode,
    OperationType,
)
from graphql.execution.values import get_argument_values, get_variable_values

from server import clock
from server.domain.core.errors import DomainError
from server.planner import walk
from server.planner.compile import collect
from server.planner.declare import ROOTS, Fallback, Refused
from server.planner.refusals import kind


class NothingToRead(Fallback):
    """The planner would answer only what needs no read; decided from the document, the actor and the
    `@skip`/`@include` values alone when no root field's argument is a variable (`Plan.literal`), else
    also the variables' values (`Planner.handback_key`), for `until` (a monotonic time: for ever when the decision rests on the document alone, else until the
    remembered refusals it rests on expire)."""

    def __init__(self, reason: str, until: float = float("inf")) -> None:
        super().__init__(reason)
        self.until = until


class Remembered(Fallback):
    """A root field the planner read and handed back (its object out of reach, not found) for the same
    actor and values within `REMEMBER` seconds: handed back again without a read (`Plan.refused`)."""

    def __init__(self, reason: str, until: float) -> None:
        super().__init__(reason)
        self.until = until


class _NoActor:
    """The actor of a plan-time reading of literal arguments: a reading that looks at the actor is not
    decided then (`Plan.refused_for_everyone`)."""

    def __getattr__(self, name: str) -> Any:
        raise _ActorRead(name)


class _ActorRead(Exception):
    pass


@dataclass
class Env:
    """What a request's shaping reads: the actor, one clock reading, the arguments of the root field
    being shaped (a statement is shared by calls that differ in argument values: read them here)."""
    actor: Any
    now: Any
    args: dict = field(default_factory=dict)
    settings: Any = None
    context: Any = None  # the request's (a `calls.Call` root's function runs on it)


@dataclass
class PlannedRoot:
    key: str
    name: str
    nodes: list[FieldNode]
    definition: Any
    args: dict[str, Any] = field(default_factory=dict)


class Plan:
    """One (document, operation): which of its root fields cannot be planned, and its statements."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        self.operation = operation
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.blocked: dict[int, str] = {}  # id(root field node) -> the first undeclared field under it
        # id(root field node) -> what the reference raises for its literal arguments, whoever asks
        self.refusals: dict[int, Exception] = {}
        self.directive_variables: tuple[str, ...] = ()
        self.argument_variables: tuple[str, ...] = ()  # read by arguments below the root fields
        self.unplannable: str | None = None  # why the reference path answers it all (a signed-in caller)
        self.signed_out: str | None = None  # the same for a signed-out caller
        self.root_names: list[str] = []
        self.by_reference: list[tuple[str, str]] = []
        self.literal = True  # no root field's argument is a variable
        # a signed-out caller's answer, by the raw variables, when it needs no read (`run.Planner.run`)
        self.constants: dict[tuple, Any] = {}
        # (actor, @skip/@include values) -> until when the reference path answers the operation whole
        self.handed_back: dict[tuple, float] = {}
        self.declined: Counter[str] = Counter()  # why the operation was handed back whole (Planner.accepts)
        # (actor, response key, statement key, parameters) -> until when: a root field the planner read and
        # handed back (its object out of reach, not found), handed back again without a read until then
        self.refused: OrderedDict[tuple, float] = OrderedDict()
        self.coerced: dict[tuple, Any] = {}  # raw scalar variable values -> their coercion (`coerce`)
        if operation.operation is not OperationType.QUERY:
            self.unplannable = self.signed_out = "mutation or subscription"
        else:
            nodes = walk.root_fields(schema, operation, self.fragments)
            self.root_names = sorted({node.name.value for node in nodes})
            self.by_reference = [(name, "reference") for name in self.root_names]  # the counters' keys
            self.literal = not any(walk.has_variable(argument.value) for node in nodes for argument in node.arguments or ())
            reads = []  # the root fields that may read (for some actor)
            for node in nodes:
                reason = walk.missing_root(schema, node, self.fragments)
                refused = self.refused_for_everyone(schema, node) if reason is None else None
                if isinstance(refused, str):
                    reason = refused
                if reason is not None:
                    self.blocked[id(node)] = reason
                elif refused is not None:
                    self.refusals[id(node)] = refused
                elif node.name.value != "__typename" and self.may_read(schema, node):
                    reads.append(node)
            self.unplannable = self._whole(nodes, self.blocked, reads)
            # a signed-out caller: the permission classes answer the root fields that have some (an error)
            guarded = {id(node) for node in nodes if node.name.value != "__typename"
                       and kind(schema, node.name.value).permissions}
            self.signed_out = self._whole([node for node in nodes if id(node) not in guarded],
                                          {i: r for i, r in self.blocked.items() if i not in guarded},
                                          [node for node in reads if id(node) not in guarded], bool(guarded))
            self.directive_variables = tuple(sorted(walk.directive_variables(operation, self.fragments)))
            self.argument_variables = tuple(sorted(walk.argument_variables(operation, self.fragments)))
        self.statements: OrderedDict = OrderedDict()
        self.collected: dict[tuple, list[tuple]] = {}  # @skip/@include values -> the root fields (`roots`)

    def _whole(self, nodes: list, blocked: dict[int, str], reads: list, refused: bool = False) -> str | None:
        """Why the reference path answers the operation whole: every root field is blocked, or the
        planner would answer only constants beside blocked ones (no read, no error)."""
        if nodes and len(blocked) == len(nodes) and not refused:
            return blocked[id(nodes[0])]
        if blocked and not reads and not self.refusals and not refused:
            return "nothing planned to read"
        return None

    @staticmethod
    def literal_args(schema: GraphQLSchema, node: FieldNode) -> dict[str, Any] | None:
        """The root field's arguments when none is a variable (else None)."""
        if any(walk.has_variable(argument.value) for argument in node.arguments or ()):
            return None
        definition = schema.query_type.fields.get(node.name.value)
        return get_argument_values(definition, node, {}) if definition is not None and definition.args else {}

    def refused_for_everyone(self, schema: GraphQLSchema, node: FieldNode) -> Exception | str | None:
        """What the reference raises for this root field's literal arguments whoever asks (a malformed
        cursor, `first` out of range: the planner answers that error), or why the reference path answers
        it (a Fallback's reason), decided once with the plan; None when that depends on the actor, the
        variables or the data."""
        declaration = ROOTS.get(node.name.value)
        try:
            args = self.literal_args(schema, node)
            if args is None or declaration is None:
                return None
            declaration.read(args, Env(actor=_NoActor(), now=clock.now()), "r0_")
        except (DomainError, GraphQLError, Refused) as error:
            return error
        except Fallback as reason:
            return reason.reason
        except Exception:  # noqa: BLE001 - the actor was read (or anything else): decided per request
            return None
        return None

    def may_read(self, schema: GraphQLSchema, node: FieldNode) -> bool:
        """Whether the root field's statement may read a row (a constant, a catalog, a literal ID that
        names nothing do not)."""
        declaration = ROOTS.get(node.name.value)
        try:
            args = self.literal_args(schema, node)
            return declaration is None or declaration.reads(args)
        except Exception:  # noqa: BLE001 - decided per request
            return True

    def roots(self, schema: GraphQLSchema, variables: dict[str, Any]) -> list[PlannedRoot]:
        """The operation's root fields for these variables: collected once per `@skip`/`@include`
        value set (`directive_variables`, Booleans), a fresh PlannedRoot per call (its `args` are
        the request's)."""
        key = tuple(variables.get(name) for name in self.directive_variables)
        collected = self.collected.get(key)
        if collected is None:
            query = schema.query_type
            collected = [(key_, nodes[0].name.value, nodes, query.fields.get(nodes[0].name.value)) for key_, nodes
                         in collect(schema, self.fragments, variables, query, [self.operation.selection_set]).items()]
            if len(self.collected) >= 64:
                self.collected.clear()
            self.collected[key] = collected
        return [PlannedRoot(*root) for root in collected]

    def coerce(self, schema: GraphQLSchema, raw: dict[str, Any]) -> Any:
        """graphql-core's coercion of the operation's variables (its errors: a list), kept by the raw values
        and their types when they are all scalars (`coerced`): the same raw values of one operation coerce to the same
        values (the schema's scalars parse without reading anything) and the planner only reads them. An
        integration sends the same few values again and again: a dict lookup instead of graphql-core's
        walk of the definitions (~10-40 µs a request)."""
        key = scalar_key(raw) if len(raw) <= 16 else None
        if key is not None:
            kept = self.coerced.get(key)
            if kept is not None:
                return kept
        coerced = get_variable_values(schema, self.operation.variable_definitions or [], raw)
        if key is not None and not isinstance(coerced, list):
            if len(self.coerced) >= 64:
                self.coerced.clear()
            self.coerced[key] = coerced
        return coerced


SCALARS = frozenset({str, int, float, bool})  # raw variable values a coercion, an answer or a hand-back is kept by


def scalar_key(raw: dict[str, Any] | None) -> tuple | None:
    """Raw variable values as a key: (name, type, value) sorted by name, or None when one is not a
    scalar. The type is part of it: True == 1 in Python, but `true` and `1` coerce differently (one of
    them may be a variables error). The key of `Plan.coerced`, `Plan.constants` and `Plan.handed_back`."""
    if not raw:
        return ()
    for value in raw.values():
        if value is not None and type(value) not in SCALARS:
            return None
    return tuple(sorted((name, type(value), value) for name, value in raw.items()))
