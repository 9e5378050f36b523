#!/usr/bin/env bash
# The whole suite, twice: on PostgreSQL + Redis when they answer, then on the embedded default
# (SQLite file + embedded redis-server). Browser tests run once, in the embedded pass.
set -uo pipefail
UV=$(command -v uv || echo "python3 -m uv")
status=0

$UV run lint-imports --no-cache >/tmp/trialdesk-lint.txt 2>&1 || { cat /tmp/trialdesk-lint.txt; status=1; }

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
  echo "=== PostgreSQL + Redis ==="
  TRIALDESK_TEST_BACKEND=postgres $UV run pytest -m "not browser" -p no:cacheprovider "$@" || status=1
else
  echo "=== PostgreSQL or Redis not reachable on 127.0.0.1: skipping that pass ==="
fi
echo "=== embedded default: SQLite + embedded Redis ==="
TRIALDESK_TEST_BACKEND=sqlite $UV run pytest -p no:cacheprovider "$@" || status=1
exit $status
