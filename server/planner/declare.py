"""The planner's vocabulary: what a GraphQL field reads, declared once beside its Strawberry type.

A declaration says how ONE field of ONE GraphQL type is read in SQL (and shaped in Python); the
planner (server.planner.compile) composes them into one statement. Declarations register at import
of the module that holds the Strawberry type (`plannable("Customer", CustomerOrg, name=Column(...))`)
and are checked against the built schema by tests/planner/test_declarations.py (a declared field the
schema does not have fails, and so does a field of a declared type that is neither declared nor said
`unplanned`), so type and declaration cannot drift apart silently. A field that is just a column is
not written here at all: `declare(Type, Model, **computed)` derives it from the Strawberry attribute
(server.schema.columns); write only computed fields and relations.

Kinds, for an object read from a table row (`source`: that row's FROM, a table, alias or CTE):

    Column("name")                    the column as it is (`convert`: a Python function over it,
                                      `time=True`: a timestamp, answered like Python's isoformat)
    GlobalId("Customer")              the Relay global ID of the row's `id`
    Derived(fn, *inputs[, over=])     fn(env, *values): Python over column names or SQL builders
                                      (`Input(builder)`: builder(source, parent, actor)) – the domain's
                                      own function over the fetched values (status, days left, …)
    Relation("Trial", Model, join=…, scope=…, order=…, many=True, shown=…)
                                      a nested object or list: `join(parent, child)`, the domain's
                                      scope builder `scope(actor, child)`, the reference's order;
                                      `shown(source, parent, actor)`: only where the parent row allows;
                                      `related("Trial", link, …)`: join and order from the link the
                                      loaders read too (server.db.relations)
    Embedded("MeetingsOptions", present=…)
                                      an object built from the same row (null unless `present`)
    FromActor(fn)                     fn(env): Python over the actor alone (the viewer's email)
    Constant(fn)                      fn(): a value that needs no read (the trial durations)

Root fields (Query.*) are `Root` subclasses written beside their resolvers (server.resolvers.*):
they read their arguments, say what of them shapes the SQL (the plan cache key) and what is bound,
and compile to one scalar expression of the statement (server.planner.roots), or, for a root whose
answer is not a read of our rows, to a call:

    calls.Call("ExistingOrganization", fn)
                                      fn(context, args): the function the resolver calls too (an
                                      audited, rate-limited look-up that writes; an email rendered
                                      from templates), awaited per request on the request's context
                                      (writes through its write sessionmaker, like the resolver's),
                                      its Python value picked to the selection; no graphql-core

A field with no declaration is not plannable: the whole operation goes to the reference path.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, bindparam, func

from server.schema import columns
from server.schema.node import Node, to_global_id

UTC_TEXT = 'YYYY-MM-DD"T"HH24:MI:SS.US'


class Fallback(Exception):
    """This request goes to the reference path (`reason`: the field or condition, for the counters)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(Exception):
    """The reference path answers this root field with `error` (a graphql.GraphQLError, unlocated:
    the planner puts it at the root field's nodes and path, and null at its key): raised by a Root's
    `read`, `compile` or shaper, or decided by the plan (server.planner.refusals). A DomainError raised
    there is answered as the root's resolver answers it (`Root.refusal`)."""

    def __init__(self, error: Any) -> None:
        super().__init__(getattr(error, "message", str(error)))
        self.error = error


def column_of(source: Any, name: str):
    """The column `name` of a table, alias, CTE or subquery."""
    return source.c[name]


def utc_text(column):
    """A timestamp as UTC text PostgreSQL writes alike for every row (parsed back by `parse_time`)."""
    return func.to_char(func.timezone("UTC", column), UTC_TEXT)


@lru_cache(maxsize=1 << 14)
def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value is not None else None


@lru_cache(maxsize=1 << 14)
def iso_time(value: str | None) -> str | None:
    """`utc_text`'s value as the reference answers a DateTime (Python's isoformat)."""
    return parse_time(value).isoformat() if value is not None else None


#: `to_global_id`, remembered: the same rows come back page after page.
global_id = lru_cache(maxsize=1 << 14)(to_global_id)


@dataclass(frozen=True)
class Column:
    name: str
    convert: Callable[[Any], Any] | None = None
    time: bool = False


@dataclass(frozen=True)
class GlobalId:
    type_name: str
    column: str = "id"


#: The request's today (the UTC date of the planner's one clock reading, `Env.now`), bound per call: an
#: input's SQL may narrow its read to the days a rule looks at (the usage windows) without the moment
#: in the statement's text.
TODAY = bindparam("planner_today", type_=Date)


@dataclass(frozen=True)
class Input:
    """An input of a Derived field built in SQL: builder(source, parent, actor) -> expression;
    `decode`: Python over its JSON value before the derived function sees it. `arguments`: the field
    takes arguments and the builder reads them: builder(source, parent, actor, args) (the field's
    arguments as the executor coerces them, defaults applied; the statement is cached per value)."""
    builder: Callable[..., Any]
    decode: Callable[[Any], Any] | None = None
    arguments: bool = False


@dataclass(frozen=True)
class Argument:
    """An argument of the field (as the executor coerces it, its default applied) as an input of a
    Derived field: TrialAdoption.daily(days:)."""
    name: str


@dataclass(frozen=True)
class TimeInput:
    """A timestamp column as an input (the derived function gets a datetime)."""
    name: str


@dataclass(frozen=True)
class ParentColumn:
    """A column of the parent object's row (Service.expired reads its trial's state)."""
    name: str


class Derived:
    """`fn(env, *values)`; with `over`: `fn(over(env, *values))`, where the object's derived fields with
    the same `over` and inputs share one call of it per row (a trial's adoption: one summary for its
    health, active users and activation)."""

    def __init__(self, fn: Callable[..., Any], *inputs: str | Input | TimeInput | ParentColumn | Argument,
                 over: Callable[..., Any] | None = None) -> None:
        self.fn = fn
        self.inputs = inputs
        self.over = over
        #: a field with arguments is planned only when its declaration reads them
        self.takes_arguments = any(isinstance(i, Argument) or (isinstance(i, Input) and i.arguments) for i in inputs)


@dataclass(frozen=True)
class Relation:
    target: str
    model: Any
    join: Callable[[Any, Any], Any]
    order: Callable[[Any], list] = lambda child: [child.c.id]
    scope: Callable[[Any, Any], Any] | None = None
    many: bool = True
    #: shown(source, parent, actor): a condition on the parent row, whose relation is read only where
    #: it holds (a Customer's locations only for a viewer who reads its details, R-EX-01)
    shown: Callable[[Any, Any, Any], Any] | None = None


def related(target: str, link: Any, *, many: bool = True, scope: Callable[[Any, Any], Any] | None = None,
            shown: Callable[[Any, Any, Any], Any] | None = None) -> Relation:
    """The Relation of a link declared once for the loaders and the planner (server.db.relations)."""
    return Relation(target, link.model, join=link.join, order=link.ordering, scope=scope, many=many, shown=shown)


@dataclass(frozen=True)
class Embedded:
    target: str
    present: Callable[[Any], Any]


@dataclass(frozen=True)
class FromActor:
    fn: Callable[[Any], Any]


@dataclass(frozen=True)
class ByRoot:
    """A field of a type only a root declaration answers (a connection's `edges`, `pageInfo`; an object
    the resolver's Python builds, `roots.Record`), or the Derived field that builds its objects in
    Python (a delivery's `requestHeaders`)."""


@dataclass(frozen=True)
class Constant:
    fn: Callable[[], Any]


@dataclass
class TypePlan:
    """The plannable fields of one GraphQL object type (`model`: its table, None for objects that
    are not rows, e.g. Viewer)."""
    name: str
    model: Any
    fields: dict[str, Any] = field(default_factory=dict)


TYPES: dict[str, TypePlan] = {}
ROOTS: dict[str, "Root"] = {}
#: Root fields ("auditLog") and fields of declared types ("Partner.logoUrl") deliberately left to the
#: reference path, and why (`trialdesk planner report` prints it; tests/planner/test_declarations.py
#: fails on a field of a declared type that is neither declared nor here).
UNPLANNED: dict[str, str] = {}


def plannable(type_name: str, table: Any = None, /, **fields: Any) -> TypePlan:
    """Declare fields of `type_name` plannable (GraphQL field names as keywords); repeatable."""
    plan = TYPES.setdefault(type_name, TypePlan(type_name, table))
    plan.model = plan.model if table is None else table
    plan.fields.update(fields)
    return plan


def declare(gql_type: type, table: Any = None, /, **computed: Any) -> TypePlan:
    """Declare the Strawberry type `gql_type` plannable over `table`'s rows: its plain column fields
    (server.schema.columns: an attribute whose name is a column) and a Node's `id` are derived; write
    only `computed` (Derived, Relation, Embedded, ...: GraphQL names as keywords; a plain field given
    here is read as written instead). `table` None: an object built from its parent's row is declared
    by hand alone."""
    name = gql_type.__strawberry_definition__.name
    derived: dict[str, Any] = {}
    if table is not None:
        columns.bind(gql_type, table)
        derived = {f.graphql_name: Column(f.column, time=f.time) for f in columns.plain(gql_type)}
    if issubclass(gql_type, Node):
        derived["id"] = GlobalId(name)
    return plannable(name, table, **{**derived, **computed})


def root(name: str, declaration: "Root", refusal: Callable[..., Any] | None = None) -> "Root":
    """Declare the root query field `name` plannable (`refusal`: how its resolver answers a DomainError,
    when not as `as_graphql_error` does)."""
    if refusal is not None:
        declaration.refusal = refusal
    ROOTS[name] = declaration
    return declaration


def unplanned(name: str, reason: str) -> None:
    """Say why the root query field `name` (or the field "Type.field" of a declared type) stays on the
    reference path, beside its resolver. A query that selects it is still planned for its other root
    fields."""
    UNPLANNED[name] = reason


class Root:
    """A plannable Query field. `public`: answered to a signed-out caller too (its Strawberry field has
    no permission class; else the planner answers UNAUTHENTICATED as the permission class does).
    Subclasses implement `compile` and, when their arguments shape the SQL, `key`/`params`. What the
    reference answers with an error (arguments refused, an object out of reach) they raise as the
    domain does (a DomainError, a GraphQLError) or as `Refused(error)`."""

    public = False
    #: its answer is a call of the domain's Python per request (server.planner.calls.Call): its shaper
    #: answers an awaitable, and a refusal of it is remembered by its arguments (`Plan.refused`)
    calls = False
    #: answered without a read and always alike (a catalog, a constant list): a signed-out caller's answer
    #: of such roots beside refused ones is kept per plan (server.planner.run)
    constant = False
    #: async (context, DomainError, operation) -> GraphQLError: how the resolver answers a DomainError its
    #: domain call raises (None: server.resolvers.answer.graphql_error, as `as_graphql_error`)
    refusal: Callable[..., Any] | None = None

    def key(self, args: dict[str, Any], env: Any) -> Hashable:
        """What of the arguments changes the statement (part of the plan cache key). Raise what the
        reference raises for arguments it refuses. The default: every argument."""
        return tuple(sorted(args.items()))

    def params(self, args: dict[str, Any], env: Any, prefix: str) -> dict[str, Any]:
        """Values bound at execution (not part of the key), by parameter name."""
        return {}

    def read(self, args: dict[str, Any], env: Any, prefix: str) -> tuple[Hashable, dict[str, Any]]:
        """(key, params) of one call: what shapes the statement's text and what is bound. The text may
        depend on the key only: argument values, the moment, cursors are parameters."""
        return self.key(args, env), self.params(args, env, prefix)

    def reads(self, args: dict[str, Any] | None) -> bool:
        """Whether the statement may read a row for these arguments (None: variables, not known yet);
        False (a constant, an ID that names nothing) lets a document that reads nothing else go to the
        reference path whole, decided once with its plan."""
        return True

    def compile(self, compiler: Any, planned: Any, prefix: str) -> tuple[list, Callable[[list, Any], Any]]:
        """(SQL expressions, shape(values, env) -> the field's value)."""
        raise NotImplementedError
