"""Where one import's CPU goes: every SQL statement of `wb.ingest.import_file` timed (wall and process CPU, which
counts all of DuckDB's threads), the heaviest printed first.

    .venv/bin/python benchmarks/import_profile.py FILE [--db /tmp/winback-import-profile.duckdb] [--kind orders]
        [--top 12]

The import runs in this process into a fresh, migrated warehouse (the migration is not timed); the interpreter's
start is not in these figures (`import_bench.py` times the whole process). Statements under 0.05 CPU s are
summed into one line.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from winback.app import Winback
from winback.config import Settings
from winback.engine import duckdb_engine

Timing = tuple[float, float, str]


def _timed(calls: list[Timing]) -> Callable[[], None]:
    """Wrap the engine's statement methods so that each call appends (wall, cpu, sql); returns the undo."""
    saved = {}
    for name in ("_execute", "_fetchall", "_query", "_dicts"):
        orig = getattr(duckdb_engine.DuckDBEngine, name)
        saved[name] = orig

        def wrapper(self: Any, sql: str, *args: Any, _orig: Any = orig, **kw: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return _orig(self, sql, *args, **kw)
            finally:
                calls.append((time.perf_counter() - wall, time.process_time() - cpu, " ".join(str(sql).split())))

        setattr(duckdb_engine.DuckDBEngine, name, wrapper)

    def undo() -> None:
        for name, orig in saved.items():
            setattr(duckdb_engine.DuckDBEngine, name, orig)

    return undo


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", type=Path)
    ap.add_argument("--db", type=Path, default=Path("/tmp/winback-import-profile.duckdb"))
    ap.add_argument("--kind", default="orders")
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    for p in (args.db, Path(str(args.db) + ".wal")):
        p.unlink(missing_ok=True)
    with Winback(Settings.load(db_path=str(args.db))) as wb:
        wb.db()
    calls: list[Timing] = []
    undo = _timed(calls)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        with Winback(Settings.load(db_path=str(args.db))) as wb:
            r = wb.ingest.import_file(args.kind, args.file)
    finally:
        undo()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{args.file.name}: {r.rows_in:,} rows in, {r.rows_loaded:,} loaded, {r.rows_rejected:,} rejected")
    print(f"total {wall:.2f}s wall {cpu:.2f} cpu ({r.rows_in / wall:,.0f} rows/s wall) in {len(calls)} statements")
    print("  wall    cpu  statement")
    heavy = sorted((c for c in calls if c[1] >= 0.05), key=lambda c: -c[1])
    for w, c, sql in heavy[: args.top]:
        print(f"{w:6.2f} {c:6.2f}  {sql[:140]}")
    rest = [c for c in calls if c not in heavy[: args.top]]
    print(f"{sum(c[0] for c in rest):6.2f} {sum(c[1] for c in rest):6.2f}  ({len(rest)} other statements)")
    args.db.unlink(missing_ok=True)
    Path(str(args.db) + ".wal").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
