"""Members export speed: the demo brand's whole member list to XLSX (and CSV, Parquet) through the shared safe
writer, and (with --old REV) through `lifecycle/export.py` as it was at git revision REV (openpyxl write-only).

Usage: .venv/bin/python benchmarks/export_bench.py [N] [--keep DIR] [--old REV] [--repeat K]
Default N = 8000 members (the test suite's demo brand). Prints seconds per format (best of K) and file size;
asserts nothing.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path


def _old_module(rev: str) -> types.ModuleType:
    src = subprocess.run(
        ["git", "show", f"{rev}:src/winback/lifecycle/export.py"], capture_output=True, text=True, check=True
    ).stdout
    mod = types.ModuleType("old_export")
    exec(compile(src, f"{rev}:lifecycle/export.py", "exec"), mod.__dict__)  # our own history
    return mod


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    args = sys.argv[1:]
    n = next((int(a) for a in args if a.isdigit()), 8000)
    keep = Path(args[args.index("--keep") + 1]) if "--keep" in args else None
    old = args[args.index("--old") + 1] if "--old" in args else None
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 3

    from winback.app import Winback
    from winback.config import Settings
    from winback.lifecycle.export import export_table
    from winback.lifecycle.views import list_members

    with tempfile.TemporaryDirectory() as tmp:
        out = keep or Path(tmp)
        db_path = out / "winback.duckdb"
        with Winback(Settings.load(environ={}, db_path=db_path)) as wb:
            if not db_path.exists() or keep is None:
                wb.demo.run(out, members=n, seed=7)
            members = list_members(wb.db(write=False), today=wb.now().date()).members
        print(f"{members.num_rows:,} members, {members.num_columns} columns")
        print(f"{'writer':>10} {'format':>8} {'seconds':>8} {'MB':>6}")
        runs = [("new", fmt, lambda p: export_table(members, p, lang="zh")) for fmt in ("xlsx", "csv", "parquet")]
        if old:
            mod = _old_module(old)
            runs.insert(0, (f"old@{old[:7]}", "xlsx", lambda p: mod.export_table(members, p)))
        for name, fmt, fn in runs:
            path = out / f"members-{name.replace('@', '-')}.{fmt}"
            s = _best(lambda fn=fn, path=path: fn(path), repeat)
            print(f"{name:>10} {fmt:>8} {s:8.2f} {path.stat().st_size / 1e6:6.2f}")


if __name__ == "__main__":
    main()
