"""Demo brand speed and memory: generate (and optionally import) N members, in a fresh process per run.

Usage: .venv/bin/python benchmarks/demo_bench.py [N ...] [--import] [--keep DIR]
Default N = 200000. Prints seconds, rows and peak resident memory (ru_maxrss of the child); asserts nothing.
Above 1M members the demo writes Parquet only (no GBK CSV, no XLSX).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(n: int, out: Path, do_import: bool) -> None:
    from winback.app import Winback
    from winback.config import Settings

    with Winback(Settings.load(environ={}, db_path=out / "winback.duckdb")) as wb:
        summary = wb.demo.run(out, members=n, do_import=do_import).to_dict()
    print(json.dumps({k: summary[k] for k in ("members", "orders", "order_rows", "layout", "seconds")}))


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--child":
        child(int(args[1]), Path(args[2]), args[3] == "1")
        return
    do_import = "--import" in args
    keep = Path(args[args.index("--keep") + 1]) if "--keep" in args else None
    sizes = [int(a) for a in args if a.isdigit()] or [200_000]
    print(f"{'members':>12} {'orders':>12} {'rows':>12} {'layout':>8} {'generate s':>11} {'import s':>9} "
          f"{'wall s':>8} {'peak MB':>8}")  # fmt: skip
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            out = keep or Path(tmp)
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(n), str(out), "1" if do_import else "0"],
                check=True,
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - started
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(
                f"{r['members']:>12,} {r['orders']:>12,} {r['order_rows']:>12,} {r['layout']:>8} "
                f"{r['seconds']['generate']:>11.1f} {r['seconds']['import']:>9.1f} {wall:>8.1f} {peak_mb:>8.0f}"
            )


if __name__ == "__main__":
    main()
