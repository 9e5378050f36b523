"""Usage and adoption (SPEC §10): the platform reports usage, partners see which trials are alive.

Modules: `lines` (one NDJSON line read and checked, R-USE-01/02), `ingest` (a batch: lines in,
accepted and rejected out, stored in one transaction), `storage` (the SQL of the per-user days and
their rollups, PostgreSQL's monthly partitions, retention and release: R-USE-08), `adoption` (a
trial's figures and health, R-USE-03/04), `sql` (health as SQL for the customers list's filter and
order), `trials` (the adoption of trials named by id, as the worker reads it), `report` (the usage the
warning emails say when they are sent, R-USE-06), `evaluation` (the daily health record and its
webhook event, R-USE-07).

Decisions where the SPEC is silent:
- A line is an assignment line when it has `assignedLicenses` and no `user`, else an activity line;
  an activity line needs `user`, `events` and `minutes` (a missing count is refused, not taken as
  0). A count is a whole JSON number from 0 to 2^31-1 (`3.0` is whole; `true` is not a number).
  A line with both `user` and `assignedLicenses` is refused (field `assignedLicenses`).
- Lines of one batch for the same key: the last one wins, as if sent one after another.
- An org "that is not a customer" is an ID that does not decode to an existing customer org; an
  org whose whole record was released (its stored status RELEASED) answers NOT_FOUND as well.
- Blank lines are skipped but still counted, so line numbers match the file the platform sent.
- A user line with 0 events and 0 minutes is stored (it replaces an earlier report) but is not
  activity: it counts for no active user and no last active day.
"""
