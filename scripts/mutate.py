"""`make mutate`: a time-boxed mutation score for server/domain (issue 26). Not part of `make test`.

Mutants are mutmut's (2.5, its mutation engine as a library: operators, comparisons, numbers,
strings, keywords, `and`/`or`, assignments...) over every module of server/domain; a deterministic
sample (seeded) of `--sample` of them is run: a quarter from the planner's scope code (the scope,
filter and keyset builders the read planner compiles into its SQL, `SCOPE` below: R-ORG-02 and
R-ROLE-02's reach), the rest from the whole domain. Only mutants that change what runs are drawn:
inside a function or method body, or a module-level constant (mutmut also mutates decorators,
signatures' defaults, class attributes such as enum values: not drawn).

How it runs, on the embedded default (SQLite + embedded Redis), in ONE pytest session (a process per
mutant would cost ~10-40 s of start-up on the shared machine):
1. Map: every candidate test runs once, unmutated, with a profiler noting which of the sampled
   mutants' functions (or modules, for a constant) each test calls. Failing tests are left out.
2. For each mutant: the mutated function's code object is swapped into the live function (every
   module that imported it sees it; a module constant is re-evaluated, with the constants computed
   from it, and re-bound wherever it was imported); caches (`lru_cache`) are cleared; the tests that
   call it (for a constant: call its module, or name it in their file) run until one fails (killed)
   or all pass (survived): first the tests that killed another mutant of the same function
   (`var/mutate-killers.json`, kept across runs), then fastest first, a test of the concept's own
   folder counted four times faster. A mutant no test calls survives at once. Then the original
   code is restored.
The read planner itself (server/planner) is not mutated: the embedded default never runs it (its
scope builders are these domain functions; tests/planner/test_property.py breaks them in the
planner on PostgreSQL).

Survivors listed in scripts/equivalent_mutants.txt (file, original line, mutated line, why) are
reported as equivalent and left out of the adjusted score.

    uv run python scripts/mutate.py [--sample 200] [--seed 26] [--minutes 28] [--per-mutant 60]
    uv run python scripts/mutate.py --list scripts/mutate_sample_3e8efd7.txt   # the scored sample again
    MUTATE_MINUTES=120 make mutate     # a longer time box on a loaded machine (the default stays 28)
"""
from __future__ import annotations

import __future__

import argparse
import ast
import difflib
import hashlib
import importlib
import inspect
import json
import os
import random
import re
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "server" / "domain"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent_mutants.txt"
MAP = ROOT / "var" / "mutate-map.json"
#: Which tests killed a mutant of each function (or module, for a constant) in earlier runs: tried first.
KILLERS = ROOT / "var" / "mutate-killers.json"
#: The domain concept's own test folder when it is not named like the concept.
TEST_FOLDER = {"partner_settings": "settings"}
#: The planner's scope code: the builders its SQL is made of (server/planner/__init__.py, step 3).
SCOPE = {
    "server/domain/core/visibility.py": None,  # every function
    "server/domain/orgs/customers.py": {"_conditions", "sort_key", "_after", "page_statement", "count_statement",
                                        "audit_scope", "audit_order"},
    "server/domain/trials/status.py": {"_trial_rules", "_has", "sql_filter"},
}
#: Tests that cannot see an in-process mutant (they start `trialdesk` processes) or that fuzz for
#: minutes; browser and slow tests are deselected by marker.
IGNORED = ["tests/cli/test_cli.py", "tests/timeline/test_crash.py", "tests/webhooks/test_crash.py",
           "tests/timeline/test_worker.py", "tests/security/test_api_fuzz.py", "tests/security/test_form_fuzz.py",
           "tests/planner/test_property.py", "tests/cli/test_cli_seed.py"]
FUTURE = __future__.annotations.compiler_flag
#: Progress and the report go to the terminal even while pytest captures output (fd 1 is its file then).
OUT = os.fdopen(os.dup(1), "w", buffering=1)


def say(*parts: object) -> None:
    print(*parts, file=OUT, flush=True)


@dataclass
class Mutant:
    path: str               # relative to the repository
    module: str
    line: int               # 1-based
    original: str
    mutated: str
    source: str = ""        # the whole mutated module, filled for drawn mutants
    kind: str = "function"  # or "constant"
    target: str = ""        # the function's qualname, or the constant statement's index in the module
    scope: bool = False
    outcome: str = ""       # killed / survived / not covered / time limit / not applied
    killer: str = ""
    seconds: float = 0.0

    @property
    def key(self) -> tuple[str, str, str]:
        return self.path, self.original.strip(), self.mutated.strip()

    def label(self) -> str:
        return f"{self.path}:{self.line} [{self.target}] {self.original.strip()!r} -> {self.mutated.strip()!r}"


def _body_start(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1].lineno  # after the docstring
    return body[0].lineno


def _spans(tree: ast.Module) -> list[tuple[int, int, str, str]]:
    """(first line, last line, kind, target) of what a mutant may be drawn from."""
    spans = []
    for index, node in enumerate(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            spans.append((_body_start(node), node.end_lineno, "function", node.name))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    spans.append((_body_start(item), item.end_lineno, "function", f"{node.name}.{item.name}"))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and all(
                isinstance(t, ast.Name) for t in (node.targets if isinstance(node, ast.Assign) else [node.target])):
            spans.append((node.lineno, node.end_lineno, "constant", str(index)))
    return spans


def in_scope(path: str, target: str) -> bool:
    if path not in SCOPE:
        return False
    names = SCOPE[path]
    return names is None or target.split(".")[0] in names


def enumerate_mutants() -> list[Mutant]:
    from mutmut import Context, list_mutations

    found = []
    for file in sorted(DOMAIN.rglob("*.py")):
        rel = file.relative_to(ROOT).as_posix()
        source = file.read_text()
        lines = source.splitlines()
        spans = _spans(ast.parse(source))
        module = rel[:-3].replace("/", ".").removesuffix(".__init__")
        for mid in list_mutations(Context(source=source, filename=rel)):
            line = mid.line_number + 1
            span = next((s for s in spans if s[0] <= line <= s[1]), None)
            if span is None:
                continue
            mutant = Mutant(rel, module, line, lines[line - 1], "", kind=span[2], target=span[3],
                            scope=in_scope(rel, span[3]) if span[2] == "function" else False)
            mutant.mid = mid  # type: ignore[attr-defined]
            found.append(mutant)
    return found


def draw(mutants: list[Mutant], sample: int, seed: int, scope_share: float) -> list[Mutant]:
    rng = random.Random(seed)
    scope = [m for m in mutants if m.scope]
    rest = [m for m in mutants if not m.scope]
    from_scope = min(len(scope), round(sample * scope_share))
    drawn = rng.sample(scope, from_scope) + rng.sample(rest, min(len(rest), sample - from_scope))
    return describe(drawn)


def again(mutants: list[Mutant], progress: Path) -> list[Mutant]:
    """The mutants a previous run's progress lines (its output) did not report killed, found again by
    file and text (lines may have moved since)."""
    wanted = set()
    for line in progress.read_text(errors="replace").replace("\x00", "").splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and "/" in parts[0] and not parts[1].startswith("killed"):
            label = parts[2].split("  ", 1)[-1].strip() if "  " in parts[2] else parts[2]
            path, _, rest = label.partition(":")
            wanted.add((path.split()[-1], rest.split("] ", 1)[-1]))
    files = {path for path, _ in wanted}
    found = describe([m for m in mutants if m.path in files])
    return [m for m in found if (m.path, m.label().split("] ", 1)[-1]) in wanted]


def listed(mutants: list[Mutant], listing: Path) -> list[Mutant]:
    """The mutants a list names, one a line, tab-separated: file, original line, mutated line (as the
    report prints them, stripped), then either a note (scripts/equivalent_mutants.txt: its reason) or
    the function and a note (scripts/mutate_sample_3e8efd7.txt), found in the current code by file,
    text and, when given, function (a line's text may repeat in a file)."""
    wanted: dict[str, dict[tuple[str, str], set[str]]] = {}
    for line in listing.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            columns = line.split("\t")
            target = columns[3] if len(columns) > 4 else ""
            wanted.setdefault(columns[0], {}).setdefault((columns[1].strip(), columns[2].strip()), set()).add(target)
    # describing a mutant parses its module: only those whose line is part of a listed original
    maybe = [m for m in mutants if m.path in wanted
             and any(m.original.strip() in original for original, _ in wanted[m.path])]
    found = []
    for m in describe(maybe):
        targets = wanted[m.path].get((m.original.strip(), m.mutated.strip()))
        # a constant's target is its statement's index in the module: it moves with any import added
        if targets is not None and ("" in targets or m.target in targets or m.kind == "constant"):
            found.append(m)
    missing = sum(len(pairs) for pairs in wanted.values()) - len({m.key for m in found})
    if missing:
        say(f"{listing.name}: {missing} listed mutants are not in the current code")
    return found


def describe(drawn: list[Mutant]) -> list[Mutant]:
    from mutmut import Context, mutate

    for m in drawn:
        original = (ROOT / m.path).read_text()
        m.source, _ = mutate(Context(source=original, mutation_id=m.mid, filename=m.path))  # type: ignore[attr-defined]
        old, new = original.splitlines(), m.source.splitlines()
        block = next((b for b in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
                      if b[0] != "equal"), None)
        if block is not None:  # what changed (a mutant may join or split lines)
            m.line = block[1] + 1
            m.original = " / ".join(line.strip() for line in old[block[1]:block[2]])
            m.mutated = " / ".join(line.strip() for line in new[block[3]:block[4]])
    return sorted(drawn, key=lambda m: (m.path, m.line, m.mutated))


# --- applying a mutant to the live modules ------------------------------------------------------

def _find_code(code: types.CodeType, qualname: str) -> types.CodeType | None:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_qualname == qualname:
                return const
            inner = _find_code(const, qualname)
            if inner is not None:
                return inner
    return None


def live_function(module: types.ModuleType, qualname: str) -> types.FunctionType | None:
    head, _, tail = qualname.partition(".")
    obj = module.__dict__.get(head)
    if tail:
        if not inspect.isclass(obj):
            return None
        obj = obj.__dict__.get(tail)
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        elif isinstance(obj, property):
            obj = obj.fget
    for _ in range(5):
        if isinstance(obj, types.FunctionType) and obj.__code__.co_qualname == qualname:
            return obj
        obj = getattr(obj, "__wrapped__", None)
    return None


#: Module-level memos of built statements that are not `lru_cache`s (cleared like them, so a mutant of
#: the code that builds them is what runs).
MEMOS = {"server.domain.trials.start_rows": ["_statements"]}


def clear_caches() -> None:
    for name, module in list(sys.modules.items()):
        if name.startswith("server.domain") and module is not None:
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                    value.cache_clear()
            for memo in MEMOS.get(name, []):
                getattr(module, memo).clear()


def _ours(module: types.ModuleType | None) -> bool:
    """A module of this repository (server, jobs, a test module: pytest names those after their folder,
    e.g. `webhooks.test_delivery`, tests/ being no package), not a dependency's."""
    file = getattr(module, "__file__", None) or ""
    return file.startswith(str(ROOT)) and f"{os.sep}.venv{os.sep}" not in file


def _rebind(old: dict[str, object], new: dict[str, object]) -> list[tuple[object, str, object]]:
    """Re-bind every module attribute that is one of `old`'s objects to its `new` value; returns what
    to put back."""
    undo = []
    replaced = {id(value): name for name, value in old.items()}
    for module in list(sys.modules.values()):
        if not _ours(module):
            continue
        for attr, value in list(vars(module).items()):
            name = replaced.get(id(value))
            if name is not None and value is old[name]:
                undo.append((module, attr, value))
                setattr(module, attr, new[name])
            undo += _rebind_defaults(value, module, old, new)
    return undo


def _default_names(fn: types.FunctionType) -> tuple[list[str | None], dict[str, str | None]]:
    """The constant each default of `fn` was written as (`batch: int = RETENTION_BATCH` or
    `= log.RETENTION_BATCH`: "RETENTION_BATCH"; a literal: None), positional and keyword-only."""
    try:
        node = ast.parse(inspect.cleandoc("\n" + inspect.getsource(fn))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return [], {}

    def name(expr: ast.expr | None) -> str | None:
        return expr.id if isinstance(expr, ast.Name) else expr.attr if isinstance(expr, ast.Attribute) else None

    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [], {}
    args = node.args
    return ([name(d) for d in args.defaults],
            {a.arg: name(d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})


def _rebind_defaults(value: object, module: types.ModuleType, old: dict[str, object],
                     new: dict[str, object]) -> list[tuple[object, str, object]]:
    """A default argument is evaluated once, when its `def` runs: a constant's mutant reaches it only
    by re-binding the function's `__defaults__` / `__kwdefaults__` where they were written as that
    constant (mutmut re-imports the module, so there the default changes too)."""
    functions = [value] if isinstance(value, types.FunctionType) else [
        v for v in vars(value).values() if isinstance(v, types.FunctionType)] if inspect.isclass(value) else []
    undo = []
    for fn in functions:
        if fn.__module__ != module.__name__ or not (fn.__defaults__ or fn.__kwdefaults__):
            continue
        if not any(d is o for d in (*(fn.__defaults__ or ()), *(fn.__kwdefaults__ or {}).values())
                   for o in old.values()):
            continue
        positional, keywords = _default_names(fn)
        if fn.__defaults__ and len(positional) == len(fn.__defaults__):
            values = tuple(new[n] if n in old and d is old[n] else d for n, d in zip(positional, fn.__defaults__))
            if any(a is not b for a, b in zip(values, fn.__defaults__)):
                undo.append((fn, "__defaults__", fn.__defaults__))
                fn.__defaults__ = values
        if fn.__kwdefaults__:
            values = {k: new[keywords[k]] if keywords.get(k) in old and d is old[keywords[k]] else d
                      for k, d in fn.__kwdefaults__.items()}
            if any(values[k] is not d for k, d in fn.__kwdefaults__.items()):
                undo.append((fn, "__kwdefaults__", fn.__kwdefaults__))
                fn.__kwdefaults__ = values
    return undo


class Applied:
    """One mutant in the live process; `restore()` puts the original back."""

    def __init__(self, mutant: Mutant) -> None:
        self.mutant = mutant
        self.undo: list[tuple[object, str, object]] = []
        module = importlib.import_module(mutant.module)
        if mutant.kind == "function":
            fn = live_function(module, mutant.target)
            code = _find_code(compile(mutant.source, str(ROOT / mutant.path), "exec", dont_inherit=True),
                              mutant.target)
            if fn is None or code is None or len(code.co_freevars) != len(fn.__code__.co_freevars):
                raise LookupError(f"cannot place {mutant.label()}")
            self.undo.append((fn, "__code__", fn.__code__))
            fn.__code__ = code
        else:
            self._constant(module)
        clear_caches()

    def _constant(self, module: types.ModuleType) -> None:
        """Re-run the mutated statement, and each later module-level assignment that reads a name it
        changed, in the module's namespace; re-bind the changed objects wherever they were imported."""
        tree = ast.parse(self.mutant.source)
        start = int(self.mutant.target)
        namespace = dict(module.__dict__)
        changed: set[str] = set()
        old: dict[str, object] = {}
        for index, stmt in enumerate(tree.body[start:], start):
            if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or stmt.value is None:
                continue
            targets = [t.id for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                       if isinstance(t, ast.Name)]
            reads = {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
            if index != start and not reads & changed:
                continue
            exec(compile(ast.Module([stmt], []), str(ROOT / self.mutant.path), "exec", flags=FUTURE,
                         dont_inherit=True), namespace)
            for name in targets:
                old.setdefault(name, module.__dict__.get(name))
                changed.add(name)
        new = {name: namespace[name] for name in changed}
        self.undo = _rebind(old, new)
        for name in changed:
            if module.__dict__.get(name) is old[name]:
                self.undo.append((module, name, old[name]))
                setattr(module, name, new[name])

    def restore(self) -> None:
        for obj, attr, value in reversed(self.undo):
            setattr(obj, attr, value)
        clear_caches()


PROBE = "_mutate_probe_"


def domain_modules() -> list[types.ModuleType]:
    names = [f.relative_to(ROOT).as_posix()[:-3].replace("/", ".").removesuffix(".__init__")
             for f in sorted(DOMAIN.rglob("*.py"))]
    return [importlib.import_module(name) for name in names]


def probes(reach) -> list[tuple[object, str, object]]:
    """Instrument every function and method of server/domain to call `reach("module:qualname")`
    first, so the map knows which tests reach which function (a profiler costs ~10x the tests'
    time; a probe one call per call of a domain function). Returns what to put back."""
    undo: list[tuple[object, str, object]] = []
    for module in domain_modules():
        path = Path(module.__file__)
        tree = ast.parse(path.read_text())
        functions = []
        for node in [tree, *(n for n in tree.body if isinstance(n, ast.ClassDef))]:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    qualname = f"{node.name}.{item.name}" if isinstance(node, ast.ClassDef) else item.name
                    call = ast.parse(f"{PROBE}({module.__name__ + ':' + qualname!r})").body[0]
                    item.body.insert(0, ast.copy_location(call, item.body[0]))
                    ast.fix_missing_locations(item)
                    functions.append(qualname)
        code = compile(tree, str(path), "exec", dont_inherit=True)
        undo.append((module, PROBE, None))
        setattr(module, PROBE, reach)
        for qualname in functions:
            fn, probed = live_function(module, qualname), _find_code(code, qualname)
            if fn is not None and probed is not None and len(probed.co_freevars) == len(fn.__code__.co_freevars):
                undo.append((fn, "__code__", fn.__code__))
                fn.__code__ = probed
    return undo


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def load_map(fresh: bool) -> dict:
    """The cached map: {nodeid: {"file": hash of its test file, "seconds": s, "reached": [...]}}."""
    if fresh or not MAP.exists():
        return {}
    return json.loads(MAP.read_text())


# --- the pytest session -------------------------------------------------------------------------

class KeepSession:
    """A stand-in `nextitem`: tear down everything of the test that ran except the session's fixtures
    (the app, the database, the embedded Redis stay up between tests)."""

    def __init__(self, session) -> None:
        self.session = session

    def listchain(self):
        return [self.session]


@dataclass(eq=False)  # hashable: pytest keeps plugins in sets
class Plugin:
    mutants: list[Mutant]
    minutes: float
    per_mutant: float
    started: float = field(default_factory=time.monotonic)
    failed: bool = False
    reached: dict[str, list[tuple[float, object]]] = field(default_factory=dict)
    fresh: bool = False
    mapped_tests: int = 0
    map_seconds: float = 0.0

    killers: dict[str, list[str]] = field(default_factory=dict)
    timed: dict[str, tuple[float, object]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def where(mutant: Mutant) -> str:
        return f"{mutant.module}:{mutant.target}" if mutant.kind == "function" else f"{mutant.module}:"

    def order(self, mutant: Mutant, reaching: list[tuple[float, object]]) -> list[tuple[float, object]]:
        """The reaching tests in the order to try: first the tests that killed another mutant of the same
        function (this run or an earlier one, `var/mutate-killers.json`), then fastest first, a test of
        the concept's own folder (tests/trials/ for server/domain/trials/...) counted as four times
        faster: it is the likelier to check what the function does (fastest-first alone tried a slow
        mutant's tests in whatever folder happened to be quick, and hit the time limit)."""
        concept = mutant.path.split("/")[2].removesuffix(".py")
        own = f"tests/{TEST_FOLDER.get(concept, concept)}/"
        known = self.killers.get(self.where(mutant), [])

        def key(pair: tuple[float, object]) -> tuple[int, float]:
            seconds, item = pair
            if item.nodeid in known:
                return 0, known.index(item.nodeid)
            return 1, seconds / 4 if item.nodeid.startswith(own) else seconds

        return sorted({item.nodeid: (s, item) for s, item in reaching}.values(), key=key)

    def naming(self, mutant: Mutant) -> list[tuple[float, object]]:
        """The tests in files that name the mutated constant: a test may only read it (a table of
        event types held against the code) and call no function of its module."""
        try:
            stmt = ast.parse(mutant.source).body[int(mutant.target)]
        except SyntaxError:  # mutmut wrote code that does not compile: reported as not applied below
            return []
        names = [t.id for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                 if isinstance(t, ast.Name)]
        found = []
        for nodeid, (seconds, item) in self.timed.items():
            path = nodeid.split("::")[0]
            if path not in self.texts:
                self.texts[path] = (ROOT / path).read_text(errors="replace")
            if any(re.search(rf"\b{re.escape(name)}\b", self.texts[path]) for name in names):
                found.append((seconds, item))
        return found

    def learn(self, mutant: Mutant) -> None:
        known = self.killers.setdefault(self.where(mutant), [])
        if mutant.killer in known:
            known.remove(mutant.killer)
        known.insert(0, mutant.killer)  # the latest killer first
        del known[5:]
        KILLERS.parent.mkdir(exist_ok=True)
        KILLERS.write_text(json.dumps(self.killers, indent=0))

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed:
            self.failed = True

    def _run(self, item, nextitem) -> tuple[bool, float]:
        self.failed = False
        began = time.monotonic()
        try:
            item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        except Exception:  # noqa: BLE001 - pytest failed to report a failure (seen once: a SystemError
            self.failed = True  # from ast.parse in the traceback's formatting): a failure all the same
        return not self.failed, time.monotonic() - began

    def pytest_runtestloop(self, session):
        keep = KeepSession(session)
        items = list(session.items)
        cached = load_map(self.fresh)
        hashes: dict[str, str] = {}

        def current(item) -> bool:
            path = item.nodeid.split("::")[0]
            if path not in hashes:
                hashes[path] = file_hash(ROOT / path)
            entry = cached.get(item.nodeid)
            return entry is not None and entry["file"] == hashes[path]

        todo = [item for item in items if not current(item)]
        seen: set[str] = set()
        undo = probes(seen.add)
        say(f"map: {len(todo)} of {len(items)} tests to run once unmutated ({len(items) - len(todo)} from {MAP.name})")
        try:
            for index, item in enumerate(todo):
                seen.clear()
                clear_caches()
                passed, seconds = self._run(item, todo[index + 1] if index + 1 < len(todo) else keep)
                path = item.nodeid.split("::")[0]
                cached[item.nodeid] = {"file": hashes[path], "seconds": round(seconds, 3), "passed": passed,
                                       "reached": sorted(seen)}
                if index % 50 == 49:
                    say(f"map: {index + 1} of {len(todo)}")
                    MAP.parent.mkdir(exist_ok=True)
                    MAP.write_text(json.dumps(cached))
        finally:
            for obj, attr, value in reversed(undo):
                setattr(obj, attr, value)
            clear_caches()
            MAP.parent.mkdir(exist_ok=True)
            MAP.write_text(json.dumps(cached))
        by_id = {item.nodeid: item for item in items}
        for nodeid, entry in cached.items():
            if nodeid in by_id and entry["passed"]:
                self.mapped_tests += 1
                self.timed[nodeid] = (entry["seconds"], by_id[nodeid])
                for key in entry["reached"]:
                    self.reached.setdefault(key, []).append((entry["seconds"], by_id[nodeid]))
        self.map_seconds = time.monotonic() - self.started
        if KILLERS.exists():
            self.killers = json.loads(KILLERS.read_text())
        say(f"map: done in {self.map_seconds:.0f} s ({self.mapped_tests} passed)")

        for number, mutant in enumerate(self.mutants, 1):
            if time.monotonic() - self.started > self.minutes * 60:
                mutant.outcome = "not run (time box)"
                continue
            if mutant.kind == "function":
                reaching = self.reached.get(f"{mutant.module}:{mutant.target}", [])
            else:
                reaching = [t for key, tests in self.reached.items() if key.startswith(f"{mutant.module}:")
                            for t in tests] + self.naming(mutant)
            tests = self.order(mutant, reaching)
            if not tests:
                mutant.outcome = "not covered"
                say(f"  {number:3}/{len(self.mutants)} {mutant.outcome:10}          {mutant.label()}")
                continue
            began = time.monotonic()
            try:
                applied = Applied(mutant)
            except SyntaxError as error:  # mutmut wrote code that does not compile: reported, not counted
                mutant.outcome = f"not applied ({error})"
                continue
            except Exception as error:  # noqa: BLE001
                if mutant.kind == "constant":  # the module's own statements fail on it: it would not import
                    mutant.outcome, mutant.killer = "killed", f"importing {mutant.module}: {error!r}"
                    say(f"  {number:3}/{len(self.mutants)} killed     (import)   {mutant.label()}")
                else:
                    mutant.outcome = f"not applied ({error})"
                continue
            try:
                mutant.outcome = "survived"
                for _, item in tests:
                    passed, _ = self._run(item, keep)
                    if not passed:
                        mutant.outcome, mutant.killer = "killed", item.nodeid
                        self.learn(mutant)
                        break
                    if time.monotonic() - began > self.per_mutant:
                        mutant.outcome = "time limit"
                        break
            finally:
                applied.restore()
            mutant.seconds = time.monotonic() - began
            say(f"  {number:3}/{len(self.mutants)} {mutant.outcome:10} {mutant.seconds:5.1f} s  {mutant.label()}")
        session._setupstate.teardown_exact(None)
        return True


def read_equivalents() -> dict[tuple[str, str, str], str]:
    known = {}
    if EQUIVALENT.exists():
        for line in EQUIVALENT.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                path, original, mutated, why = line.split("\t")
                known[(path, original.strip(), mutated.strip())] = why
    return known


def report(plugin: Plugin, total: int) -> int:
    ran = [m for m in plugin.mutants if m.outcome in ("killed", "survived", "not covered", "time limit")]
    killed = [m for m in ran if m.outcome == "killed"]
    survivors = [m for m in ran if m.outcome != "killed"]
    equivalents = read_equivalents()
    equivalent = [m for m in survivors if m.key in equivalents]
    live = [m for m in survivors if m.key not in equivalents]
    elapsed = time.monotonic() - plugin.started
    say()
    say(f"mutants in server/domain (drawable): {total}; drawn: {len(plugin.mutants)}; run: {len(ran)} "
          f"in {elapsed / 60:.1f} min (map {plugin.map_seconds:.0f} s over {plugin.mapped_tests} tests)")
    for m in plugin.mutants:
        if m.outcome not in ("killed", "survived", "not covered", "time limit"):
            say(f"  skipped: {m.outcome}: {m.label()}")
    scope = [m for m in ran if m.scope]
    say(f"killed {len(killed)} of {len(ran)}: score {100 * len(killed) / max(1, len(ran)):.1f} %")
    say(f"  planner's scope code: killed {sum(m.outcome == 'killed' for m in scope)} of {len(scope)}")
    say(f"  without the {len(equivalent)} listed equivalent mutants: "
          f"{100 * len(killed) / max(1, len(ran) - len(equivalent)):.1f} %")
    if equivalent:
        say("equivalent (scripts/equivalent_mutants.txt):")
        for m in equivalent:
            say(f"  {m.label()}\n      {equivalents[m.key]}")
    if live:
        say("survivors:")
        for m in live:
            say(f"  {m.outcome:11} {m.label()}")
    return 0


def main() -> int:
    global MAP, KILLERS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--scope-share", type=float, default=0.25)
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("MUTATE_MINUTES", 28)),
                        help="time box, map included: no new mutant starts after it (default 28, or $MUTATE_MINUTES)")
    parser.add_argument("--per-mutant", type=float, default=60, help="seconds of tests per mutant at most")
    parser.add_argument("--fresh", action="store_true", help=f"map every test again (not from var/{MAP.name})")
    parser.add_argument("--again", type=Path, help="run the mutants a previous run's output did not report killed")
    parser.add_argument("--list", type=Path, help="run the mutants a file lists (file, original, mutated: "
                        "tab-separated) instead of a sample, e.g. scripts/mutate_sample_3e8efd7.txt")
    parser.add_argument("--only", action="append", default=[],
                        help="run only the drawn mutants at FILE:LINE (repeatable), e.g. to re-check survivors")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite",
                        help="the tests' backend: the embedded default, or PostgreSQL for the code only it runs "
                             "(a sample's `not covered` mutants, e.g. trials/sql.py)")
    parser.add_argument("tests", nargs="*", default=["tests"], help="where the candidate tests are")
    args = parser.parse_args()
    os.environ["TRIALDESK_TEST_BACKEND"] = args.backend
    if args.backend != "sqlite":
        MAP = MAP.with_name(f"mutate-map-{args.backend}.json")
        KILLERS = KILLERS.with_name(f"mutate-killers-{args.backend}.json")
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    mutants = enumerate_mutants()
    if args.list:
        drawn = sorted(listed(mutants, args.list), key=lambda m: (m.path, m.line, m.mutated))
    elif args.again:
        drawn = again(mutants, args.again)
    else:
        drawn = draw(mutants, args.sample, args.seed, args.scope_share)
    if args.only:
        drawn = [m for m in drawn if f"{m.path}:{m.line}" in args.only]
    say(f"{len(mutants)} drawable mutants in server/domain; drawing {len(drawn)} (seed {args.seed})")
    import pytest

    plugin = Plugin(drawn, args.minutes, args.per_mutant, fresh=args.fresh)
    pytest_args = [*args.tests, "-m", "not browser and not slow", "-p", "no:cacheprovider", "-p", "no:terminal",
                   "-o", "timeout=30", *(f"--ignore={path}" for path in IGNORED)]
    pytest.main(pytest_args, plugins=[plugin])
    return report(plugin, len(mutants))


if __name__ == "__main__":
    sys.exit(main())
