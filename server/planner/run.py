"""The planner's entry point: plan cache, partial plans, fallback and counters (see server/planner/__init__.py;
what it reads off a document before planning is server/planner/walk.py)."""
from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from types import CoroutineType
from typing import Any

import orjson
import structlog
from graphql import (
    DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode,
)
from graphql.execution.values import get_argument_values
from sqlalchemy import Text, cast, func, select

from server import clock
from server.domain.core.actor import ActorKind
from server.domain.core.errors import DomainError
from server.enums import ErrorCode
from server.planner.compile import Compiler, Unplannable
from server.planner.declare import ROOTS, Fallback, Refused
from server.planner import execute
from server.planner.execute import Prepared
from server.planner.plans import Env, NothingToRead, Plan, PlannedRoot, Remembered, scalar_key
from server.planner.refusals import (  # noqa: F401 - Answer: run.Answer for the callers
    EARLY, LATE, SYNC, Answer, Failure, as_error, check_permissions, info_of, kind, locate,
)

log = structlog.get_logger("planner")

PLANS = 512  # distinct (document, operation) pairs kept
STATEMENTS = 256  # statements kept per plan (actors × statement shapes)
PLANNER, REFERENCE = "planner", "reference"  # who answered a root field (the counters' label)
REMEMBER = 60.0  # seconds a root field's refusal is remembered (`Plan.refused`): data may change
LEFT = object()  # a root field's statement key when the reference path answers it
REFUSED = object()  # a root field's statement key when the planner answers it with an error before any read


class Planner:
    """Answers the root fields of a query operation it can in one statement; the reference path answers
    the others (`Answer.rest`), or the whole operation when the planner says None.

    `fallbacks`: why root fields went to the reference path, by field (`Customer.locations`) or
    condition (`customers: first out of range`); `planned`: operations answered whole, by name;
    `roots`: root fields answered, by (field, `planner` | `reference`). An operation handed back whole
    before any per-request work (`accepts`) is counted on its plan (`Plan.declined`: one increment on
    the request's path) and summed into `fallbacks` and `roots` when they are read."""

    def __init__(self, schema: GraphQLSchema) -> None:
        import server.schema.schema  # noqa: F401 - the declarations register with the Strawberry types

        self.schema = schema
        self.plans: OrderedDict[tuple[str, str | None], Plan] = OrderedDict()
        self.counted: Counter[str] = Counter()  # `fallbacks` but the plans' `declined`
        self.planned: Counter[str] = Counter()
        self.counted_roots: Counter[tuple[str, str]] = Counter()  # `roots` but the plans' `declined`
        self.refusals: Counter[tuple[str, str]] = Counter()  # root fields the planner answered with an error

    @property
    def fallbacks(self) -> Counter[str]:
        total = self.counted.copy()
        for plan in self.plans.values():
            total.update(plan.declined)
        return total

    @property
    def roots(self) -> Counter[tuple[str, str]]:
        total = self.counted_roots.copy()
        for plan in self.plans.values():
            self._count_roots(plan, total)
        return total

    @staticmethod
    def _count_roots(plan: Plan, total: Counter) -> None:
        declined = sum(plan.declined.values())
        if declined:
            for key in plan.by_reference:
                total[key] += declined

    def plan(self, query: str, operation_name: str | None, document: DocumentNode,
             operation: OperationDefinitionNode) -> Plan:
        key = (query, operation_name)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = Plan(self.schema, document, operation)
            if plan.unplannable is not None:
                log.debug("planner_fallback", reason=plan.unplannable, operation=operation_name, plan=True)
            if len(self.plans) > PLANS:
                _, evicted = self.plans.popitem(last=False)
                self.counted.update(evicted.declined)  # its counts stay in the totals
                self._count_roots(evicted, self.counted_roots)
        return plan

    def accepts(self, query: str, operation_name: str | None, document: DocumentNode,
                operation: OperationDefinitionNode, actor: Any = None, variables: dict[str, Any] | None = None) -> bool:
        """Whether some root field may be planned (else counted: the reference path answers it all),
        decided before any per-request work: from the plan (undeclared fields; for a signed-out caller,
        the public ones) and, when the caller knows the actor already (`actor`), from what the plan
        remembers for that actor (an operation that read nothing the last time). On the path of every
        request the reference path answers whole: a dict lookup, two tests and one increment
        (bench.planner_ratio times it)."""
        plan = self.plans.get((query, operation_name)) or self.plan(query, operation_name, document, operation)
        if actor is not None and actor.kind is ActorKind.ANONYMOUS:
            reason = plan.signed_out
            if reason is None:
                return True
        else:
            reason = plan.unplannable
            if reason is None:
                if actor is None or not plan.handed_back:
                    return True
                reason = self.handed_back(plan, actor, variables)
                if reason is None:
                    return True
        plan.declined[reason] += 1  # logged once, when the plan was made (`plan`): this is the fast path
        return False

    @staticmethod
    def handed_back(plan: Plan, actor: Any, variables: dict[str, Any] | None) -> str | None:
        """Why the reference path answers the whole operation for this actor, or None."""
        if plan.handed_back:
            key = Planner.handback_key(plan, actor, variables)
            until = plan.handed_back.get(key) if key is not None else None
            if until is not None:
                if until > time.monotonic():
                    return "nothing planned to read"
                del plan.handed_back[key]
        return None

    @staticmethod
    def handback_key(plan: Plan, actor: Any, variables: dict[str, Any] | None) -> tuple | None:
        """The key of `Plan.handed_back`: the actor and the values the answer may depend on (a literal
        operation's @skip/@include values, else every variable's raw value), or None (a value that is
        not a scalar: not remembered). Two requests of one key that coerce differently share a
        hand-back: harmless, the reference path answers whatever it is given."""
        values = variables or {}
        if plan.literal:
            flags = tuple([values.get(name) for name in plan.directive_variables])
            for flag in flags:
                if flag is not None and flag is not True and flag is not False:
                    return None
            return (actor, flags)
        raw = scalar_key(values)
        return None if raw is None else (actor, raw)

    def fell_back(self, reason: str, operation: str | None) -> None:
        self.counted[reason] += 1
        log.debug("planner_fallback", reason=reason, operation=operation)

    def _count(self, answer: Answer, label: str | None) -> None:
        self.counted_roots.update(answer.counted)
        if answer.complete:
            self.planned[label or "(anonymous)"] += 1

    async def run(self, context: Any, query: str, document: DocumentNode, operation: OperationDefinitionNode,
                  variables: dict[str, Any] | None, operation_name: str | None) -> Answer | None:
        """What the planner answered (the rest for the reference path), or None: the reference path
        answers the whole operation (and reports any error)."""
        plan = self.plan(query, operation_name, document, operation)
        label = operation.name.value if operation.name else operation_name
        signed_out = context.actor.kind is ActorKind.ANONYMOUS
        constant_key = None
        if signed_out:
            if plan.signed_out is not None:  # counted by `accepts`
                return None
            constant_key = scalar_key(variables)
            answer = plan.constants.get(constant_key) if constant_key is not None else None
            if answer is not None:  # a signed-out caller's answer that needs no read: from the plan
                self._count(answer, label)
                return answer
        elif plan.unplannable is not None:  # counted by `accepts`
            return None
        else:
            reason = self.handed_back(plan, context.actor, variables)
            if reason is not None:
                self.fell_back(reason, label)
                self.counted_roots.update((name, REFERENCE) for name in plan.root_names)
                return None
        handed_back = self.handback_key(plan, context.actor, variables)
        try:
            answer = await self._run(plan, context, variables or {}, label)
        except NothingToRead as reason:
            self.fell_back(reason.reason, label)
            if handed_back is not None and len(plan.handed_back) < STATEMENTS:
                plan.handed_back[handed_back] = reason.until
            answer = None
        except Fallback as reason:
            self.fell_back(reason.reason, label)
            answer = None
        except Exception as error:  # noqa: BLE001 - the reference path answers (and reports) it the usual way
            log.error("planner_failed", operation=label, error=repr(error), exc_info=error)
            self.fell_back("error", label)
            answer = None
        if answer is None or not answer.answered:
            self.counted_roots.update((name, REFERENCE) for name in plan.root_names)
            return None
        answer.counted = [(planned.name, PLANNER) for planned in answer.answered] + \
            [(planned.name, REFERENCE) for planned in answer.rest]
        self._count(answer, label)
        if answer.complete:
            answer.finish()
            if signed_out and answer.constant and constant_key is not None and len(plan.constants) < STATEMENTS:
                plan.constants[constant_key] = answer
        return answer

    async def _run(self, plan: Plan, context: Any, raw: dict[str, Any], label: str | None) -> Answer:
        coerced = plan.coerce(self.schema, raw)
        if isinstance(coerced, list):
            raise Fallback("variables")
        variables = coerced.coerced
        actor = context.actor
        env = Env(actor=actor, now=clock.now(), settings=getattr(context, "settings", None), context=context)
        info = info_of(context)
        roots = plan.roots(self.schema, variables)
        keys: list = [tuple(variables.get(name) for name in plan.directive_variables)]
        if plan.argument_variables:  # compiled into the statement (a nested field's arguments): its key
            keys[0] += tuple(repr(variables.get(name)) for name in plan.argument_variables)
        params: dict[str, Any] = {"planner_today": env.now.date()}  # declare.TODAY
        remembered: dict[int, tuple] = {}  # index -> the root's refusal key, for `Plan.refused`
        refused: dict[int, tuple[int, Exception]] = {}  # index -> (when, what the reference raises)
        rest: list[PlannedRoot] = []
        until = float("inf")  # a hand-back that rests on remembered refusals holds until they expire
        for index, planned in enumerate(roots):
            try:
                key, refusal = self._read(plan, planned, index, env, coerced, params, info)
                if refusal is not None:
                    remembered[index] = refusal
            except (Refused, DomainError, GraphQLError) as error:  # what the reference answers before a read
                refused[index] = (SYNC if planned.name != "__typename" and kind(self.schema, planned.name).sync
                                  else EARLY, error)
                key = REFUSED
            except Fallback as reason:
                self.fell_back(reason.reason, label)
                rest.append(planned)
                key = LEFT
                until = min(until, getattr(reason, "until", until))
            keys.append(key)
        statement_key = (actor, tuple(keys))
        entry = plan.statements.get(statement_key)
        if entry is None:
            entry = self._compile(plan, roots, keys[1:], variables, actor)
            plan.statements[statement_key] = entry
            if len(plan.statements) > STATEMENTS:
                plan.statements.popitem(last=False)
        else:
            plan.statements.move_to_end(statement_key)
        statement, shapers = entry
        if statement is None and not refused and any(shaping is LEFT or isinstance(shaping, str) for shaping in shapers) \
                and not any(ROOTS[planned.name].calls for planned, shaping in zip(roots, shapers, strict=True)
                            if type(shaping) is tuple and planned.name != "__typename"):
            # nothing to read here (`__typename`, values): the reference path answers it all as cheaply
            raise NothingToRead("nothing planned to read", until)
        row = await execute.one_row(context, statement, params) if statement is not None else None
        values = orjson.loads(row[0]) if row is not None else []
        data: dict[str, Any] = {}
        for index, (planned, shaping) in enumerate(zip(roots, shapers, strict=True)):
            if shaping is LEFT:  # counted when read
                continue
            if shaping is REFUSED:
                data[planned.key] = None
                continue
            if isinstance(shaping, str):  # refused when compiled: the reason
                self.fell_back(shaping, label)
                rest.append(planned)
                continue
            if isinstance(shaping, Exception):  # what the reference raises for this actor (compiled once)
                refused[index] = (LATE, shaping)
                data[planned.key] = None
                continue
            start, end, shape = shaping
            env.args = planned.args
            try:
                value = shape(values[start:end], env)
                data[planned.key] = await value if type(value) is CoroutineType else value  # a call (calls.Call)
            except (Refused, DomainError, GraphQLError) as error:  # after the read: an object out of reach
                refused[index] = (LATE, error)
                data[planned.key] = None
            except Fallback as reason:  # what the reference answers with an error (an object out of reach)
                self.fell_back(reason.reason, label)
                rest.append(planned)
                if index in remembered:  # the next call like this one goes to the reference path unread
                    plan.refused[remembered[index]] = time.monotonic() + REMEMBER
                    if len(plan.refused) > STATEMENTS:
                        plan.refused.popitem(last=False)
        failures = await self._refusals(context, roots, refused)
        left = {planned.key for planned in rest}
        constant = statement is None and all(
            (index in refused and not isinstance(refused[index][1], DomainError)) or planned.name == "__typename"
            or getattr(ROOTS.get(planned.name), "constant", False) for index, planned in enumerate(roots))
        return Answer(data=data, keys=[planned.key for planned in roots],
                      answered=[planned for planned in roots if planned.key not in left],
                      rest=[planned for planned in roots if planned.key in left],
                      operation=plan.operation, fragments=list(plan.fragments.values()), failures=failures,
                      schema=self.schema, constant=constant)

    async def _refusals(self, context: Any, roots: list[PlannedRoot], refused: dict[int, tuple[int, Exception]]
                        ) -> list[Failure]:
        """The root fields answered with an error, each as the reference answers it (a DomainError through
        its resolver's function, which audits a FORBIDDEN: after a write, LATE), located at the root."""
        failures = []
        indexes = sorted(refused)
        # as the reference's sibling root fields do: their conversions (a FORBIDDEN's audit write) together
        if len(indexes) > 1:  # the actor confirmed once (a bearer token's row read on the request's connection)
            await context.actor_confirmed()
            errors = await asyncio.gather(*(as_error(context, roots[index], refused[index][1]) for index in indexes))
        else:
            errors = [await as_error(context, roots[index], refused[index][1]) for index in indexes]
        for index, error in zip(indexes, errors, strict=True):
            phase = refused[index][0]
            planned = roots[index]
            if isinstance(refused[index][1], DomainError) and refused[index][1].code is ErrorCode.FORBIDDEN:
                phase = LATE
            located = locate(error, planned.nodes, planned.key)
            failures.append(Failure(index, phase, kind(self.schema, planned.name).non_null, located))
            code = (located.extensions or {}).get("code") or (  # a PermissionError is answered FORBIDDEN
                "FORBIDDEN" if isinstance(located.original_error, PermissionError) else "error")
            self.refusals[(planned.name, str(code))] += 1
        return failures

    def _read(self, plan: Plan, planned: PlannedRoot, index: int, env: Env, coerced: Any,
              params: dict, info: Any) -> tuple[Any, tuple | None]:
        """The root field's statement key (its parameters into `params`) and its key in `Plan.refused`
        (None when its values do not hash); what the reference raises for it (its permission classes,
        arguments it refuses: the planner answers that error); or Fallback: the reference path
        answers it (no declaration, a refusal remembered)."""
        if planned.name == "__typename":
            return None, None
        root = kind(self.schema, planned.name)
        if root.permissions:
            check_permissions(root, info)
        blocked = next((plan.blocked[id(node)] for node in planned.nodes if id(node) in plan.blocked), None)
        if blocked is not None:
            raise Unplannable(blocked)
        if plan.refusals:
            refusal = next((plan.refusals[id(node)] for node in planned.nodes if id(node) in plan.refusals), None)
            if refusal is not None:
                raise refusal
        declaration = ROOTS[planned.name]
        planned.args = get_argument_values(planned.definition, planned.nodes[0], coerced) \
            if planned.definition.args else {}
        key, values = declaration.read(planned.args, env, f"r{index}_")
        # a call (calls.Call) has no parameters of its own: its refusal is remembered by its arguments
        refusal: tuple | None = (env.actor, planned.key, key, tuple(sorted(
            (planned.args if declaration.calls else values).items())))
        try:
            until = plan.refused.get(refusal) if plan.refused else None
        except TypeError:  # a list among the values: not remembered
            until, refusal = None, None
        if until is not None:
            if until > time.monotonic():
                raise Remembered(f"{planned.name}: refused before", until)
            del plan.refused[refusal]
        params.update(values)
        return key, refusal

    def _compile(self, plan: Plan, roots: list[PlannedRoot], keys: list, variables: dict[str, Any], actor: Any):
        """(statement, one shaping per root: (start, end, shape), what the reference raises for it (an
        exception: the planner answers that error), or why the reference path answers it)."""
        compiler = Compiler(self.schema, plan.fragments, variables, actor)
        exprs: list = []
        shapers: list = []
        for index, (planned, key) in enumerate(zip(roots, keys, strict=True)):
            if key is LEFT or key is REFUSED:
                shapers.append(key)
                continue
            if planned.name == "__typename":
                shapers.append((0, 0, lambda values, env: "Query"))
                continue
            try:
                root_exprs, shape = ROOTS[planned.name].compile(compiler, planned, f"r{index}_")
            except (Refused, DomainError, GraphQLError) as error:
                shapers.append(error)
                continue
            except Fallback as reason:
                shapers.append(reason.reason)
                continue
            if len(exprs) + len(root_exprs) > 100:
                shapers.append("more than 100 root expressions")
                continue
            shapers.append((len(exprs), len(exprs) + len(root_exprs), shape))
            exprs.extend(root_exprs)
        if not exprs:
            return None, shapers
        return Prepared(select(cast(func.json_build_array(*exprs), Text))), shapers
