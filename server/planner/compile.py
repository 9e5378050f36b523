"""From a validated query operation to one SQL statement and the Python that shapes its answer.

`Compiler.object(type, field nodes, source, parent)` collects the selection (fragments, inline
fragments, aliases, `@skip`/`@include`, `__typename`) like graphql-core's executor does, looks each
field up in the declarations (server.planner.declare) and returns the object's SQL expressions (one
`json_build_array` of them is the object's row) and a shaper that turns those values, fetched as
JSON, into the answer's dict, keys in the document's order. A relation is a correlated scalar
subquery (`json_agg(... ORDER BY ...)` for a list, one row for an object) whose WHERE is the join
and the domain's scope builder; nested relations nest the same way, so the whole operation is one
statement that PostgreSQL answers as one JSON text.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode, FragmentSpreadNode, GraphQLInterfaceType, GraphQLObjectType,
    GraphQLSchema, InlineFragmentNode, get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy import case, func, null, select, text
from sqlalchemy.sql.elements import False_
from sqlalchemy.dialects.postgresql import aggregate_order_by

from server.planner.declare import (
    TYPES, Argument, Column, Constant, Derived, Embedded, Fallback, FromActor, GlobalId, Input, ParentColumn, Relation,
    TimeInput, column_of, global_id, iso_time, parse_time, utc_text,
)

EMPTY = text("'[]'::json")
Getter = Callable[[list, Any], Any]
Shaper = Callable[[list, Any], dict[str, Any]]


class Unplannable(Fallback):
    """A field with no declaration (or a shape the planner does not take): counted per field."""


def skipped(node: Any, variables: dict[str, Any]) -> bool:
    """`@skip(if:)` / `@include(if:)` as the executor reads them (literal or variable)."""
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        argument = next((a for a in directive.arguments if a.name.value == "if"), None)
        if argument is None:
            continue
        value = argument.value
        flag = variables.get(value.name.value) if value.kind == "variable" else value.value
        if name == "skip" and flag is True:
            return True
        if name == "include" and flag is not True:
            return True
    return False


def applies(schema: GraphQLSchema, condition: Any, runtime: GraphQLObjectType) -> bool:
    if condition is None:
        return True
    named = schema.get_type(condition.name.value)
    if named is runtime:
        return True
    return isinstance(named, GraphQLInterfaceType) and schema.is_sub_type(named, runtime)


def collect(schema: GraphQLSchema, fragments: dict, variables: dict[str, Any], runtime: GraphQLObjectType,
            selection_sets: list) -> dict[str, list[FieldNode]]:
    """Response key → the field nodes merged under it, in document order (graphql-core's CollectFields)."""
    found: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()

    def walk(selection_set) -> None:
        for node in selection_set.selections:
            if skipped(node, variables):
                continue
            if isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                found.setdefault(key, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                if applies(schema, node.type_condition, runtime):
                    walk(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if applies(schema, fragment.type_condition, runtime):
                    walk(fragment.selection_set)

    for selection_set in selection_sets:
        if selection_set is not None:
            walk(selection_set)
    return found


class Inline:
    """A field's value as a Python expression over `row` and `env` (`expr`, its other names `{name}`
    placeholders for `names`), written into the object's generated shaper: no call of its own per row
    (a list page of 50 customers shapes ~1 000 values, most of them through a function). `shared`:
    (key, Inline) of a value computed once per row before the object's fields, `{shared}` in `expr`
    (`Derived.over`)."""

    __slots__ = ("expr", "names", "shared", "_get")

    def __init__(self, expr: str, shared: tuple[Any, "Inline"] | None = None, **names: Any) -> None:
        self.expr, self.names, self.shared, self._get = expr, names, shared, None

    def __call__(self, row: list, env: Any) -> Any:
        """As a Getter, where no shaper writes it in (a Python-built object's, `Compiler.built`)."""
        if self._get is None:
            self._get = shaper([("value", self)])
        return self._get(row, env)["value"]


def shaper(getters: list[tuple[str, Getter | Inline | int]]) -> Shaper:
    """One function that builds the object's dict in the document's key order: a stored column is
    read in place (`row[i]`), an `Inline` value written in place (its shared value computed once,
    first), anything else through its getter. Generated once per compiled statement, it spares a call
    per field per row."""
    names: dict[str, Any] = {}
    items, first, shared = [], [], {}
    for n, (key, get) in enumerate(getters):
        if isinstance(get, int):
            items.append(f"{key!r}: row[{get}]")
        elif isinstance(get, Inline):
            local = {name: f"g{n}_{name}" for name in get.names}
            names.update((local[name], value) for name, value in get.names.items())
            if get.shared is not None:
                if get.shared[0] not in shared:
                    inner = get.shared[1]
                    shared[get.shared[0]] = variable = f"s{len(shared)}"
                    inner_local = {name: f"{variable}_{name}" for name in inner.names}
                    names.update((inner_local[name], value) for name, value in inner.names.items())
                    first.append(f"    {variable} = {inner.expr.format(**inner_local)}\n")
                local["shared"] = shared[get.shared[0]]
            items.append(f"{key!r}: " + get.expr.format(**local))
        else:
            names[f"get{n}"] = get
            items.append(f"{key!r}: get{n}(row, env)")
    source = "def shape(row, env):\n" + "".join(first) + "    return {" + ", ".join(items) + "}\n"
    exec(compile(source, "<planner shaper>", "exec"), names)  # noqa: S102 - keys are GraphQL names, values indexes
    return names["shape"]


class _Value:
    """A derived function's input known when the statement is compiled (a field's argument)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _derived(fn: Callable[..., Any], indexes: list, decoders: list) -> Inline:
    """`fn(env, value, …)` over the row's values at `indexes` (or a `_Value`), each through its decoder
    (None: as is)."""
    names: dict[str, Any] = {"fn": fn}
    args = []
    for n, (index, decode) in enumerate(zip(indexes, decoders, strict=True)):
        if isinstance(index, _Value):
            names[f"v{n}"] = index.value
            args.append(f"{{v{n}}}")
        elif decode is None:
            args.append(f"row[{index}]")
        else:
            names[f"d{n}"] = decode
            args.append(f"{{d{n}}}(row[{index}])")
    return Inline("{fn}(env" + "".join(", " + a for a in args) + ")", **names)


class Compiler:
    """One statement's construction for one actor and one set of SQL-shaping arguments."""

    def __init__(self, schema: GraphQLSchema, fragments: dict, variables: dict[str, Any], actor: Any) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.actor = actor
        #: per object's expression list (by id, the list kept alive): the index of each column a
        #: derived field read, so the next derived field reading it shares it (a trial's adoption:
        #: five fields over the same four inputs, its array of last active days sent once)
        self.shared: dict[int, tuple[list, dict]] = {}

    def object(self, type_name: str, nodes: list[FieldNode], source: Any, parent: Any = None) -> tuple[list, Shaper]:
        """The object's SQL expressions over `source` (its row) and its shaper."""
        runtime = self.schema.get_type(type_name)
        plan = TYPES.get(type_name)
        fields = collect(self.schema, self.fragments, self.variables, runtime,
                         [node.selection_set for node in nodes])
        exprs: list = []
        getters: list[tuple[str, Getter | Inline | int]] = []
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                getters.append((key, Inline(repr(type_name))))
                continue
            declaration = plan.fields.get(name) if plan is not None else None
            takes = getattr(declaration, "takes_arguments", False)
            if declaration is None or (not takes and any(node.arguments for node in field_nodes)):
                raise Unplannable(f"{type_name}.{name}")
            field_type = get_named_type(runtime.fields[name].type)
            args = get_argument_values(runtime.fields[name], field_nodes[0], VariableValues({}, self.variables)) \
                if takes else None
            getters.append((key, self.field(declaration, field_nodes, field_type.name, source, parent, exprs, args)))
        return exprs, shaper(getters)

    def built(self, get: Inline, nodes: list[FieldNode], type_name: str) -> Getter | Inline:
        """`get` itself for a scalar; for an object type, `get` builds each object in Python (or a list of
        them, or None) — the reference's own Strawberry objects (a delivery's headers) — shaped here to
        the selection (`picker`)."""
        if not isinstance(self.schema.get_type(type_name), GraphQLObjectType):
            return get
        pick = self.picker(type_name, nodes)

        def one(value: Any) -> dict | None:
            return None if value is None else pick(value)

        def shaped(row: list, env: Any) -> Any:
            value = get(row, env)
            return [one(item) for item in value] if isinstance(value, list) else one(value)
        return shaped

    def picker(self, type_name: str, nodes: list[FieldNode]) -> Callable[[Any], dict[str, Any]]:
        """From an object Python built — the resolver's own Strawberry object (leaves serialized by their
        GraphQL type, as the executor completes them: an enum member as its name), or a dict of every
        field by GraphQL name with values as answered — to the selection's answer: aliases,
        `__typename`, fragments, keys in the document's order, nested objects picked the same way."""
        runtime = self.schema.get_type(type_name)
        fields = collect(self.schema, self.fragments, self.variables, runtime, [node.selection_set for node in nodes])
        picks: list[tuple[str, str, str, Callable[[Any], Any], bool]] = []  # (key, name, attribute, inner, object)
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                picks.append((key, name, name, lambda value, t=type_name: t, False))
                continue
            definition = runtime.fields[name]
            named = get_named_type(definition.type)
            strawberry_field = (definition.extensions or {}).get("strawberry-definition")
            attribute = getattr(strawberry_field, "python_name", None) or name
            if isinstance(named, GraphQLObjectType):
                picks.append((key, name, attribute, self.picker(named.name, field_nodes), True))
            else:
                picks.append((key, name, attribute, named.serialize, False))

        def complete(inner: Callable[[Any], Any], value: Any) -> Any:
            if value is None:
                return None
            return [complete(inner, item) for item in value] if isinstance(value, list | tuple) else inner(value)

        def pick(value: Any) -> dict[str, Any]:
            if isinstance(value, dict):  # values as answered: only nested objects are picked
                return {key: inner(value) if name == "__typename" else
                        complete(inner, value[name]) if nested else value[name]
                        for key, name, _, inner, nested in picks}
            return {key: inner(value) if name == "__typename" else complete(inner, getattr(value, attribute))
                    for key, name, attribute, inner, _ in picks}
        return pick

    def field(self, declaration: Any, nodes: list[FieldNode], type_name: str, source: Any, parent: Any,
              exprs: list, args: dict[str, Any] | None = None) -> Getter | Inline | int:
        """Append the field's expressions to `exprs`; return the getter of its value from the row (an
        index for a stored column read as is)."""
        start = len(exprs)
        if isinstance(declaration, Column):
            column = column_of(source, declaration.name)
            if declaration.time:  # its UTC text, shared with a derived field's TimeInput of it (daysLeft)
                shared = self.shared.setdefault(id(exprs), (exprs, {}))[1]
                if ("time", id(column)) not in shared:
                    shared["time", id(column)] = len(exprs)
                    exprs.append(utc_text(column))
                return Inline(f"{{iso}}(row[{shared['time', id(column)]}])", iso=iso_time)
            exprs.append(column)
            convert = declaration.convert
            return Inline(f"{{convert}}(row[{start}])", convert=convert) if convert is not None else start
        if isinstance(declaration, GlobalId):
            exprs.append(column_of(source, declaration.column))
            return Inline(f"{{gid}}({declaration.type_name!r}, row[{start}])", gid=global_id)
        if isinstance(declaration, Derived):
            shared = self.shared.setdefault(id(exprs), (exprs, {}))[1]
            indexes, decoders = [], []
            for item in declaration.inputs:
                decode, key = None, None
                if isinstance(item, str):
                    expr = column_of(source, item)
                    key = ("column", id(expr))
                elif isinstance(item, TimeInput):
                    column = column_of(source, item.name)
                    expr, key, decode = utc_text(column), ("time", id(column)), parse_time
                elif isinstance(item, ParentColumn):
                    if parent is None:
                        raise Unplannable(f"{type_name}: a parent column without a parent")
                    expr = column_of(parent, item.name)
                    key = ("column", id(expr))
                elif isinstance(item, Argument):   # a value of this field's, no SQL
                    indexes.append(_Value((args or {}).get(item.name)))
                    decoders.append(None)
                    continue
                elif isinstance(item, Input) and item.arguments:   # the same input with the same arguments
                    expr, decode = item.builder(source, parent, self.actor, args or {}), item.decode
                    key = ("input", id(item), repr(sorted((args or {}).items())))
                elif isinstance(item, Input):   # the same declared input over the same row: the same value
                    expr, decode, key = item.builder(source, parent, self.actor), item.decode, ("input", id(item))
                if key is None or key not in shared:   # an input several derived fields read is read once
                    exprs.append(expr)
                    if key is not None:
                        shared[key] = len(exprs) - 1
                indexes.append(shared[key] if key is not None else len(exprs) - 1)
                decoders.append(decode)
            if declaration.over is not None:  # fn of a value computed once per row for every field over it
                key = ("over", id(declaration.over), tuple(indexes))
                return self.built(Inline("{fn}({shared})", shared=(key, _derived(declaration.over, indexes, decoders)),
                                         fn=declaration.fn), nodes, type_name)
            return self.built(_derived(declaration.fn, indexes, decoders), nodes, type_name)
        if isinstance(declaration, Relation):
            child = declaration.model.__table__.alias()
            inner, shape = self.object(declaration.target, nodes, child, source)
            row_expr = func.json_build_array(*inner)
            where = [declaration.join(source, child)]
            if declaration.scope is not None:
                where.append(declaration.scope(self.actor, child))
                if isinstance(where[-1], False_):  # nothing in reach (a viewer without a partner): no read
                    return Inline("[]" if declaration.many else "None")
            if declaration.shown is not None:
                where.append(declaration.shown(source, parent, self.actor))
            if declaration.many:
                exprs.append(select(func.coalesce(func.json_agg(aggregate_order_by(row_expr, *declaration.order(child))),
                                                  EMPTY)).where(*where).scalar_subquery())
                return Inline(f"[{{shape}}(value, env) for value in row[{start}]]", shape=shape)
            exprs.append(select(row_expr).where(*where).limit(1).scalar_subquery())
            return Inline(f"None if row[{start}] is None else {{shape}}(row[{start}], env)", shape=shape)
        if isinstance(declaration, Embedded):
            inner, shape = self.object(declaration.target, nodes, source, parent)
            exprs.append(case((declaration.present(source), func.json_build_array(*inner)), else_=null()))
            return Inline(f"None if row[{start}] is None else {{shape}}(row[{start}], env)", shape=shape)
        if isinstance(declaration, FromActor):
            return Inline("{fn}(env)", fn=declaration.fn)
        if isinstance(declaration, Constant):
            return Inline("{fn}()", fn=declaration.fn)
        raise Unplannable(f"{type_name}: unknown declaration {declaration!r}")
