#!/usr/bin/env bash
# bench.start_trial loads the server with wrk (a load generator in C: it leaves the two cores to the
# server and PostgreSQL). Install Debian's wrk when missing; without it the benchmark falls back to
# its (much costlier) Python load client.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's wrk for bench.start_trial…" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
    || echo "warning: could not install wrk; bench.start_trial uses its Python load client" >&2
else
  echo "warning: wrk not found and not root; bench.start_trial uses its Python load client (apt-get install wrk)" >&2
fi
