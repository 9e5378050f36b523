#!/usr/bin/env bash
# Browser tests drive Debian's Chromium with Playwright (Playwright's own browser download is not
# possible here). Install it from Debian's packages when missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests…" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; browser tests will be skipped" >&2
else
  echo "warning: chromium not found and not root; browser tests will be skipped (apt-get install chromium)" >&2
fi
