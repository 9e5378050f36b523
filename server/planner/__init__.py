"""The read planner: the root fields of a query operation whose selections are declared plannable are
answered by ONE SQL statement on PostgreSQL, at the speed of hand-written asyncpg, and the reference
path answers the others in the same request.

How a request goes (server.graphql_http.prepare / run_planned, from `/graphql` and the pages):
1. The document is parsed and validated once (DocumentCache). The plan cache (`run.Planner.plans`,
   keyed by the document text and operation name, for persisted and ad-hoc queries alike) says in
   one dict lookup which root fields have a declaration for every field they may select (every
   branch, whatever `@skip`/`@include` say); the others are left to the reference path (counted by
   the first undeclared field). Partial plans: the planner answers the root fields it can, the
   reference path (graphql-core + Strawberry + DataLoaders) runs the rest in the same request as an
   operation of only those fields (`run.Answer.rest_document`), and the answer merges both in the
   document's order with both parts' errors in graphql-core's order. A mutation, or an operation with no
   plannable root field, goes whole to the reference path.
2. Variables are coerced like the executor does; each root field reads its arguments and says what of
   them shapes the SQL text (`Root.read`: the key) and what is bound (the parameters: filter values,
   search patterns, cursors, page sizes, the moment the status and expiry filters compare with).
   The statement cache of the plan is keyed by (actor, the `@skip`/`@include` variables' values,
   those keys): a repeated query shape costs a dict lookup, its SQL text was compiled once
   (`execute.Prepared`) and the asyncpg driver prepares it once per connection, whatever the
   argument values (tests/planner/test_prepared.py).
3. `compile.Compiler` walks the selection (fragments, inline fragments on types and interfaces,
   aliases, `@skip`/`@include`, `__typename`) against the declarations and builds one statement:
   each object is a `json_build_array` of its columns; each relation a correlated scalar subquery
   (`json_agg(... ORDER BY ...)` for lists) whose WHERE is the join plus the domain's own scope
   builder (`visibility.trial_condition`, `customer_condition`, `trial_reach`, `access_condition`,
   `customers.page_statement` / `count_statement` / `audit_scope` — the functions the reference
   resolvers and loaders call, never a copy). PostgreSQL answers one JSON text.
4. Python shapes that JSON into the answer (keys in the document's order) and computes the derived
   fields with the same domain functions as the reference types (global IDs, `status.derive`,
   `status.days_left`, `status.service_expired`, `return_instructions`, cursors), with one clock
   reading per request.
5. A root field whose answer is not a read of our rows (`calls.Call`: existingOrganization and
   availableServices by adminEmail — R-EX-01's look-up, rate-limited and audited, so it writes —,
   previewPartnerEmail — an email rendered from templates) is answered by awaiting the SAME function its
   resolver calls (`fn(context, args)`; the resolver is that call plus its error conversion) when its
   root field is shaped, after the statement: its reads on the context's read session, its writes in
   `context.unit_of_work()` on the write sessionmaker (`Context.write_sessionmaker`), so transaction,
   audit rows and rate limit are the resolver's own, once per request. Its Python value (the resolver's
   Strawberry objects) is picked to the selection by a picker built once per statement
   (`Compiler.picker`); graphql-core does not run. A DomainError it raises is raised before any write
   (a role refused, a malformed email, the hour's look-ups used up) and answered like any root's (the
   resolver's own conversion, which audits a FORBIDDEN once). A call runs only once the actor is
   confirmed (`Context.actor_confirmed`: a bearer token read in the statement gives a guessed actor).

Errors, as the reference answers them (server.planner.refusals): a root field the reference path
answers with an error the planner answers with the same error, decided from the same source: a
signed-out caller gets the permission class of the root field's Strawberry definition (its message and
extensions, as Strawberry raises them); arguments refused whoever asks (a malformed cursor, `first`
out of range: literal ones decided once with the plan) and a FORBIDDEN for this actor are what the
declaration raises, the domain's own DomainError or GraphQLError, turned into the GraphQL error by
the resolver's own function (`Root.refusal`: server.resolvers.answer.graphql_error by default, which
also writes the denial's audit row for a FORBIDDEN, R-ROLE-02, on the request's write sessionmaker);
an object out of reach is the domain's own NOT_FOUND (`visibility.missing_customer`,
`endpoints.missing_endpoint`, `log.missing_delivery`: the functions the domain raises them with,
`roots.ById(missing=)`, `roots.ChildrenOf(missing=)`), raised in the domain's order (FORBIDDEN first,
the page size last); a root raises `declare.Refused(error)` for anything else. Null goes at the
root's key (`data` null for a non-null root: graphql-core's null propagation) and the errors, located at the root field's
nodes and path, come in graphql-core's order, the reference path's merged in for a partial plan
(`refusals.settle`). A signed-out caller's operation that needs no read is answered from the plan
(`Plan.constants`: one dict lookup by the raw variables). What stays with the reference path: mutations,
variables that do not coerce (a request error, 400), a root field with an undeclared selection, a
`node` of a type registered for `node(id:)` but not planned, an ID out of 64 bits (the reference's
loader fails on it), a root its declaration hands back after its read (`Fallback` from a shaper:
remembered for `run.REMEMBER` seconds, `plans.Plan.refused`); the counter `fallbacks[reason]` grows
and a debug log line says so.
An exception inside the planner is logged and the reference path answers the whole operation.
What the reference path answers whole is decided before any per-request work (graphql_http.prepare
→ `Planner.accepts`, from the plan and the caller when it is known already): every root field
undeclared (for a signed-out caller: every public one), an operation that read nothing for this actor
the last time; so such a query costs the reference path and a dict lookup. An operation of constants
only (`__typename`, trialDurations) is the planner's, without a read.
Counters: `/metrics` (loopback only: per operation, per root field and path, per reason, the errors
the planner answered per root field and code) and
`trialdesk planner report` (server.planner.metrics), which also lists the root fields left to the
reference path and why (`declare.unplanned`). SQLite and `TRIALDESK_COMPILED_OPERATIONS=0` keep the
reference path for everything.

Making a field plannable is one declaration beside its Strawberry type (server.planner.declare), e.g.
in server/schema/types/trials.py:

    plan.plannable("Trial", TrialRow, version=plan.Column("version"),
                   daysLeft=plan.Derived(lambda env, ends: status.days_left(ends, env.now), plan.TimeInput("ends_at")))

and a root field one `plan.root(name, roots.<shape>(...))` beside its resolver. tests/planner/test_property.py
then generates queries over it and compares the planner's answers with the reference path's.

Modules: declare (vocabulary, registry), compile (selection → SQL + shapers), roots (root shapes:
by ID, lists, connections, children of a reachable parent), calls (roots answered by a call of the
resolver's own function), plans (what is decided once per document, what is remembered per actor),
run (plan cache, fallback, counters), refusals (root fields answered with an error, the answer and
its merge with the reference path's),
execute (the read pool: one checkout per request), metrics.
"""
