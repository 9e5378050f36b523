"""The read planner: any query operation whose fields are declared plannable is answered
by ONE SQL statement on PostgreSQL, at the speed of the hand-written runners it replaced.

How a request goes (server.graphql_http.plannable / run_planned, from `/graphql` and the pages):
1. The document is parsed and validated once (DocumentCache). The plan cache (`run.Planner.plans`,
   keyed by the document text and operation name, for persisted and ad-hoc queries alike) says in
   one dict lookup whether every field the operation may select (every branch, whatever
   `@skip`/`@include` say) has a declaration; if not, the whole operation goes to the reference path
   (graphql-core + Strawberry + DataLoaders) and the first undeclared field is counted. No partial
   mixing: an operation is planned entirely or not at all.
2. Variables are coerced like the executor does; each root field reads its arguments and says what of
   them shapes the SQL (`Root.key`) and what is bound (`Root.params`). The statement cache of the
   plan is keyed by (actor, the `@skip`/`@include` variables' values, those keys): a repeated query
   costs a dict lookup and its SQL text was compiled once (`execute.Prepared`). Arguments that read
   the clock (status and expiry filters) or vary per call (search terms, cursors) build the
   statement per call and run through SQLAlchemy's compiled cache.
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

Fallback, honestly: whatever the reference path answers with an error is not answered here — a
signed-out caller, variables that do not coerce, a bad cursor, `first` out of range, a viewer with no
reach (the reference logs the denial), an `auditEvents` customer out of reach, an ID out of 64 bits,
a `node` of a type registered for `node(id:)` but not planned. The planner raises `Fallback`, the
counter `fallbacks[reason]` grows, a debug log line says so, and the reference path answers the same
request (errors, `userErrors` of mutations — never planned — and nulls exactly as always). An
exception inside the planner is logged and also falls back. Counters: `/metrics` (loopback only) and
`trialdesk planner report` (server.planner.metrics). SQLite and `TRIALDESK_COMPILED_OPERATIONS=0`
keep the reference path for everything.

Making a field plannable is one declaration beside its Strawberry type (server.planner.declare), e.g.
in server/schema/types/trials.py:

    plan.plannable("Trial", TrialRow, version=plan.Column("version"),
                   daysLeft=plan.Derived(lambda env, ends: status.days_left(ends, env.now), plan.TimeInput("ends_at")))

and a root field one `plan.root(name, roots.<shape>(...))` beside its resolver. tests/planner/test_property.py
then generates queries over it and compares the planner's answers with the reference path's.

Modules: declare (vocabulary, registry), compile (selection → SQL + shapers), roots (root shapes:
by ID, lists, connections, children of a reachable parent), run (plan cache, fallback, counters),
execute (the read pool: one checkout per request), metrics.
"""
