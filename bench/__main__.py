"""`make bench`: run every benchmark module in bench/ that has a `main()`, one after another.

Benchmarks never assert timings (machines are noisy); they print ratios against a baseline
measured in the same run. They need PostgreSQL (127.0.0.1:5432) and Redis where they say so.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main() -> int:
    only = set(sys.argv[1:])
    modules = [m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")]
    for name in sorted(modules):
        if only and name not in only:
            continue
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "main"):
            continue
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        module.main()
        print(f"--- bench.{name}: {time.perf_counter() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
