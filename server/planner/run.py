"""The planner's entry point: plan cache, fallback and counters (see server/planner/__init__.py)."""
from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from graphql import (
    DocumentNode, FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError, GraphQLInterfaceType,
    GraphQLObjectType, GraphQLSchema, InlineFragmentNode, OperationDefinitionNode, OperationType, get_named_type,
)
from graphql.execution.values import get_argument_values, get_variable_values
from sqlalchemy import Text, cast, func, select

from server import clock
from server.domain.core.actor import ActorKind
from server.domain.core.errors import DomainError
from server.planner.compile import Compiler, Unplannable, collect
from server.planner.declare import ROOTS, TYPES, Fallback
from server.planner import execute
from server.planner.execute import Prepared

log = structlog.get_logger("planner")

PLANS = 512  # distinct (document, operation) pairs kept
STATEMENTS = 256  # statements kept per plan (actors × SQL-shaping arguments)
NO_CACHE = object()


@dataclass
class Env:
    """What a request's shaping reads: the actor, one clock reading, the root fields' arguments."""
    actor: Any
    now: Any
    args: list = field(default_factory=list)


@dataclass
class PlannedRoot:
    key: str
    name: str
    nodes: list[FieldNode]
    definition: Any
    args: dict[str, Any] = field(default_factory=dict)


class Plan:
    """One (document, operation): why it cannot be planned, or what varies its statement."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        self.operation = operation
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.unplannable = None if operation.operation is OperationType.QUERY else "mutation or subscription"
        self.directive_variables: tuple[str, ...] = ()
        if self.unplannable is None:
            self.unplannable = _missing(schema, operation, self.fragments)
            self.directive_variables = tuple(sorted(_directive_variables(operation, self.fragments)))
        self.statements: OrderedDict = OrderedDict()

    def roots(self, schema: GraphQLSchema, variables: dict[str, Any]) -> list[PlannedRoot]:
        query = schema.query_type
        return [PlannedRoot(key, nodes[0].name.value, nodes, query.fields.get(nodes[0].name.value))
                for key, nodes in collect(schema, self.fragments, variables, query, [self.operation.selection_set]).items()]


def _missing(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: dict) -> str | None:
    """The first selected field no declaration covers (every branch, whatever @skip/@include say)."""
    def walk(runtime: GraphQLObjectType, selection_set, seen: frozenset) -> str | None:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                name = node.name.value
                if name == "__typename":
                    continue
                if runtime is schema.query_type:
                    if name not in ROOTS:
                        return f"Query.{name}"
                else:
                    plan = TYPES.get(runtime.name)
                    if plan is None or name not in plan.fields:
                        return f"{runtime.name}.{name}"
                    if node.arguments:
                        return f"{runtime.name}.{name}(arguments)"
                if node.selection_set is not None:
                    named = get_named_type(runtime.fields[name].type)
                    targets = ([named] if isinstance(named, GraphQLObjectType) else
                               [t for t in schema.get_possible_types(named) if t.name in TYPES]
                               if isinstance(named, GraphQLInterfaceType) else [])
                    for target in targets:
                        found = walk(target, node.selection_set, seen)
                        if found:
                            return found
            elif isinstance(node, InlineFragmentNode):
                found = walk(runtime, node.selection_set, seen) if _may_apply(schema, node, runtime) else None
                if found:
                    return found
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                fragment = fragments.get(node.name.value)
                if fragment is not None and _may_apply(schema, fragment, runtime):
                    found = walk(runtime, fragment.selection_set, seen | {node.name.value})
                    if found:
                        return found
        return None
    return walk(schema.query_type, operation.selection_set, frozenset())


def _may_apply(schema: GraphQLSchema, node: Any, runtime: GraphQLObjectType) -> bool:
    condition = node.type_condition
    if condition is None:
        return True
    named = schema.get_type(condition.name.value)
    return named is runtime or (isinstance(named, GraphQLInterfaceType) and schema.is_sub_type(named, runtime))


def _directive_variables(operation: OperationDefinitionNode, fragments: dict) -> set[str]:
    names: set[str] = set()

    def walk(selection_set) -> None:
        for node in selection_set.selections:
            for directive in node.directives or ():
                for argument in directive.arguments:
                    if argument.value.kind == "variable":
                        names.add(argument.value.name.value)
            if getattr(node, "selection_set", None) is not None:
                walk(node.selection_set)

    walk(operation.selection_set)
    for fragment in fragments.values():
        walk(fragment.selection_set)
    return names


class Planner:
    """Answers a query operation in one statement, or says None (the reference path answers).

    `fallbacks`: why operations went to the reference path, by field (`Customer.locations`) or
    condition (`customers: first out of range`); `planned`: operations answered, by name."""

    def __init__(self, schema: GraphQLSchema) -> None:
        import server.schema.schema  # noqa: F401 - the declarations register with the Strawberry types

        self.schema = schema
        self.plans: OrderedDict[tuple[str, str | None], Plan] = OrderedDict()
        self.fallbacks: Counter[str] = Counter()
        self.planned: Counter[str] = Counter()

    def plan(self, query: str, operation_name: str | None, document: DocumentNode,
             operation: OperationDefinitionNode) -> Plan:
        key = (query, operation_name)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = Plan(self.schema, document, operation)
            if len(self.plans) > PLANS:
                self.plans.popitem(last=False)
        return plan

    def accepts(self, query: str, operation_name: str | None, document: DocumentNode,
                operation: OperationDefinitionNode) -> bool:
        """Whether every selected field has a declaration (else counted: the reference path answers)."""
        plan = self.plan(query, operation_name, document, operation)
        if plan.unplannable is not None:
            self.fell_back(plan.unplannable, operation.name.value if operation.name else operation_name)
            return False
        return True

    def fell_back(self, reason: str, operation: str | None) -> None:
        self.fallbacks[reason] += 1
        log.debug("planner_fallback", reason=reason, operation=operation)

    async def run(self, context: Any, query: str, document: DocumentNode, operation: OperationDefinitionNode,
                  variables: dict[str, Any] | None, operation_name: str | None) -> dict[str, Any] | None:
        """The answer's `data`, or None for the reference path to answer (and report any error)."""
        plan = self.plan(query, operation_name, document, operation)
        label = operation.name.value if operation.name else operation_name
        if plan.unplannable is not None:  # counted by `accepts`
            return None
        try:
            data = await self._run(plan, context, variables or {})
        except Fallback as reason:
            self.fell_back(reason.reason, label)
            return None
        except Exception as error:  # noqa: BLE001 - the reference path answers (and reports) it the usual way
            log.error("planner_failed", operation=label, error=repr(error), exc_info=error)
            self.fell_back("error", label)
            return None
        self.planned[label or "(anonymous)"] += 1
        return data

    async def _run(self, plan: Plan, context: Any, raw: dict[str, Any]) -> dict[str, Any]:
        coerced = get_variable_values(self.schema, plan.operation.variable_definitions or [], raw)
        if isinstance(coerced, list):
            raise Fallback("variables")
        variables = coerced.coerced
        actor = context.actor
        anonymous = actor.kind is ActorKind.ANONYMOUS
        env = Env(actor=actor, now=clock.now())
        roots = plan.roots(self.schema, variables)
        keys: list = [tuple(variables.get(name) for name in plan.directive_variables)]
        params: dict[str, Any] = {}
        cacheable = True
        for index, planned in enumerate(roots):
            declaration = ROOTS.get(planned.name)
            if declaration is None and planned.name != "__typename":
                raise Unplannable(f"Query.{planned.name}")
            if declaration is None:
                keys.append(None)
                continue
            if anonymous and not declaration.public:
                raise Fallback("signed out")
            planned.args = get_argument_values(planned.definition, planned.nodes[0], coerced) \
                if planned.definition.args else {}
            try:
                key = declaration.key(planned.args, env)
                params.update(declaration.params(planned.args, env, f"r{index}_"))
            except (DomainError, GraphQLError) as error:
                raise Fallback(f"{planned.name}: {getattr(error, 'message', error)}") from error
            cacheable = cacheable and key is not NO_CACHE
            keys.append(key)
        statement_key = (actor, tuple(keys))
        entry = plan.statements.get(statement_key) if cacheable else None
        if entry is None:
            entry = self._compile(plan, roots, variables, actor, env)
            if cacheable:
                plan.statements[statement_key] = entry
                if len(plan.statements) > STATEMENTS:
                    plan.statements.popitem(last=False)
        else:
            plan.statements.move_to_end(statement_key)
        statement, shapers = entry
        row = await execute.one_row(context, statement, params) if statement is not None else None
        values = orjson.loads(row[0]) if row is not None else []
        env.args = [planned.args for planned in roots]
        data: dict[str, Any] = {}
        for planned, (start, end, shape) in zip(roots, shapers, strict=True):
            data[planned.key] = shape(values[start:end], env)
        return data

    def _compile(self, plan: Plan, roots: list[PlannedRoot], variables: dict[str, Any], actor: Any, env: Env):
        compiler = Compiler(self.schema, plan.fragments, variables, actor)
        exprs: list = []
        shapers = []
        for index, planned in enumerate(roots):
            if planned.name == "__typename":
                shapers.append((0, 0, lambda values, env: "Query"))
                continue
            try:
                root_exprs, shape = ROOTS[planned.name].compile(compiler, planned, f"r{index}_")
            except (DomainError, GraphQLError) as error:
                raise Fallback(f"{planned.name}: {getattr(error, 'message', error)}") from error
            shapers.append((len(exprs), len(exprs) + len(root_exprs), shape))
            exprs.extend(root_exprs)
        if not exprs:
            return None, shapers
        if len(exprs) > 100:
            raise Unplannable("more than 100 root expressions")
        return Prepared(select(cast(func.json_build_array(*exprs), Text))), shapers
