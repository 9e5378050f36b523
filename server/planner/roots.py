"""Root field shapes the resolvers declare plannable (server.resolvers.*): one object by its global
ID, a list of rows, an object that is not a row (viewer), a value that needs no read, a keyset
connection. Each compiles to expressions of the one statement; what the reference answers with an
error the planner answers with it (server.planner.refusals): a root raises what the domain raises
(a DomainError, a GraphQLError) or `Refused`."""
from __future__ import annotations

from collections.abc import Callable, Hashable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import BigInteger, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import False_

from server.planner.compile import EMPTY, collect
from server.planner.declare import Fallback, Root, parse_time, utc_text

INT64 = 2**63


def pk_of(value: Any, decode: Callable[[str], int | None]) -> int | None:
    """A decoded primary key that fits the column, None for one that matches nothing; out of range:
    the reference's loader fails on it, so the reference answers."""
    pk = decode(str(value)) if value is not None else None
    if pk is not None and not -INT64 <= pk < INT64:
        raise Fallback("id out of range")
    return pk


class ById(Root):
    """`field(<argument>: ID!)`: the object of that global ID within `condition(actor)` (a condition
    on `model`'s table itself, from the domain, raising what the domain raises first: FORBIDDEN), else
    null; `required`: else the domain's NOT_FOUND, `missing()` (`exists`: `missing(exists)`, whether a
    row of that ID exists out of reach, read beside it), or without `missing` the reference path answers."""

    def __init__(self, type_name: str, model: Any, condition: Callable[[Any], Any], argument: str = "id",
                 required: bool = False, missing: Callable[..., Any] | None = None, exists: bool = False) -> None:
        self.type_name, self.model, self.condition, self.argument = type_name, model, condition, argument
        self.required, self.missing, self.exists = required, missing, exists

    def read(self, args: dict[str, Any], env: Any, prefix: str) -> tuple[Hashable, dict[str, Any]]:
        from server.schema.node import decode_id

        pk = pk_of(args[self.argument], lambda text: decode_id(text, self.type_name))
        return (pk is None,), ({} if pk is None else {f"{prefix}id": pk})  # no such key: nothing to read

    def reads(self, args: dict[str, Any] | None) -> bool:
        from server.schema.node import decode_id

        return args is None or self.required or \
            pk_of(args[self.argument], lambda text: decode_id(text, self.type_name)) is not None

    def not_found(self, name: str, exists: bool = False) -> Exception:
        if self.missing is None:
            return Fallback(f"{name}: not found")
        return self.missing(exists) if self.exists else self.missing()

    def compile(self, compiler: Any, planned: Any, prefix: str):
        from server.schema.node import decode_id

        if pk_of(planned.args[self.argument], lambda text: decode_id(text, self.type_name)) is None:
            if self.required:
                self.condition(compiler.actor)  # what the domain refuses first (FORBIDDEN), then NOT_FOUND
                raise self.not_found(planned.name)
            return [], lambda values, env: None
        pk = bindparam(f"{prefix}id", type_=BigInteger)
        exprs, shape = object_by_id(compiler, planned.nodes, self.type_name, self.model, self.condition(compiler.actor),
                                    pk)
        if not self.required:
            return exprs, shape
        name, not_found = planned.name, self.not_found
        if self.exists:
            table = self.model.__table__
            exprs = [*exprs, exists(select(table.c.id).where(table.c.id == pk))]

        def found(values: list, env: Any) -> Any:
            if values[0] is None:
                raise not_found(name, bool(values[-1]))
            return shape(values, env)
        return exprs, found


def object_by_id(compiler: Any, nodes: list, type_name: str, model: Any, condition: Any, pk: Any):
    table = model.__table__
    exprs, shape = compiler.object(type_name, nodes, table)
    found = select(func.json_build_array(*exprs)).where(table.c.id == pk, condition).scalar_subquery()
    return [found], lambda values, env: None if values[0] is None else shape(values[0], env)


class RowList(Root):
    """A list of `model`'s rows in `order`, within the domain's `condition(actor, table, bound)`
    (`bound(name)`: this call's value of the argument `params(args, actor)` names, as a parameter; None
    when the value is None, which changes the statement's shape, e.g. no status filter). A DomainError
    `params` or the condition raises (FORBIDDEN, INVALID_INPUT) is answered as the resolver answers it."""

    def __init__(self, type_name: str, model: Any, order: Callable[[Any], list],
                 condition: Callable[[Any, Any, Callable[[str], Any]], Any] | None = None,
                 params: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None, public: bool = False) -> None:
        self.type_name, self.model, self.order, self.condition, self.public = type_name, model, order, condition, public
        self.values = params or (lambda args, actor: {})

    def read(self, args: dict[str, Any], env: Any, prefix: str) -> tuple[Hashable, dict[str, Any]]:
        values = self.values(args, env.actor)
        return (tuple(sorted(name for name, value in values.items() if value is None)),
                {prefix + name: value for name, value in values.items() if value is not None})

    def compile(self, compiler: Any, planned: Any, prefix: str):
        table = self.model.__table__
        condition = None
        if self.condition is not None:
            values = self.values(planned.args, compiler.actor)

            def bound(name: str) -> Any:
                return None if values.get(name) is None else bindparam(prefix + name)
            condition = self.condition(compiler.actor, table, bound)
            if isinstance(condition, False_):  # nothing in reach (the trials team's queues for anyone else): no read
                return [], lambda values, env: []
        exprs, shape = compiler.object(self.type_name, planned.nodes, table)
        rows = select(func.coalesce(func.json_agg(aggregate_order_by(func.json_build_array(*exprs),
                                                                     *self.order(table))), EMPTY))
        if condition is not None:
            rows = rows.where(condition)
        return [rows.scalar_subquery()], lambda values, env: [shape(row, env) for row in values[0]]


class Singleton(Root):
    """An object that is not a row (Viewer): its fields read the actor or nest relations."""

    def __init__(self, type_name: str, public: bool = False) -> None:
        self.type_name, self.public = type_name, public

    def key(self, args: dict[str, Any], env: Any) -> Hashable:
        return ()

    def compile(self, compiler: Any, planned: Any, prefix: str):
        exprs, shape = compiler.object(self.type_name, planned.nodes, None)
        return exprs, shape


class Value(Root):
    """A scalar or list of scalars that needs no read (the trial durations)."""

    constant = True

    def __init__(self, fn: Callable[[], Any], public: bool = True) -> None:
        self.fn, self.public = fn, public

    def reads(self, args: dict[str, Any] | None) -> bool:
        return False

    def key(self, args: dict[str, Any], env: Any) -> Hashable:
        return ()

    def compile(self, compiler: Any, planned: Any, prefix: str):
        fn = self.fn
        return [], lambda values, env: fn()


class Catalog(Root):
    """A list of objects Python builds without a read (the countries): `rows()` gives each as a dict
    of every field (GraphQL names, values as answered), shaped here to the selection (aliases,
    `__typename`, fragments). Its fields are declared `ByRoot`."""

    constant = True

    def __init__(self, type_name: str, rows: Callable[[], list[dict[str, Any]]], public: bool = True) -> None:
        self.type_name, self.rows, self.public = type_name, rows, public

    def reads(self, args: dict[str, Any] | None) -> bool:
        return False

    def key(self, args: dict[str, Any], env: Any) -> Hashable:
        return ()

    def compile(self, compiler: Any, planned: Any, prefix: str):
        pick, rows = compiler.picker(self.type_name, planned.nodes), self.rows
        return [], lambda values, env: [pick(row) for row in rows()]


class Record(Root):
    """An object (or, `many`, a list) the resolver's own Python builds from rows it reads: `rows(actor)`
    is the domain's SELECT (raising what the reference raises: FORBIDDEN), read here as JSON;
    `build(env, record)` the resolver's Strawberry object(s) from the row (attributes by column
    name; None when there is none) or, `many`, from the list of rows; shaped here to the selection
    (`Compiler.picker`). A partner's settings (defaults filled in when it never saved), its email texts."""

    def __init__(self, type_name: str, rows: Callable[[Any], Any], build: Callable[[Any, Any], Any],
                 many: bool = False) -> None:
        self.type_name, self.rows, self.build, self.many = type_name, rows, build, many

    def key(self, args: dict[str, Any], env: Any) -> Hashable:
        return ()

    def compile(self, compiler: Any, planned: Any, prefix: str):
        pick, build, many = compiler.picker(self.type_name, planned.nodes), self.build, self.many
        found = self.rows(compiler.actor).subquery()
        row = func.row_to_json(found.table_valued())
        read = select(func.coalesce(func.json_agg(row), EMPTY) if many else row).select_from(found)

        def shape(values: list, env: Any) -> Any:
            value = values[0]
            if many:
                return [pick(item) for item in build(env, [SimpleNamespace(**item) for item in value])]
            return pick(build(env, None if value is None else SimpleNamespace(**value)))
        return [read.scalar_subquery()], shape


class ChildrenOf(Root):
    """`field(<argument>: ID!)`: the rows of a parent object the actor must reach (else the domain's
    NOT_FOUND, `missing()`; without it the reference path answers): `visible(actor, pk)` says whether it
    does (raising what the domain raises first: FORBIDDEN), `rows(actor, pk)` is the SELECT of the
    children's rows (ordered and limited, from the domain), a subquery here; with `limit(args)` (the
    page size, raising what the reference raises, after the parent is found, as the domain does),
    `rows(actor, pk, limit)`."""

    def __init__(self, type_name: str, parent_type: str, argument: str, visible: Callable[[Any, Any], Any],
                 rows: Callable[..., Any], order: Callable[[Any], list],
                 limit: Callable[[dict[str, Any]], int] | None = None, missing: Callable[[], Any] | None = None) -> None:
        self.type_name, self.parent_type, self.argument = type_name, parent_type, argument
        self.visible, self.rows, self.order, self.limit, self.missing = visible, rows, order, limit, missing

    def key(self, args: dict[str, Any], env: Any) -> Hashable:
        return ()

    def params(self, args: dict[str, Any], env: Any, prefix: str) -> dict[str, Any]:
        from server.domain.core.errors import DomainError
        from server.schema.node import decode_id

        pk = pk_of(args[self.argument], lambda text: decode_id(text, self.parent_type))
        if pk is None:
            if self.missing is None:
                raise Fallback(f"{self.argument}: not found")
            pk = 0  # names no row: not visible, the domain's NOT_FOUND (after its FORBIDDEN)
        if self.limit is None:
            return {f"{prefix}id": pk}
        try:
            limit = self.limit(args)
        except DomainError:  # raised after the parent is found, as the domain does (the shaper)
            limit = 0
        return {f"{prefix}id": pk, f"{prefix}limit": limit}

    def compile(self, compiler: Any, planned: Any, prefix: str):
        pk = bindparam(f"{prefix}id", type_=BigInteger)
        limit = () if self.limit is None else (bindparam(f"{prefix}limit", type_=BigInteger),)
        visible = exists(self.visible(compiler.actor, pk))
        rows = self.rows(compiler.actor, pk, *limit).subquery()
        exprs, shape = compiler.object(self.type_name, planned.nodes, rows)
        listed = select(func.coalesce(func.json_agg(aggregate_order_by(func.json_build_array(*exprs),
                                                                       *self.order(rows.c))), EMPTY))
        name, missing, check = planned.name, self.missing, self.limit

        def answer(values: list, env: Any) -> list:
            if not values[0]:
                raise Fallback(f"{name}: not found") if missing is None else missing()
            if check is not None:
                check(env.args)  # the page size, once the parent is found
            return [shape(row, env) for row in values[1]]
        return [visible, listed.scalar_subquery()], answer


class Connection(Root):
    """A keyset connection (`edges { cursor node }`, `pageInfo`, `totalCount`) over the domain's own
    page and count statements. The declaration (beside the resolver) supplies:
    `where(args, actor)` → what the others take, raising what the reference raises;
    `shape(where)` → what of it the statement's text depends on (which filters, which order);
    `params(where, now, prefix)` → the values of the statement's named parameters (filter values,
    the moment, the cursor's position, the page size), bound per call;
    `page(actor, where, prefix) -> SELECT` of the rows with a `sort_key` column (first + 1 rows);
    `count(actor, where, prefix) -> SELECT count`; `order(page, where) -> ORDER BY` of the page's rows;
    `cursor(args, pk, key) -> str`; `timed(args)`: the sort key is a timestamp."""

    def __init__(self, node_type: str, edge_type: str, connection_type: str, *, where, shape, params, page, count,
                 order, cursor, first, timed) -> None:
        self.node_type, self.edge_type, self.connection_type = node_type, edge_type, connection_type
        self.where, self.shape, self.values, self.page, self.count = where, shape, params, page, count
        self.order, self.cursor, self.first, self.timed = order, cursor, first, timed

    def read(self, args: dict[str, Any], env: Any, prefix: str) -> tuple[Hashable, dict[str, Any]]:
        where = self.where(args, env.actor)  # raises what the reference raises before reading
        return self.shape(where), self.values(where, env.now, prefix)

    def compile(self, compiler: Any, planned: Any, prefix: str):
        args, actor, schema = planned.args, compiler.actor, compiler.schema
        where = self.where(args, actor)
        page = self.page(actor, where, prefix).cte()
        connection = collect(schema, compiler.fragments, compiler.variables, schema.get_type(self.connection_type),
                             [node.selection_set for node in planned.nodes])
        exprs: list = []
        parts: list = []  # (response key, kind, index, shaper or sub-collection)
        keys_index = None
        order = self.order(page, where)
        for key, nodes in connection.items():
            name = nodes[0].name.value
            if name == "totalCount":
                parts.append((key, "count", len(exprs), None))
                exprs.append(self.count(actor, where, prefix).scalar_subquery())
            elif name == "__typename":
                parts.append((key, "typename", None, self.connection_type))
            elif name in ("pageInfo", "edges"):
                if keys_index is None:
                    keys_index = len(exprs)
                    sort_key = utc_text(page.c.sort_key) if self.timed(args) else page.c.sort_key
                    exprs.append(select(func.coalesce(func.json_agg(aggregate_order_by(
                        func.json_build_array(page.c.id, sort_key), *order)), EMPTY)).scalar_subquery())
                if name == "pageInfo":
                    fields = collect(schema, compiler.fragments, compiler.variables, schema.get_type("PageInfo"),
                                     [node.selection_set for node in nodes])
                    parts.append((key, "pageInfo", None, [(k, n[0].name.value) for k, n in fields.items()]))
                    continue
                edge = collect(schema, compiler.fragments, compiler.variables, schema.get_type(self.edge_type),
                               [node.selection_set for node in nodes])
                node_index, node_shape = None, None
                node_nodes = [n for k, ns in edge.items() if ns[0].name.value == "node" for n in ns]
                if len({k for k, ns in edge.items() if ns[0].name.value == "node"}) > 1:
                    from server.planner.compile import Unplannable

                    raise Unplannable(f"{self.edge_type}.node (aliased twice)")
                if node_nodes:
                    node_exprs, node_shape = compiler.object(self.node_type, node_nodes, page)
                    node_index = len(exprs)
                    exprs.append(select(func.coalesce(func.json_agg(aggregate_order_by(
                        func.json_build_array(*node_exprs), *order)), EMPTY)).scalar_subquery())
                parts.append((key, "edges", node_index, _edges([(k, ns[0].name.value) for k, ns in edge.items()],
                                                               self.edge_type, node_shape)))
            else:
                from server.planner.compile import Unplannable

                raise Unplannable(f"{self.connection_type}.{name}")
        cursor, timed, first_of = self.cursor, self.timed(args), self.first

        def shape(values: list, env: Any) -> dict[str, Any]:
            keys = values[keys_index] if keys_index is not None else []
            first = first_of(env.args)  # this call's (the statement is shared by every page size)
            shown = keys[:first]
            cursors = [cursor(env.args, pk, parse_time(key) if timed else key) for pk, key in shown]
            answer: dict[str, Any] = {}
            for key, kind, index, extra in parts:
                if kind == "count":
                    answer[key] = int(values[index])
                elif kind == "typename":
                    answer[key] = extra
                elif kind == "pageInfo":
                    info = {"hasNextPage": len(keys) > first, "endCursor": cursors[-1] if cursors else None,
                            "__typename": "PageInfo"}
                    answer[key] = {k: info[name] for k, name in extra}
                else:
                    nodes = values[index][:first] if index is not None else [None] * len(shown)
                    answer[key] = extra(cursors, nodes, env)
            return answer
        return exprs, shape


def _edges(fields: list[tuple[str, str]], edge_type: str, node_shape: Any) -> Callable[[list, list, Any], list]:
    """The page's edges from its cursors and node rows, one dict per edge in the document's key order
    (`fields`: response key, field name), generated once per compiled statement like compile.shaper."""
    names: dict[str, Any] = {"node_shape": node_shape}
    items = [f"{key!r}: " + ("cursor" if name == "cursor" else repr(edge_type) if name == "__typename"
                             else "node_shape(node, env)") for key, name in fields]
    source = ("def edges(cursors, nodes, env):\n    return [{" + ", ".join(items) + "}"
              " for cursor, node in zip(cursors, nodes, strict=True)]\n")
    exec(compile(source, "<planner edges>", "exec"), names)  # noqa: S102 - keys are GraphQL names
    return names["edges"]


def _picked(pick: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else pick(value)


class Statement(Root):
    """An object the resolver's own Python builds from the one row of a domain statement whose text
    depends on the arguments `key(args)` names and whose values are bound per call (a chart's week
    boundaries and moment). `check(actor, args)` raises what the reference raises before reading;
    `statement(actor, args, prefix)`: the domain's SELECT of one row, its parameters named after
    `prefix`; `params(args, now, prefix)`: their values; `build(env, args, row)`: the resolver's
    Strawberry object from the row (its columns by label; None when the statement found none), picked to
    the selection (`Compiler.picker`), or None. trialsByWeek, callingRequirement."""

    def __init__(self, type_name: str, *, check: Callable[[Any, dict], None], key: Callable[[dict], Hashable],
                 statement: Callable[[Any, dict, str], Any], params: Callable[[dict, Any, str], dict[str, Any]],
                 build: Callable[[Any, dict, Any], Any], many: bool = False) -> None:
        self.type_name, self.check, self.key_of, self.statement = type_name, check, key, statement
        self.values, self.build, self.many = params, build, many

    def read(self, args: dict[str, Any], env: Any, prefix: str) -> tuple[Hashable, dict[str, Any]]:
        self.check(env.actor, args)
        return self.key_of(args), self.values(args, env.now, prefix)

    def compile(self, compiler: Any, planned: Any, prefix: str):
        pick, build = compiler.picker(self.type_name, planned.nodes), self.build
        found = self.statement(compiler.actor, planned.args, prefix).subquery()
        row = func.row_to_json(found.table_valued())
        read = select(func.coalesce(func.json_agg(row), EMPTY) if self.many else row).select_from(found)
        # the statement is shared by calls with the same key: build from this call's arguments (env.args)
        if self.many:  # `build` gets the rows, in no order (the domain orders them), and answers a list
            return [read.scalar_subquery()], lambda values, env: [pick(item) for item in build(env, env.args, values[0])]
        # no row, or `build` answers None (what the reference answers null: callingRequirement)
        return [read.scalar_subquery()], lambda values, env: _picked(pick, build(env, env.args, values[0]))
