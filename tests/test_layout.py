"""The code's shape, checked: no import circle inside server/domain (function-level imports count too),
and no module over 400 lines in server/ and jobs/ (a module that grows past that has two ideas in it)."""
from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def _circles(graph, modules: set[str]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), over imports among `modules`."""
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circle_inside_the_domain():
    graph = grimp.build_graph("server")
    domain = {m for m in graph.modules if m.startswith("server.domain.")}
    assert _circles(graph, domain) == []


def test_no_module_over_400_lines():
    long = {str(path.relative_to(ROOT)): n for folder in ("server", "jobs") for path in (ROOT / folder).rglob("*.py")
            if "migrations" not in path.parts and (n := len(path.read_text().splitlines())) > 400}
    assert long == {}
