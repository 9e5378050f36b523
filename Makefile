# Trialdesk: `make run` and `make test` work on a fresh machine with Python 3.11+ (uv is installed if missing).
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: install uv run test test-postgres test-sqlite test-browser chromium lint bench schema clean mutate

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

install: uv
	@$(UV) sync --frozen --quiet

## make run: migrate, seed the demo partner, start web + worker (SQLite + embedded Redis unless DATABASE_URL/REDIS_URL)
run: install
	@$(UV) run trialdesk run

## make test: the whole suite, on PostgreSQL/Redis (when reachable) and on the embedded default
test: install chromium
	@bash scripts/test.sh

lint: install
	@$(UV) run lint-imports

chromium:
	@bash scripts/ensure-chromium.sh

## make bench: the benchmarks (PostgreSQL; bench.postgraphile installs PostGraphile 5 and Node 22 with npm into var/), then the long forms of the `slow` tests (crash loops) on both backends
bench: install
	@bash scripts/ensure-wrk.sh
	@$(UV) run python -m bench
	@TRIALDESK_TEST_BACKEND=postgres $(UV) run pytest -q -m slow -p no:cacheprovider
	@TRIALDESK_TEST_BACKEND=sqlite $(UV) run pytest -q -m slow -p no:cacheprovider

## make mutate: mutation score of server/domain (a seeded sample of 200 mutmut mutants, time-boxed to
## ~30 min, embedded default; not part of make test): prints the score and the survivors
mutate: install
	@nice -n 19 $(UV) run python scripts/mutate.py

schema: install
	@$(UV) run trialdesk schema export

clean:
	rm -rf var/*.db var/*.db-* .pytest_cache test-output
