#!/usr/bin/env bash
# The whole suite, twice: on PostgreSQL + Redis when they answer, and on the embedded default
# (SQLite file + embedded redis-server). Browser tests run once, in the embedded pass.
#
# The two passes run at the same time (each spends much of its time waiting on its database,
# subprocesses or browser: on the shared 2-core machine, 2026-11-30, both together took 8 min, the
# PostgreSQL pass 7.8 and the embedded one 6.9, where one after the other took ~21), each writing
# to its own file, printed in order as they finish; the exit status is non-zero when either failed.
# They share nothing: the PostgreSQL pass has its own database (td_test_<run id>) and arq queue name
# on the machine's Redis, the embedded pass a SQLite file and a redis-server on
# a free port under its own --basetemp; servers the tests start take free ports.
#
# Python writes its bytecode caches here even when the environment says PYTHONDONTWRITEBYTECODE:
# without them every process compiles every module it imports from source again, ~3 s of CPU for
# each of the ~30 CLI, worker and server subprocesses the suite starts, and the pytest processes.
set -uo pipefail
UV=$(command -v uv || echo "python3 -m uv")
unset PYTHONDONTWRITEBYTECODE
status=0
out=$(mktemp -d "${TMPDIR:-/tmp}/trialdesk-test.XXXXXX")
pg_pid="" sqlite_pid=""
trap 'rm -rf "$out"' EXIT
# Background commands ignore Ctrl-C in a script: pass it on to both passes (uv forwards TERM).
trap 'kill -TERM $pg_pid $sqlite_pid 2>/dev/null; wait; exit 130' INT TERM

$UV run lint-imports --no-cache >"$out/lint.txt" 2>&1 || { cat "$out/lint.txt"; status=1; }

pg_up=$($UV run python - <<'PY'
import asyncio, os
async def main():
    import asyncpg, redis.asyncio as r
    try:
        c = await asyncpg.connect(os.environ.get("TRIALDESK_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"), timeout=3)
        await c.close()
        await r.from_url(os.environ.get("TRIALDESK_TEST_REDIS", "redis://127.0.0.1:6379/0"), socket_connect_timeout=3).ping()
        print("yes")
    except Exception:
        print("no")
asyncio.run(main())
PY
)

if [ "$pg_up" = "yes" ]; then
  mkdir -p "$out/postgres-tmp"
  TRIALDESK_TEST_BACKEND=postgres $UV run pytest -m "not browser" -p no:cacheprovider \
    --basetemp "$out/postgres-tmp" "$@" >"$out/postgres.txt" 2>&1 &
  pg_pid=$!
fi
mkdir -p "$out/sqlite-tmp"
TRIALDESK_TEST_BACKEND=sqlite $UV run pytest -p no:cacheprovider \
  --basetemp "$out/sqlite-tmp" "$@" >"$out/sqlite.txt" 2>&1 &
sqlite_pid=$!

if [ -n "$pg_pid" ]; then
  wait "$pg_pid" || status=1
  echo "=== PostgreSQL + Redis ==="
  cat "$out/postgres.txt"
else
  echo "=== PostgreSQL or Redis not reachable on 127.0.0.1: skipping that pass ==="
fi
wait "$sqlite_pid" || status=1
echo "=== embedded default: SQLite + embedded Redis ==="
cat "$out/sqlite.txt"
exit $status
