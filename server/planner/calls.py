"""Root fields whose answer is not a read of our rows: a call of the domain's Python (an org look-up that
is rate-limited and audited, so it writes; an email rendered from templates; a check in Python beside one
read), answered by the planner with the SAME function the Strawberry resolver calls, its value shaped to
the selection without graphql-core's execution.

`Call(type, fn)`: `fn(context, args)` is the resolver's own function (the resolver is `fn(info.context,
...)` and the error conversion): awaited once per request when its root field is shaped
(server.planner.run), after the statement of the other root fields, on the request's context — its
reads on the context's read session (`loaders.read`), its writes in `context.unit_of_work()` on the
write sessionmaker (`Context.write_sessionmaker`: the same transaction, audit rows and rate limits as
the resolver's, since it is the resolver's code), and only once the actor is confirmed
(`Context.actor_confirmed`: a bearer token read in the planner's statement gives a guessed actor until
its row is checked). What it answers — the resolver's Strawberry objects,
or a list of them, or None — is picked to the selection (`Compiler.picker`: aliases, fragments,
`__typename`, `@skip`/`@include`), the picker built once per statement, not walked per request.

A DomainError the function raises (a role refused, an email malformed, the hour's look-ups used up, a
customer out of reach: every one before any write, none counted, nothing audited) is answered by the
planner as the resolver answers it (server.planner.run: the root's `refusal`, by default
`answer.graphql_error`, the resolver's own conversion, which audits a FORBIDDEN once, R-ROLE-02).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from server.planner.declare import Fallback, Root


class Call(Root):
    """`fn(context, args) -> value`: the resolver's function, awaited per request; `many`: it answers a
    list of objects of `type_name`."""

    calls = True

    def __init__(self, type_name: str, fn: Callable[[Any, dict[str, Any]], Awaitable[Any]], many: bool = False,
                 public: bool = False) -> None:
        self.type_name, self.fn, self.many, self.public = type_name, fn, many, public

    def key(self, args: dict[str, Any], env: Any) -> Hashable:
        return ()  # nothing of the statement: the call reads its arguments per request (env.args)

    def compile(self, compiler: Any, planned: Any, prefix: str):
        pick, fn, many, name = compiler.picker(self.type_name, planned.nodes), self.fn, self.many, planned.name

        async def answer(values: list, env: Any) -> Any:
            if not await env.context.actor_confirmed():  # a bearer token's guessed actor, not (any longer) its own
                raise Fallback(f"{name}: not the token's actor")  # the request is planned again for the right one
            value = await fn(env.context, env.args)  # a DomainError: answered as the resolver answers it (run.py)
            if value is None:
                return None
            return [pick(item) for item in value] if many else pick(value)
        return [], answer
