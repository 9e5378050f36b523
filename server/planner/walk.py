"""What the planner reads off a query document before planning it: the Query fields an operation may
select, the first field under a root that no declaration covers, and the variables `@skip`/`@include`
read. Pure functions of the document and the schema (and the declarations in server/planner/declare.py)."""
from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode, FragmentSpreadNode, GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, InlineFragmentNode,
    OperationDefinitionNode, get_named_type,
)

from server.planner.declare import ROOTS, TYPES


def has_variable(value: Any) -> bool:
    if value.kind == "variable":
        return True
    if value.kind == "list":
        return any(has_variable(item) for item in value.values)
    if value.kind == "object":
        return any(has_variable(item.value) for item in value.fields)
    return False


def root_fields(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: dict) -> list[FieldNode]:
    """Every field node of the Query type the operation may select (through fragments too, whatever
    `@skip`/`@include` say)."""
    found: list[FieldNode] = []

    def walk(selection_set, seen: frozenset) -> None:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                found.append(node)
            elif isinstance(node, InlineFragmentNode):
                if may_apply(schema, node, schema.query_type):
                    walk(node.selection_set, seen)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                fragment = fragments.get(node.name.value)
                if fragment is not None and may_apply(schema, fragment, schema.query_type):
                    walk(fragment.selection_set, seen | {node.name.value})

    walk(operation.selection_set, frozenset())
    return found


def missing_root(schema: GraphQLSchema, root: FieldNode, fragments: dict) -> str | None:
    """The first field under the root field `root` that no declaration covers (every branch,
    whatever @skip/@include say), or None."""
    def walk(runtime: GraphQLObjectType, selection_set, seen: frozenset) -> str | None:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                found = field_missing(runtime, node, seen)
                if found:
                    return found
            elif isinstance(node, InlineFragmentNode):
                found = walk(runtime, node.selection_set, seen) if may_apply(schema, node, runtime) else None
                if found:
                    return found
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                fragment = fragments.get(node.name.value)
                if fragment is not None and may_apply(schema, fragment, runtime):
                    found = walk(runtime, fragment.selection_set, seen | {node.name.value})
                    if found:
                        return found
        return None

    def field_missing(runtime: GraphQLObjectType, node: FieldNode, seen: frozenset) -> str | None:
        name = node.name.value
        if name == "__typename":
            return None
        if runtime is schema.query_type:
            if name not in ROOTS:
                return f"Query.{name}"
        else:
            plan = TYPES.get(runtime.name)
            if plan is None or name not in plan.fields:
                return f"{runtime.name}.{name}"
            if node.arguments and not getattr(plan.fields[name], "takes_arguments", False):
                return f"{runtime.name}.{name}(arguments)"
        if node.selection_set is None:
            return None
        named = get_named_type(runtime.fields[name].type)
        targets = ([named] if isinstance(named, GraphQLObjectType) else
                   [t for t in schema.get_possible_types(named) if t.name in TYPES]
                   if isinstance(named, GraphQLInterfaceType) else [])
        for target in targets:
            found = walk(target, node.selection_set, seen)
            if found:
                return found
        return None

    return field_missing(schema.query_type, root, frozenset())


def may_apply(schema: GraphQLSchema, node: Any, runtime: GraphQLObjectType) -> bool:
    condition = node.type_condition
    if condition is None:
        return True
    named = schema.get_type(condition.name.value)
    return named is runtime or (isinstance(named, GraphQLInterfaceType) and schema.is_sub_type(named, runtime))


def directive_variables(operation: OperationDefinitionNode, fragments: dict) -> set[str]:
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


def argument_variables(operation: OperationDefinitionNode, fragments: dict) -> set[str]:
    """The variables the arguments of fields below the root fields read (a field declared with its
    arguments, `Argument`, compiles their values into its statement: part of the statement's key)."""
    names: set[str] = set()

    def walk(selection_set) -> None:
        for node in selection_set.selections:
            for argument in getattr(node, "arguments", None) or ():
                _variables(argument.value, names)
            if getattr(node, "selection_set", None) is not None:
                walk(node.selection_set)

    for node in operation.selection_set.selections:   # the root fields' own arguments are read per call
        if getattr(node, "selection_set", None) is not None:
            walk(node.selection_set)
    for fragment in fragments.values():
        walk(fragment.selection_set)
    return names


def _variables(value: Any, names: set[str]) -> None:
    if value.kind == "variable":
        names.add(value.name.value)
    elif value.kind == "list":
        for item in value.values:
            _variables(item, names)
    elif value.kind == "object":
        for item in value.fields:
            _variables(item.value, names)
