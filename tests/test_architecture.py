"""The house rules, checked over the source (AST over src/winback; nothing of winback is imported but the settings
catalogue, to know the WINBACK_* names).

The rules are data at the top of this file: the rooms and the arrows allowed between them, the pure modules,
where SQL may run, the size limits. docs/architecture.md says the same in prose and carries a block generated from
this data (`test_docs_carry_the_rules` keeps the two equal; regenerate it with
`.venv/bin/python tests/test_architecture.py --write-docs`).

Each rule is one checker `check_<rule>(mod, index) -> list[Violation]`, run over every module by its own test, and
fed synthetic bad sources by `test_checker_catches` at the bottom, so every rule is shown to fail when broken.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "winback"
ARCHITECTURE_MD = ROOT / "docs" / "architecture.md"

# ============================================================================================================
# The rules, as data (docs/architecture.md draws the same picture)
# ============================================================================================================
#
#   cli | web | jobs  ->  app  ->  services  ->  { store modules, engine }  ->  warehouse
#   pure rooms (models, common, the pure modules of each room) stand beside them and import no I/O.

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

#: the shells people and machines use; only they import winback.cli / winback.app
ENTRY_POINTS = frozenset({"cli", "web", "jobs", "__main__"})
#: a shell that starts another, inside a function only (`winback serve` and `winback users` reach the web room)
SHELL_CALLS: dict[str, frozenset[str]] = {"cli": frozenset({"web"})}
#: every room may import these (they import nothing but errors)
FOUNDATION = frozenset({"errors", "config", "clock", "common", "i18n", "__init__"})
#: the domain rooms: each has services (service.py, *_service.py), store modules and pure modules
DOMAIN = frozenset(
    {
        "ingest",
        "identity",
        "lifecycle",
        "models",
        "quality",
        "overview",
        "campaigns",
        "outreach",
        "demo",
        "rules",
        "planner",
        "uplift",
    }
)
_BELOW = FOUNDATION | {"engine", "warehouse"}

#: room -> the other rooms it may import (its own room is always allowed). winback.cli and winback.app are not
#: listed: who may import those is the shells rule (`test_only_the_shells_import_cli_and_app`).
ARROWS: dict[str, frozenset[str]] = {
    "__main__": frozenset({"cli"}),
    "cli": FOUNDATION | DOMAIN,  # no engine, no warehouse: a command goes through the app (wb = current())
    "web": FOUNDATION | DOMAIN,
    "jobs": FOUNDATION | DOMAIN,
    "app": _BELOW | DOMAIN,
    "demo": _BELOW
    | {
        "ingest",
        "identity",
        "lifecycle",
        "models",
        "quality",
        "overview",
        "campaigns",
        "outreach",
        "uplift",
        "planner",
    },
    "overview": _BELOW | {"lifecycle", "quality"},
    "campaigns": _BELOW | {"lifecycle", "outreach", "models"},
    "outreach": _BELOW,
    "planner": _BELOW | {"lifecycle", "campaigns", "outreach", "models"},
    "uplift": _BELOW | {"lifecycle", "campaigns", "models"},
    "lifecycle": _BELOW | {"models"},
    "identity": _BELOW,
    "quality": _BELOW,
    "ingest": _BELOW,
    "rules": frozenset(),  # shipped TOML files
    "models": frozenset({"errors", "common", "i18n", "__init__"}),
    "engine": frozenset({"errors", "config", "warehouse", "i18n", "__init__"}),
    "warehouse": frozenset({"errors", "i18n", "__init__"}),
    "common": frozenset({"errors", "i18n", "__init__"}),
    "config": frozenset({"errors", "i18n", "__init__"}),
    "clock": frozenset({"errors", "i18n", "__init__"}),
    "errors": frozenset({"i18n"}),
    "i18n": frozenset({"__init__"}),  # the message catalogue: imports nothing of ours
    "__init__": frozenset(),
}

#: rooms that are pure as a whole
PURE_ROOMS = frozenset({"models", "common", "i18n"})
#: pure modules inside the other rooms (any `types.py` / `*_types.py` is pure too)
PURE_MODULES = frozenset({
    "campaigns/assign.py", "campaigns/audience.py", "campaigns/chi2.py", "campaigns/coupons.py", "campaigns/launch.py",
    "campaigns/measure.py", "campaigns/outcomes.py", "campaigns/preview.py", "campaigns/redeem.py",
    "campaigns/report.py", "campaigns/request.py", "campaigns/scenarios.py", "campaigns/stats.py",
    "identity/clusters.py", "identity/report.py", "identity/survivor.py",
    "ingest/aliases.py", "ingest/fields.py", "ingest/limits.py", "ingest/memory.py", "ingest/messages.py",
    "ingest/sqltext.py", "ingest/values_sql.py",
    "lifecycle/cycle.py", "lifecycle/modelling.py", "lifecycle/quintiles.py", "lifecycle/results.py",
    "lifecycle/rules.py", "lifecycle/snapshot_sql.py",
    "outreach/channels/contract.py", "outreach/journeys.py", "outreach/leaderboard.py", "outreach/ledger.py",
    "outreach/lunar.py", "outreach/occasions.py", "outreach/pressure.py",
    "outreach/scripts.py", "outreach/tasks.py",
    "planner/estimate.py", "planner/matrix.py", "planner/measures.py", "planner/phases.py", "planner/planning.py",
    "planner/review.py", "planner/solver.py", "planner/sql.py",
    "quality/metrics.py",
})  # fmt: skip
#: a pure module imports only pure modules, these, and no I/O library
PURE_MAY_ALSO_IMPORT = frozenset({
    "winback", "winback.errors", "winback.config", "winback.clock",
    "winback.engine.dialect",  # what differs between backends, a frozen dataclass: an SQL builder may ask it
})  # fmt: skip
IO_LIBRARIES = frozenset(
    {"duckdb", "splink", "pyspark", "py4j", "fastapi", "starlette", "uvicorn", "typer", "click", "rich"}
)

#: calls that run SQL (on a DuckDB connection, an Engine, a Spark session, splink's API, polars' SQL ...)
SQL_METHODS = frozenset({
    "execute", "executemany", "sql", "fetchall", "fetchone", "scalar", "dicts", "query",
    "register", "unregister", "registered", "transaction", "insert_into_warehouse",
})  # fmt: skip
#: names that run SQL when called bare, by the module they come from (`with transaction(con):`)
SQL_FUNCTIONS = {"winback.warehouse": {"transaction", "registered"}}
#: a call on one of these imported modules is SQL (`duckdb.sql(...)`); on any other module it is not
#: (`pa.scalar(None)`, `atexit.register(f)`)
SQL_MODULES = frozenset({"duckdb", "polars", "pyspark"})
#: where SQL may run: these rooms, the ingest loaders, and the store modules of every room
SQL_ROOMS = frozenset({"engine", "warehouse", "demo"})
INGEST_LOADERS = frozenset(
    {"ingest/readers.py", "ingest/validate.py", "ingest/plan.py", "ingest/rejects.py", "ingest/store.py"}
)  # and ingest/load_*.py
#: (module, method) pairs allowed outside the SQL sites, each with its reason. Keep it empty if you can.
SQL_EXCEPTIONS: dict[tuple[str, str], str] = {}

#: rooms that may catch a backend's own exception (everyone else catches winback.errors.EngineError)
BACKEND_ERROR_ROOMS = frozenset({"engine", "warehouse"})
#: besides the SQL sites, services and the CLI, who may import duckdb, and why (an unused entry fails a test)
DUCKDB_IMPORT_EXCEPTIONS = {
    "app.py": "owns the warehouse: the migration hooks it hands to warehouse/ take the raw connection",
}
#: besides the SQL sites, who may touch an engine's raw connection (`db.con`), and why (unused: a test fails)
RAW_CONNECTION_USERS = {
    "app.py": "hands the warehouse connection to warehouse/ functions, which import no engine",
}

#: what a CLI module may import at module level (the rest inside the command function): `winback --help` is fast
CLI_LIGHT_WINBACK = ("winback.cli", "winback.errors", "winback.config", "winback.clock", "winback.i18n")
HEAVY_LIBRARIES = frozenset(
    {"duckdb", "pyarrow", "numpy", "scipy", "polars", "sqlglot", "splink", "pyspark", "openpyxl", "segno"}
)

#: settings are read here only (Settings.load)
SETTINGS_READER = "config.py"
#: calls that build a mutable container (module-level state in a service)
MUTABLE_FACTORIES = frozenset({"list", "dict", "set", "defaultdict", "OrderedDict", "Counter", "deque"})
#: return annotations a public service method must not have (it returns a typed result)
UNTYPED_RETURN = re.compile(r"^(dict|Dict|typing\.Dict|Mapping|Any|typing\.Any|list\[dict|list\[Any)\b")


# ============================================================================================================
# Reading the source
# ============================================================================================================


@dataclass(frozen=True)
class Violation:
    rel: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"src/winback/{self.rel}:{self.line}: {self.what}"


@dataclass(frozen=True)
class Import:
    line: int
    target: str  # dotted, resolved: "winback.campaigns.store", "duckdb", "pyarrow.compute"
    in_function: bool
    type_checking: bool

    @property
    def top(self) -> str:
        return self.target.split(".")[0]

    @property
    def room(self) -> str | None:
        """The winback room imported ("__init__" for the package itself), None for a third-party module."""
        parts = self.target.split(".")
        if parts[0] != "winback":
            return None
        return parts[1] if len(parts) > 1 else "__init__"


@dataclass
class Module:
    rel: str  # relative to src/winback, posix: "campaigns/service.py"
    source: str
    tree: ast.Module = field(init=False)
    #: id(node) -> (inside a function, inside `if TYPE_CHECKING:`)
    context: dict[int, tuple[bool, bool]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.tree = ast.parse(self.source, filename=self.rel)
        self._mark(self.tree, False, False)

    def _mark(self, node: ast.AST, func: bool, tc: bool) -> None:
        self.context[id(node)] = (func, tc)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                self._mark(child, func, True)
            for child in node.orelse:
                self._mark(child, func, tc)
            return
        inner = func or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            self._mark(child, inner, tc)

    @property
    def room(self) -> str:
        return self.rel.split("/")[0].removesuffix(".py")

    @property
    def stem(self) -> str:
        return self.rel.rsplit("/", 1)[-1].removesuffix(".py")

    @property
    def dotted(self) -> str:
        parts = ["winback", *self.rel.removesuffix(".py").split("/")]
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    @property
    def package(self) -> str:
        return self.dotted if self.stem == "__init__" else self.dotted.rsplit(".", 1)[0]

    @property
    def lines(self) -> int:
        return len(self.source.splitlines())

    def in_function(self, node: ast.AST) -> bool:
        return self.context.get(id(node), (False, False))[0]

    def type_checking(self, node: ast.AST) -> bool:
        return self.context.get(id(node), (False, False))[1]

    # -- what kind of module it is -----------------------------------------------------------------------------
    @property
    def is_entry_point(self) -> bool:
        return self.room in ENTRY_POINTS

    @property
    def is_service(self) -> bool:
        return self.room in DOMAIN and (self.stem == "service" or self.stem.endswith("_service"))

    @property
    def is_store(self) -> bool:
        s = self.stem
        return s in ("store", "queries") or s.startswith(("store_", "queries_"))

    @property
    def is_bare_package(self) -> bool:
        """A package `__init__.py` that imports nothing (a docstring): importing the package loads no I/O."""
        return self.stem == "__init__" and not any(
            isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(self.tree)
        )

    @property
    def is_loader(self) -> bool:
        return self.rel in INGEST_LOADERS or (self.room == "ingest" and self.stem.startswith("load_"))

    @property
    def is_sql_site(self) -> bool:
        return self.room in SQL_ROOMS or self.is_store or self.is_loader

    @property
    def is_pure(self) -> bool:
        return (
            self.is_bare_package
            or self.room in PURE_ROOMS
            or self.rel in PURE_MODULES
            or self.stem == "types"
            or self.stem.endswith("_types")
        )


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@dataclass(frozen=True)
class Index:
    """Every module of src/winback by dotted name (to resolve `from pkg import submodule`)."""

    by_dotted: dict[str, Module]

    def module(self, dotted: str) -> Module | None:
        return self.by_dotted.get(dotted)


def imports(mod: Module, index: Index) -> list[Import]:
    out = []
    for node in ast.walk(mod.tree):
        func, tc = mod.in_function(node), mod.type_checking(node)
        if isinstance(node, ast.Import):
            out += [Import(node.lineno, a.name, func, tc) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = mod.package.split(".")
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join([*pkg, base] if base else pkg)
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append(Import(node.lineno, sub if index.module(sub) else base, func, tc))
    return sorted(out, key=lambda i: i.line)


def module_aliases(mod: Module) -> dict[str, str]:
    """Local names bound to an imported module (`import pyarrow as pa` -> {"pa": "pyarrow"})."""
    names = {}
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
    return names


def imported_names(mod: Module) -> dict[str, str]:
    """Local names bound by `from X import name` -> "X.name"."""
    names = {}
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _root_name(expr: ast.expr) -> str | None:
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def string_constants(mod: Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


# ============================================================================================================
# The checkers: one per rule
# ============================================================================================================


def check_room_known(mod: Module, index: Index) -> list[Violation]:
    """Every room is on the map (ARROWS), so a new room gets its arrows decided, here and in the docs."""
    if mod.room in ARROWS:
        return []
    return [Violation(mod.rel, 1, f"room {mod.room!r} is not in ARROWS (add it here and in docs/architecture.md)")]


def check_arrows(mod: Module, index: Index) -> list[Violation]:
    """A room imports only the rooms its arrows allow (arrows point down; pure rooms import no I/O room)."""
    allowed = ARROWS.get(mod.room, frozenset())
    out = []
    for imp in imports(mod, index):
        room = imp.room
        if room is None or room == mod.room or room in allowed or room in ("cli", "app", "web", "jobs"):
            continue
        out.append(Violation(mod.rel, imp.line, f"room {mod.room!r} may not import {imp.target} (room {room!r})"))
    return out


def check_shells(mod: Module, index: Index) -> list[Violation]:
    """Only the shells (cli, web, jobs) import winback.cli / web / jobs / app; a service may import winback.app
    under TYPE_CHECKING only (for the annotation of its constructor's `wb`)."""
    out = []
    for imp in imports(mod, index):
        if imp.room not in ("cli", "web", "jobs", "app") or imp.room == mod.room:
            continue
        if mod.is_entry_point and imp.room == "app":
            continue
        if mod.room == "__main__" and imp.room == "cli":
            continue
        if imp.room in SHELL_CALLS.get(mod.room, frozenset()) and imp.in_function:
            continue
        if mod.is_service and imp.room == "app" and imp.type_checking:
            continue
        why = "only under TYPE_CHECKING in a service" if imp.room == "app" else "only the shells may"
        out.append(Violation(mod.rel, imp.line, f"imports {imp.target} ({why})"))
    return out


def check_pure(mod: Module, index: Index) -> list[Violation]:
    """A pure module imports no I/O library (duckdb, splink, pyspark, web, CLI) and, of winback, only pure
    modules (no engine, warehouse, store, service or shell)."""
    if not mod.is_pure:
        return []
    out = []
    for imp in imports(mod, index):
        if imp.room is None:
            if imp.top in IO_LIBRARIES:
                out.append(Violation(mod.rel, imp.line, f"pure module imports {imp.target} (an I/O library)"))
            continue
        if imp.target in PURE_MAY_ALSO_IMPORT:
            continue
        target = index.module(imp.target)
        if target is not None and target.is_pure:
            continue
        out.append(Violation(mod.rel, imp.line, f"pure module imports {imp.target}, which is not pure"))
    return out


def _is_sql_call(node: ast.Call, aliases: dict[str, str], names: dict[str, str]) -> str | None:
    """The method name if `node` runs SQL, else None."""
    func = node.func
    if isinstance(func, ast.Name):
        origin = names.get(func.id, "")
        mod_name, _, fn = origin.rpartition(".")
        for prefix, fns in SQL_FUNCTIONS.items():
            if fn in fns and (mod_name == prefix or mod_name.startswith(prefix + ".")):
                return fn
        return None
    if not isinstance(func, ast.Attribute) or func.attr not in SQL_METHODS:
        return None
    if func.attr == "sql" and not node.args:
        return None  # sqlglot: `tree.sql(dialect=...)` renders an expression as text, it runs nothing
    receiver = func.value.id if isinstance(func.value, ast.Name) else None
    if receiver in aliases and aliases[receiver].split(".")[0] not in SQL_MODULES:
        return None  # a call on an imported module that is no database (`pa.scalar(None)`)
    return func.attr


def check_sql_sites(mod: Module, index: Index) -> list[Violation]:
    """SQL runs only in engine/, warehouse/, demo/, the ingest loaders and store modules (store.py, queries.py,
    store_*.py, queries_*.py); everyone else calls a store function."""
    if mod.is_sql_site:
        return []
    aliases, names = module_aliases(mod), imported_names(mod)
    out = []
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Call) and (method := _is_sql_call(node, aliases, names)):
            if (mod.rel, method) in SQL_EXCEPTIONS:
                continue
            out.append(Violation(mod.rel, node.lineno, f"runs SQL (.{method}(...)) outside a store module"))
    return out


def check_backend_errors(mod: Module, index: Index) -> list[Violation]:
    """`except duckdb.…` only in engine/ and warehouse/; everyone else catches EngineError (and looks at .kind)."""
    if mod.room in BACKEND_ERROR_ROOMS:
        return []
    aliases, names = module_aliases(mod), imported_names(mod)
    out = []
    for node in ast.walk(mod.tree):
        if not isinstance(node, ast.ExceptHandler) or node.type is None:
            continue
        types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
        for t in types:
            root = _root_name(t)
            origin = (aliases.get(root, "") if isinstance(t, ast.Attribute) else names.get(root or "", "")).split(".")[
                0
            ]
            if origin in ("duckdb", "_duckdb"):
                out.append(Violation(mod.rel, node.lineno, f"catches {ast.unparse(t)} (catch EngineError)"))
    return out


def check_duckdb_import(mod: Module, index: Index) -> list[Violation]:
    """duckdb is imported only by engine/, warehouse/, the SQL sites, services and the CLI (the rest get a
    DuckDBEngine and never see a raw connection)."""
    if mod.is_sql_site or mod.is_service or mod.is_entry_point or mod.rel in DUCKDB_IMPORT_EXCEPTIONS:
        return []
    return [
        Violation(mod.rel, imp.line, f"imports {imp.target} outside the SQL sites (take a DuckDBEngine / Engine)")
        for imp in imports(mod, index)
        if imp.top in ("duckdb", "_duckdb")
    ]


def check_raw_connection(mod: Module, index: Index) -> list[Violation]:
    """An engine's raw connection (`db.con`) is used only where SQL runs and where a library needs one."""
    if mod.is_sql_site or mod.rel in RAW_CONNECTION_USERS:
        return []
    return [
        Violation(mod.rel, node.lineno, "uses a raw connection (.con): call the engine, or a store function")
        for node in ast.walk(mod.tree)
        if isinstance(node, ast.Attribute) and node.attr == "con" and isinstance(node.ctx, ast.Load)
    ]


def _env_key(call_or_sub: ast.AST) -> ast.expr | None:
    if isinstance(call_or_sub, ast.Subscript):
        return call_or_sub.slice
    if isinstance(call_or_sub, ast.Call) and call_or_sub.args:
        return call_or_sub.args[0]
    return None


def _module_strings(mod: Module) -> dict[str, str]:
    """Module-level NAME = "literal" bindings (to resolve `os.environ.get(NAME)`)."""
    out = {}
    for node in mod.tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if value is not None else []
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            for t in targets:
                if isinstance(t, ast.Name):
                    out[t.id] = value.value
    return out


def _env_reads(mod: Module) -> Iterator[tuple[int, ast.expr | None]]:
    """(line, key expression) of every keyed read of the environment: os.environ[k], os.environ.get(k),
    os.getenv(k), k in os.environ (and `environ` / `getenv` imported from os)."""
    aliases, names = module_aliases(mod), imported_names(mod)

    def is_environ(e: ast.expr) -> bool:
        if isinstance(e, ast.Attribute) and e.attr == "environ":
            return aliases.get(_root_name(e) or "", "") == "os"
        return isinstance(e, ast.Name) and names.get(e.id) == "os.environ"

    def is_getenv(e: ast.expr) -> bool:
        if isinstance(e, ast.Attribute) and e.attr == "getenv":
            return aliases.get(_root_name(e) or "", "") == "os"
        return isinstance(e, ast.Name) and names.get(e.id) == "os.getenv"

    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Subscript) and is_environ(node.value):
            yield node.lineno, node.slice
        elif isinstance(node, ast.Call):
            f = node.func
            if is_getenv(f) or (
                isinstance(f, ast.Attribute) and f.attr in ("get", "pop", "setdefault") and is_environ(f.value)
            ):
                yield node.lineno, _env_key(node)
        elif isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators):
            yield node.lineno, node.left


def check_env_reads(mod: Module, index: Index) -> list[Violation]:
    """No module but config.py reads a WINBACK_* variable (os.environ / os.getenv); a key that cannot be read off
    the source (not a literal or a module constant) counts, as it may be one."""
    if mod.rel == SETTINGS_READER:
        return []
    consts = _module_strings(mod)
    out = []
    for line, key in _env_reads(mod):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            name: str | None = key.value
        elif isinstance(key, ast.Name) and key.id in consts:
            name = consts[key.id]
        else:
            name = None
        if name is None:
            shown = ast.unparse(key) if key is not None else "?"
            out.append(Violation(mod.rel, line, f"reads the environment with key {shown} (settings: config.py)"))
        elif name.startswith("WINBACK_"):
            out.append(Violation(mod.rel, line, f"reads {name} (only config.Settings.load reads WINBACK_*)"))
    return out


WINBACK_VAR = re.compile(r"\bWINBACK_[A-Z0-9]+(?:_[A-Z0-9]+)*\b")


@cache
def catalogue_envs() -> frozenset[str]:
    from winback.config import CATALOGUE

    return frozenset(s.env for s in CATALOGUE)


def check_env_names(mod: Module, index: Index) -> list[Violation]:
    """Every WINBACK_… name in a string (messages, hints, docstrings) is a setting in config.CATALOGUE."""
    known = catalogue_envs()
    return [
        Violation(mod.rel, line, f"{name} is not a setting in config.CATALOGUE")
        for line, text in string_constants(mod)
        for name in WINBACK_VAR.findall(text)
        if name not in known
    ]


def check_module_size(mod: Module, index: Index) -> list[Violation]:
    """A module has at most MAX_MODULE_LINES lines (split it by topic: store_<topic>.py, …)."""
    if mod.lines <= MAX_MODULE_LINES:
        return []
    return [Violation(mod.rel, 1, f"{mod.lines} lines (at most {MAX_MODULE_LINES})")]


def check_function_size(mod: Module, index: Index) -> list[Violation]:
    """A function has at most MAX_FUNCTION_LINES lines, `def` to its last line (parse / query / decide / write /
    shape output are separate functions)."""
    out = []
    for node in ast.walk(mod.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = (node.end_lineno or node.lineno) - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                out.append(
                    Violation(mod.rel, node.lineno, f"{node.name}() has {n} lines (at most {MAX_FUNCTION_LINES})")
                )
    return out


def check_service_state(mod: Module, index: Index) -> list[Violation]:
    """No module-level mutable state: a service module (and app.py) binds no list / dict / set at module level,
    and no module anywhere rebinds a module global (`global x`)."""
    out = [
        Violation(mod.rel, node.lineno, f"`global {', '.join(node.names)}`: module-level state")
        for node in ast.walk(mod.tree)
        if isinstance(node, ast.Global)
    ]
    if not (mod.is_service or mod.rel == "app.py"):
        return out
    for node in mod.tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) else None
        if value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            continue
        mutable = isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)) or (
            isinstance(value, ast.Call)
            and (value.func.id if isinstance(value.func, ast.Name) else getattr(value.func, "attr", ""))
            in MUTABLE_FACTORIES
        )
        if mutable:
            shown = ", ".join(ast.unparse(t) for t in targets)
            out.append(Violation(mod.rel, node.lineno, f"module-level mutable state in a service: {shown}"))
    return out


def check_typed_results(mod: Module, index: Index) -> list[Violation]:
    """A public method of a service class returns a typed result (a dataclass with to_dict()): it has a return
    annotation, and it is not dict / Mapping / Any / list[dict]."""
    if not mod.is_service:
        return []
    out = []
    for cls in mod.tree.body:
        if not (isinstance(cls, ast.ClassDef) and cls.name.endswith("Service")):
            continue
        for fn in cls.body:
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name.startswith("_"):
                continue
            shown = ast.unparse(fn.returns) if fn.returns is not None else None
            if shown is None or UNTYPED_RETURN.match(shown.strip("'\"")):
                out.append(
                    Violation(
                        mod.rel, fn.lineno, f"{cls.name}.{fn.name}() returns {shown or 'no annotation'} (a result type)"
                    )
                )
    return out


def check_cli_thin(mod: Module, index: Index) -> list[Violation]:
    """A CLI module imports at module level only typer, the standard library and light winback modules
    (winback.cli.*, errors, config, clock): no heavy library, no room (import the service inside the command,
    so `winback --help` stays fast). Anywhere, it imports no store module or ingest loader (it calls
    wb.<service>)."""
    if not mod.is_entry_point:
        return []
    out = []
    for imp in imports(mod, index):
        target = index.module(imp.target)
        if target is not None and target.room != mod.room and (target.is_store or target.is_loader):
            out.append(Violation(mod.rel, imp.line, f"imports {imp.target}, a store module (call wb.<service>)"))
        if imp.in_function or imp.type_checking or mod.room != "cli":
            continue  # the module-level rule keeps `winback --help` fast; the web and jobs shells start once
        heavy = imp.top in HEAVY_LIBRARIES if imp.room is None else not imp.target.startswith(CLI_LIGHT_WINBACK)
        if heavy and imp.room != "__init__":
            out.append(Violation(mod.rel, imp.line, f"imports {imp.target} at module level (import it in the command)"))
    return out


CHECKERS: dict[str, Callable[[Module, Index], list[Violation]]] = {
    "room on the map": check_room_known,
    "arrows between rooms": check_arrows,
    "only the shells import cli/app": check_shells,
    "pure modules import no I/O": check_pure,
    "SQL runs in store modules only": check_sql_sites,
    "no except duckdb.* outside engine/warehouse": check_backend_errors,
    "duckdb imported at the SQL sites only": check_duckdb_import,
    "raw connection at the SQL sites only": check_raw_connection,
    "WINBACK_* read in config.py only": check_env_reads,
    "WINBACK_* names are settings": check_env_names,
    f"module <= {MAX_MODULE_LINES} lines": check_module_size,
    f"function <= {MAX_FUNCTION_LINES} lines": check_function_size,
    "no module-level mutable state": check_service_state,
    "services return typed results": check_typed_results,
    "CLI modules are thin": check_cli_thin,
}


# ============================================================================================================
# The tests over src/winback
# ============================================================================================================


@cache
def source_index() -> Index:
    mods = [Module(p.relative_to(SRC).as_posix(), p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.py"))]
    return Index({m.dotted: m for m in mods})


def run(checker: Callable[[Module, Index], list[Violation]], index: Index | None = None) -> list[Violation]:
    """Every violation of one rule, one per file:line, in file and line order."""
    index = index or source_index()
    found = {(v.rel, v.line): v for m in index.by_dotted.values() for v in checker(m, index)}
    return [found[k] for k in sorted(found)]


def assert_clean(rule: str) -> None:
    found = run(CHECKERS[rule])
    doc = (CHECKERS[rule].__doc__ or "").split("\n\n")[0]
    assert not found, f"rule '{rule}' broken {len(found)}x ({' '.join(doc.split())}):\n" + "\n".join(map(str, found))


def test_every_room_is_on_the_map() -> None:
    assert_clean("room on the map")


def test_rooms_import_only_along_the_arrows() -> None:
    assert_clean("arrows between rooms")


def test_only_the_shells_import_cli_and_app() -> None:
    assert_clean("only the shells import cli/app")


def test_pure_modules_import_no_io() -> None:
    assert_clean("pure modules import no I/O")


def test_sql_runs_only_in_store_modules() -> None:
    assert_clean("SQL runs in store modules only")


def test_no_backend_exceptions_outside_engine_and_warehouse() -> None:
    assert_clean("no except duckdb.* outside engine/warehouse")


def test_duckdb_is_imported_only_at_the_sql_sites() -> None:
    assert_clean("duckdb imported at the SQL sites only")


def test_raw_connection_only_at_the_sql_sites() -> None:
    assert_clean("raw connection at the SQL sites only")


def test_winback_variables_are_read_only_by_config() -> None:
    assert_clean("WINBACK_* read in config.py only")


def test_winback_variable_names_are_settings() -> None:
    assert_clean("WINBACK_* names are settings")


def test_module_size() -> None:
    assert_clean(f"module <= {MAX_MODULE_LINES} lines")


def test_function_size() -> None:
    assert_clean(f"function <= {MAX_FUNCTION_LINES} lines")


def test_no_module_level_mutable_state() -> None:
    assert_clean("no module-level mutable state")


def test_services_return_typed_results() -> None:
    assert_clean("services return typed results")


def test_cli_modules_are_thin() -> None:
    assert_clean("CLI modules are thin")


def test_the_rules_name_real_modules() -> None:
    """A pure module or an exception listed here that no longer exists means the list went stale."""
    rels = {m.rel for m in source_index().by_dotted.values()}
    listed = PURE_MODULES | {r for r, _ in SQL_EXCEPTIONS} | set(DUCKDB_IMPORT_EXCEPTIONS) | set(RAW_CONNECTION_USERS)
    stale = sorted(listed - rels)
    assert not stale, f"listed in tests/test_architecture.py but not in src/winback: {stale}"


def test_every_exception_is_still_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception that no longer excuses anything is stale: remove it (then the rule holds there too)."""
    stale = []
    for rule, table in (
        ("duckdb imported at the SQL sites only", "DUCKDB_IMPORT_EXCEPTIONS"),
        ("raw connection at the SQL sites only", "RAW_CONNECTION_USERS"),
        ("SQL runs in store modules only", "SQL_EXCEPTIONS"),
    ):
        entries = getattr(sys.modules[__name__], table)
        for key in list(entries):
            with monkeypatch.context() as m:
                m.delitem(entries, key)
                rel = key[0] if isinstance(key, tuple) else key
                if not [v for v in run(CHECKERS[rule]) if v.rel == rel]:
                    stale.append(f"{table}[{key!r}]")
    assert not stale, f"exceptions in tests/test_architecture.py that excuse nothing any more: {stale}"


def test_arrows_point_down_only() -> None:
    """The map itself has no cycle between two rooms (so the layers are layers)."""
    seen: dict[str, int] = {}  # 1 = on the path, 2 = done

    def visit(room: str, path: list[str]) -> None:
        if seen.get(room) == 2:
            return
        assert seen.get(room) != 1, f"ARROWS has a cycle: {' -> '.join([*path, room])}"
        seen[room] = 1
        for nxt in sorted(ARROWS.get(room, frozenset()) - {room}):
            visit(nxt, [*path, room])
        seen[room] = 2

    for room in sorted(ARROWS):
        visit(room, [])


# ============================================================================================================
# The rules in docs/architecture.md (generated from the data above)
# ============================================================================================================

DOCS_BEGIN = "<!-- rules:begin (generated by tests/test_architecture.py --write-docs; do not edit) -->"
DOCS_END = "<!-- rules:end -->"


def rules_markdown() -> str:
    def names(items: frozenset[str] | set[str]) -> str:
        return ", ".join(f"`{r}`" for r in sorted(items)) or "—"

    def arrows(room: str) -> str:
        allowed = ARROWS[room] - {"__init__"}  # the package itself (`winback.__version__`): anyone
        if FOUNDATION - {"__init__"} <= allowed:
            rest = allowed - FOUNDATION
            return "the foundation" + (f", {names(rest)}" if rest else "")
        return names(allowed)

    foundation = names(FOUNDATION - {"__init__"})
    lines = [DOCS_BEGIN, "", "| room | may import (besides itself) |", "|---|---|"]
    lines += [f"| `{room}` | {arrows(room)} |" for room in ARROWS if room != "__init__"]
    lines += [
        "",
        f"The foundation is {foundation}. `cli`, `web` and `jobs` also import `app`; a service imports `app` under "
        "`TYPE_CHECKING` only; nothing else imports a shell or the app, but "
        + ", ".join(f"`{a}` imports {names(b)}" for a, b in SHELL_CALLS.items())
        + " inside a command (to start it).",
        "",
        f"- Pure rooms: {names(PURE_ROOMS)}; pure modules: {names(PURE_MODULES)}, and every `types.py` / `*_types.py`.",
        f"- Pure modules also import {names(PURE_MAY_ALSO_IMPORT)}; never {names(IO_LIBRARIES)}.",
        "- SQL runs (" + ", ".join(f"`.{m}(`" for m in sorted(SQL_METHODS)) + ", a bare `transaction(` / "
        f"`registered(` from `winback.warehouse`) only in the rooms {names(SQL_ROOMS)}, in {names(INGEST_LOADERS)}, "
        "`ingest/load_*.py`, and in every `store.py`, `queries.py`, `store_*.py`, `queries_*.py`. Exceptions: "
        + (", ".join(f"`{m}` `.{f}(` ({why})" for (m, f), why in SQL_EXCEPTIONS.items()) or "none")
        + ".",
        f"- `except duckdb.…` only in {names(BACKEND_ERROR_ROOMS)}. `import duckdb` only at the SQL sites, in "
        "services, in the CLI (inside a command) and in "
        + ", ".join(f"`{m}` ({why})" for m, why in DUCKDB_IMPORT_EXCEPTIONS.items())
        + ". The raw connection `.con` only at the SQL sites and in "
        + ", ".join(f"`{m}` ({why})" for m, why in RAW_CONNECTION_USERS.items())
        + ".",
        f"- `WINBACK_*` variables are read only in `{SETTINGS_READER}` (`Settings.load`); every `WINBACK_…` name in "
        "the source is a setting of `config.CATALOGUE`.",
        f"- A CLI module imports at module level only typer, the standard library and {names(set(CLI_LIGHT_WINBACK))}"
        f" (never {names(HEAVY_LIBRARIES)}).",
        f"- A module has at most {MAX_MODULE_LINES} lines, a function at most {MAX_FUNCTION_LINES}.",
        "",
        DOCS_END,
    ]
    return "\n".join(lines)


def test_docs_carry_the_rules() -> None:
    text = ARCHITECTURE_MD.read_text(encoding="utf-8")
    assert DOCS_BEGIN in text and DOCS_END in text, "docs/architecture.md lost its generated rules block"
    block = text[text.index(DOCS_BEGIN) : text.index(DOCS_END) + len(DOCS_END)]
    assert block == rules_markdown(), (
        "docs/architecture.md differs from the rules in tests/test_architecture.py; run "
        "`.venv/bin/python tests/test_architecture.py --write-docs`"
    )


def write_docs() -> None:
    text = ARCHITECTURE_MD.read_text(encoding="utf-8")
    start, end = text.index(DOCS_BEGIN), text.index(DOCS_END) + len(DOCS_END)
    ARCHITECTURE_MD.write_text(text[:start] + rules_markdown() + text[end:], encoding="utf-8")


# ============================================================================================================
# Each checker fails when its rule is broken (synthetic modules, checked against the real index)
# ============================================================================================================

# fmt: off
BAD: list[tuple[str, str, str, str]] = [
    # (rule, module path, source, text expected in the violation)
    ("room on the map", "webhooks/send.py", "X = 1\n", "'webhooks' is not in ARROWS"),
    ("arrows between rooms", "warehouse/x.py", "from winback.lifecycle.rules import Scheme\n", "may not import"),
    ("arrows between rooms", "common/x.py", "from winback.ingest import aliases\n", "room 'common' may not"),
    ("arrows between rooms", "engine/x.py", "import winback.campaigns.store\n", "room 'engine' may not"),
    ("arrows between rooms", "cli/x.py", "def f():\n    from winback.warehouse import connect\n", "may not"),
    ("arrows between rooms", "ingest/x.py", "from winback.campaigns.service import CampaignService\n", "may not"),
    ("only the shells import cli/app", "lifecycle/refresh.py", "from winback.cli.output import say\n", "shells"),
    ("only the shells import cli/app", "campaigns/service.py", "from winback.app import Winback\n",
     "TYPE_CHECKING"),
    ("only the shells import cli/app", "campaigns/launch.py",
     "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from winback.app import Winback\n", "TYPE_CHECKING"),
    ("pure modules import no I/O", "models/x.py", "import duckdb\n", "an I/O library"),
    ("pure modules import no I/O", "campaigns/stats.py",
     "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import duckdb\n", "an I/O library"),
    ("pure modules import no I/O", "lifecycle/cycle.py", "from winback.engine.base import Engine\n", "not pure"),
    ("pure modules import no I/O", "identity/survivor.py", "from winback.identity import store\n", "not pure"),
    ("pure modules import no I/O", "campaigns/types.py", "import typer\n", "an I/O library"),
    ("SQL runs in store modules only", "campaigns/service.py",
     "def f(db):\n    db.execute('DELETE FROM t')\n", ".execute("),
    ("SQL runs in store modules only", "campaigns/launch.py",
     "def f(db):\n    with db.transaction():\n        pass\n", ".transaction("),
    ("SQL runs in store modules only", "lifecycle/refresh.py",
     "from winback.warehouse import transaction\ndef f(con):\n    with transaction(con):\n        pass\n",
     ".transaction("),
    ("SQL runs in store modules only", "overview/service.py", "import duckdb\nduckdb.sql('SELECT 1')\n", ".sql("),
    ("SQL runs in store modules only", "quality/service.py",
     "def f(frame):\n    return frame.query('x > 1')\n", ".query("),
    ("no except duckdb.* outside engine/warehouse", "campaigns/redeem.py",
     "import duckdb\ntry:\n    pass\nexcept (ValueError, duckdb.ConstraintException):\n    pass\n", "catches"),
    ("no except duckdb.* outside engine/warehouse", "identity/store.py",
     "from duckdb import Error\ntry:\n    pass\nexcept Error:\n    pass\n", "catches Error"),
    ("duckdb imported at the SQL sites only", "lifecycle/views.py", "import duckdb\n", "outside the SQL sites"),
    ("raw connection at the SQL sites only", "campaigns/launch.py", "def f(db):\n    return db.con\n", ".con"),
    ("WINBACK_* read in config.py only", "campaigns/scenarios.py",
     "import os\nENV = 'WINBACK_SCENARIOS'\np = os.environ.get(ENV)\n", "reads WINBACK_SCENARIOS"),
    ("WINBACK_* read in config.py only", "ingest/service.py", "import os\np = os.environ['WINBACK_DB']\n",
     "reads WINBACK_DB"),
    ("WINBACK_* read in config.py only", "clock.py", "from os import getenv\nz = getenv('WINBACK_TZ')\n",
     "reads WINBACK_TZ"),
    ("WINBACK_* read in config.py only", "lifecycle/refresh.py",
     "import os\nk = 'x'\nv = os.getenv(k + 'y')\n", "key k + 'y'"),
    ("WINBACK_* read in config.py only", "engine/spark.py", "import os\nx = 'WINBACK_ENGINE' in os.environ\n",
     "reads WINBACK_ENGINE"),
    ("WINBACK_* names are settings", "cli/x.py", "HINT = 'set WINBACK_COLOUR=red'\n", "WINBACK_COLOUR is not"),
    (f"module <= {MAX_MODULE_LINES} lines", "campaigns/big.py", "x = 1\n" * (MAX_MODULE_LINES + 1), "lines"),
    (f"function <= {MAX_FUNCTION_LINES} lines", "campaigns/big.py",
     "def god():\n" + "    x = 1\n" * MAX_FUNCTION_LINES, "god() has"),
    ("no module-level mutable state", "campaigns/service.py", "_cache = {}\n", "_cache"),
    ("no module-level mutable state", "lifecycle/service.py",
     "from collections import defaultdict\nSEEN = defaultdict(int)\n", "SEEN"),
    ("no module-level mutable state", "lifecycle/refresh.py",
     "N = 0\ndef f():\n    global N\n    N += 1\n", "global N"),
    ("services return typed results", "campaigns/service.py",
     "from typing import Any\nclass CampaignService:\n    def show(self, cid: str) -> dict[str, Any]:\n"
     "        ...\n", "returns dict[str, Any]"),
    ("services return typed results", "quality/service.py",
     "class QualityService:\n    def report(self):\n        ...\n", "no annotation"),
    ("CLI modules are thin", "cli/x.py", "import duckdb\n", "at module level"),
    ("only the shells import cli/app", "cli/x.py", "from winback.web.server import serve\n", "only the shells"),
    ("only the shells import cli/app", "web/x.py", "def f():\n    from winback.cli.app import current\n",
     "only the shells"),
    ("CLI modules are thin", "cli/x.py", "from winback.campaigns.service import CampaignService\n", "module level"),
    ("CLI modules are thin", "cli/x.py", "def cmd():\n    from winback.identity.store import read\n",
     "a store module"),
]

GOOD: list[tuple[str, str, str]] = [
    # (rule, module path, source) that must pass: the false positives a checker must not report
    ("SQL runs in store modules only", "lifecycle/rules.py", "def f(tree):\n    return tree.sql(dialect='duckdb')\n"),
    ("SQL runs in store modules only", "demo/x.py", "def f(db):\n    db.execute('SELECT 1')\n"),
    ("SQL runs in store modules only", "campaigns/store_coupons.py", "def f(db):\n    return db.dicts('SELECT 1')\n"),
    ("SQL runs in store modules only", "ingest/load_things.py", "def f(db):\n    db.execute('SELECT 1')\n"),
    ("SQL runs in store modules only", "campaigns/launch.py",
     "import re\nimport atexit\nimport pyarrow as pa\nR = re.compile('x')\natexit.register(print)\n"
     "v = pa.scalar(1)\n"),
    ("only the shells import cli/app", "campaigns/service.py",
     "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from winback.app import Winback\n"),
    ("only the shells import cli/app", "cli/x.py", "def f():\n    from winback.app import Winback\n"),
    ("only the shells import cli/app", "cli/x.py", "def f():\n    from winback.web.server import serve\n"),
    ("CLI modules are thin", "web/x.py", "from winback.web.auth import locked\nfrom winback.common import phones\n"),
    ("pure modules import no I/O", "lifecycle/snapshot_sql.py",
     "from winback.engine.dialect import Dialect\nfrom winback.lifecycle.cycle import cycle_sql\nimport numpy\n"),
    ("WINBACK_* read in config.py only", "engine/spark.py", "import os\nj = os.environ.get('JAVA_HOME')\n"),
    ("WINBACK_* read in config.py only", "config.py", "import os\nv = os.environ.get('WINBACK_DB')\n"),
    ("WINBACK_* names are settings", "cli/x.py", "HINT = 'set WINBACK_DB or any WINBACK_* variable'\n"),
    ("no module-level mutable state", "campaigns/service.py", "__all__ = ['X']\nLIMITS = (1, 2)\n"),
    ("services return typed results", "campaigns/service.py",
     "class CampaignService:\n    def show(self) -> CampaignView:\n        ...\n"
     "    def _raw(self) -> dict:\n        ...\n"),
    ("CLI modules are thin", "cli/x.py",
     "import typer\nfrom winback.cli.app import app\nfrom winback.errors import InputError\ndef cmd():\n"
     "    from winback.campaigns.service import CampaignService\n"),
]
# fmt: on


@pytest.mark.parametrize(("rule", "rel", "source", "expected"), BAD, ids=[f"{b[0]}:{b[1]}" for b in BAD])
def test_checker_catches(rule: str, rel: str, source: str, expected: str) -> None:
    found = CHECKERS[rule](Module(rel, source), source_index())
    assert found, f"rule '{rule}' did not catch {rel}:\n{source}"
    assert any(expected in str(v) for v in found), [str(v) for v in found]


@pytest.mark.parametrize(("rule", "rel", "source"), GOOD, ids=[f"{g[0]}:{g[1]}" for g in GOOD])
def test_checker_passes(rule: str, rel: str, source: str) -> None:
    found = CHECKERS[rule](Module(rel, source), source_index())
    assert not found, [str(v) for v in found]


def test_a_broken_rule_fails_the_real_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: plant a service that runs SQL in the real index; the rule's test reports it by file:line."""
    index = source_index()
    planted = Module("campaigns/service.py", "def launch(db):\n    db.execute('UPDATE campaigns SET x = 1')\n")
    broken = Index({**index.by_dotted, planted.dotted: planted})
    monkeypatch.setattr(sys.modules[__name__], "source_index", lambda: broken)
    with pytest.raises(AssertionError) as failed:
        assert_clean("SQL runs in store modules only")
    assert "src/winback/campaigns/service.py:2: runs SQL (.execute(...)) outside a store module" in str(failed.value)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-docs"]:
        write_docs()
        print(f"wrote the rules block of {ARCHITECTURE_MD.relative_to(ROOT)}")
    else:
        print(__doc__)
