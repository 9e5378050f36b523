"""What the planner covers, for operators: `/metrics` (Prometheus text) and `trialdesk planner report`.

Decision (SPEC is silent): `/metrics` answers only a request from the machine itself (client
127.0.0.1 or ::1) that no proxy forwarded (no `X-Forwarded-For` / `Forwarded` header): a scraper or
an operator on the host reads it; through the public entry it is a 404 like any unknown path. The
counters are per web process (each process its own), reset at start.

- `trialdesk_planner_answered_total{operation}`: query operations the planner answered whole;
- `trialdesk_planner_root_fields_total{field, path}`: root fields answered by the planner
  (`path="planner"`) or the reference path (`path="reference"`): a query's plannable root fields are
  planned beside the others;
- `trialdesk_planner_refusals_total{field, code}`: root fields the planner answered with the error the
  reference answers them with (`code`: the error's `extensions.code`, UNAUTHENTICATED for a signed-out
  caller, or the wrapped error's type): counted with the planner's in `root_fields_total` too;
- `trialdesk_planner_fallbacks_total{reason}`: root fields (or whole operations) sent to the reference
  path, by the field that has no declaration (`Customer.locations`) or the condition (`nothing planned
  to read`, `variables`);
- `trialdesk_planner_fields{state}`: fields of the schema's object types with a declaration
  (`declared`) or without (`undeclared`): coverage, the same figure `trialdesk planner report` prints.
"""
from __future__ import annotations

from typing import Any

from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, get_named_type

from server.planner.declare import ROOTS, TYPES, UNPLANNED

LOOPBACK = {"127.0.0.1", "::1"}


def coverage(schema: GraphQLSchema) -> tuple[list[str], list[str]]:
    """(declared, undeclared) `Type.field` names over the schema's read types (Query's fields, and every
    object type a query can reach: not the mutation root's results, not introspection's)."""
    declared, undeclared = [], []
    readable = _reachable(schema)
    for name, gql_type in sorted(schema.type_map.items()):
        if not isinstance(gql_type, GraphQLObjectType) or name not in readable:
            continue
        plan = ROOTS if gql_type is schema.query_type else getattr(TYPES.get(name), "fields", {})
        for field in gql_type.fields:
            (declared if field in plan else undeclared).append(f"{name}.{field}")
    return declared, undeclared


def _reachable(schema: GraphQLSchema) -> set[str]:
    """The object types a query can answer (from Query, through fields and interfaces)."""
    seen: set[str] = set()
    todo = [schema.query_type]
    while todo:
        gql_type = todo.pop()
        if gql_type.name in seen:
            continue
        seen.add(gql_type.name)
        for field in gql_type.fields.values():
            named = get_named_type(field.type)
            if isinstance(named, GraphQLObjectType):
                todo.append(named)
            elif isinstance(named, GraphQLInterfaceType):
                todo.extend(schema.get_possible_types(named))
    return seen


def why_not(undeclared: list[str], schema: GraphQLSchema | None = None) -> dict[str, str]:
    """Each undeclared `Type.field` with why it is left to the reference path: the reason its root
    field (or the field itself) gives in UNPLANNED; a field of a type that only fields left to the
    reference path reach (`schema` given): "only under Query.attention" (their reasons say why);
    else "no declaration yet"."""
    under = _only_under(schema) if schema is not None else {}
    reasons = {}
    for name in undeclared:
        type_name, field = name.split(".", 1)
        if type_name == "Query":
            reasons[name] = UNPLANNED.get(field, "no declaration yet")
        elif name in UNPLANNED:
            reasons[name] = UNPLANNED[name]
        elif type_name in under:
            reasons[name] = "only under " + ", ".join(sorted(under[type_name]))
        else:
            reasons[name] = "" if schema is None else "no declaration yet"
    return reasons


def _targets(schema: GraphQLSchema, field: Any) -> list[GraphQLObjectType]:
    named = get_named_type(field.type)
    if isinstance(named, GraphQLObjectType):
        return [named]
    return list(schema.get_possible_types(named)) if isinstance(named, GraphQLInterfaceType) else []


def _only_under(schema: GraphQLSchema) -> dict[str, set[str]]:
    """The object types no declared field reaches from Query, each with the fields left to the
    reference path (`Query.attention`, `TrialAdoption.daily`) it is reached under."""
    def declared(gql_type: GraphQLObjectType, field: str) -> bool:
        return field in (ROOTS if gql_type is schema.query_type else getattr(TYPES.get(gql_type.name), "fields", {}))

    planned, todo = set(), [schema.query_type]
    while todo:
        gql_type = todo.pop()
        if gql_type.name not in planned:
            planned.add(gql_type.name)
            todo.extend(t for name, f in gql_type.fields.items() if declared(gql_type, name) for t in _targets(schema, f))
    under: dict[str, set[str]] = {}
    for gql_type in [schema.type_map[name] for name in sorted(planned)]:
        for name, field in gql_type.fields.items():
            if declared(gql_type, name):
                continue
            seen, todo = set(), _targets(schema, field)
            while todo:
                target = todo.pop()
                if target.name in planned or target.name in seen:
                    continue
                seen.add(target.name)
                under.setdefault(target.name, set()).add(f"{gql_type.name}.{name}")
                todo.extend(t for f in target.fields.values() for t in _targets(schema, f))
    return under


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def prometheus(planner: Any, schema: GraphQLSchema) -> str:
    declared, undeclared = coverage(schema)
    lines = ["# HELP trialdesk_planner_answered_total Query operations the read planner answered.",
             "# TYPE trialdesk_planner_answered_total counter"]
    answered = planner.planned if planner is not None else {}
    fallbacks = planner.fallbacks if planner is not None else {}
    lines += [f'trialdesk_planner_answered_total{{operation="{_label(k)}"}} {v}' for k, v in sorted(answered.items())]
    roots = planner.roots if planner is not None else {}
    lines += ["# HELP trialdesk_planner_root_fields_total Root fields answered, by field and path (planner or reference).",
              "# TYPE trialdesk_planner_root_fields_total counter"]
    lines += [f'trialdesk_planner_root_fields_total{{field="{_label(name)}",path="{path}"}} {v}'
              for (name, path), v in sorted(roots.items())]
    refusals = planner.refusals if planner is not None else {}
    lines += ["# HELP trialdesk_planner_refusals_total Root fields the planner answered with the reference's error.",
              "# TYPE trialdesk_planner_refusals_total counter"]
    lines += [f'trialdesk_planner_refusals_total{{field="{_label(name)}",code="{_label(code)}"}} {v}'
              for (name, code), v in sorted(refusals.items())]
    lines += ["# HELP trialdesk_planner_fallbacks_total Root fields or operations sent to the reference path, by reason.",
              "# TYPE trialdesk_planner_fallbacks_total counter"]
    lines += [f'trialdesk_planner_fallbacks_total{{reason="{_label(k)}"}} {v}' for k, v in sorted(fallbacks.items())]
    lines += ["# HELP trialdesk_planner_fields Fields of the schema's object types with or without a plan declaration.",
              "# TYPE trialdesk_planner_fields gauge",
              f'trialdesk_planner_fields{{state="declared"}} {len(declared)}',
              f'trialdesk_planner_fields{{state="undeclared"}} {len(undeclared)}',
              "# HELP trialdesk_planner_enabled 1 when queries may run through the planner (PostgreSQL, not switched off).",
              "# TYPE trialdesk_planner_enabled gauge",
              f"trialdesk_planner_enabled {int(planner is not None)}"]
    return "\n".join(lines) + "\n"


def readable(client_host: str | None, headers: Any) -> bool:
    """Who may read `/metrics` (see the module docstring)."""
    return client_host in LOOPBACK and "x-forwarded-for" not in headers and "forwarded" not in headers
