"""GraphQL hardening: validation rules that refuse expensive or revealing documents before they run.

- depth: at most `MAX_DEPTH` nested selection levels (fragments followed), so a cyclic type graph
  (customer → trials → customer …) cannot be walked a thousand levels deep;
- aliases: at most `MAX_ALIASES` per document, so one request cannot ask the same field 10,000 times;
- introspection (`__schema`, `__type`): refused when `settings.introspection_enabled` is off
  (production default); `__typename` is always allowed.
Tokens are capped at parse time (`max_tokens`), `first` by the connections (max 100).
"""
from __future__ import annotations

from graphql import (
    ASTValidationRule, FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode,
    OperationDefinitionNode, SelectionSetNode, ValidationContext,
)

MAX_DEPTH = 12
#: Introspection reads the schema, not the database: its depth (GraphiQL's standard query nests
#: `ofType` 7 levels, 15 in all) is not counted, so GraphiQL's docs open where introspection is on.
INTROSPECTION = ("__schema", "__type")
MAX_ALIASES = 30


def _depth(selection_set: SelectionSetNode | None, context: ValidationContext, seen: frozenset[str]) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value in INTROSPECTION:
            deepest = max(deepest, 1)  # static schema data, refused or allowed by NoIntrospection alone
        elif isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection.selection_set, context, seen) if selection.selection_set
                          else 1)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, context, seen))
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            fragment = context.get_fragment(selection.name.value)
            if fragment is not None:
                deepest = max(deepest, _depth(fragment.selection_set, context, seen | {selection.name.value}))
    return deepest


class DepthLimit(ASTValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
        depth = _depth(node.selection_set, self.context, frozenset())
        if depth > MAX_DEPTH:
            self.report_error(GraphQLError(f"The query is {depth} levels deep; the limit is {MAX_DEPTH}.", node))


class AliasLimit(ASTValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.aliases = 0

    def enter_field(self, node: FieldNode, *_args) -> None:
        if node.alias is not None:
            self.aliases += 1
            if self.aliases == MAX_ALIASES + 1:
                self.report_error(GraphQLError(f"More than {MAX_ALIASES} aliases in one document.", node))


class NoIntrospection(ASTValidationRule):
    def enter_field(self, node: FieldNode, *_args) -> None:
        if node.name.value in INTROSPECTION:
            self.report_error(GraphQLError("Introspection is disabled.", node))


def rules(introspection_enabled: bool) -> list[type[ASTValidationRule]]:
    found: list[type[ASTValidationRule]] = [DepthLimit, AliasLimit]
    if not introspection_enabled:
        found.append(NoIntrospection)
    return found


__all__ = ["rules", "MAX_DEPTH", "MAX_ALIASES"]
