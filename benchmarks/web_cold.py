"""Cold cost of each console read: every read in a fresh process against an existing warehouse, opened read-only,
with no answer cache (what the first user after a refresh, an import or a server start waits for).

    flock /work/bench.lock python benchmarks/web_cold.py WAREHOUSE [--only overview,report] [--trace]

The campaign, guide and clock come from WAREHOUSE.web-bench.json (written by web_bench.py). `--trace` prints the
seconds of every SQL statement slower than 0.2 s."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

READS = ("overview", "transitions", "segments", "segments_by_store", "members", "report", "tasks")


def trace() -> None:
    from winback.engine.duckdb_engine import DuckDBEngine

    for name in ("_fetchall", "_dicts", "_query", "_execute"):
        orig = getattr(DuckDBEngine, name)

        def timed(self: Any, sql: str, params: Any, _orig: Any = orig) -> Any:
            t = time.perf_counter()
            out = _orig(self, sql, params)
            if (s := time.perf_counter() - t) > 0.2:
                print(f"    {s:7.2f} s  {' '.join(sql.split())[:160]}", file=sys.stderr)
            return out

        setattr(DuckDBEngine, name, timed)


def one(path: str, read: str, spec: dict[str, Any]) -> None:
    from winback.app import Winback
    from winback.config import Settings

    wb = Winback(Settings.load(environ={"WINBACK_NOW": spec["now"]}, db_path=Path(path)))
    from winback.web.store_users import snapshot_dates

    dates = snapshot_dates(wb.db(write=False))
    asks = {
        "overview": lambda: wb.overview.overview(),
        "transitions": lambda: wb.lifecycle.transitions(date_from=dates[-2], date_to=dates[-1]),
        "segments": lambda: wb.lifecycle.segments(scheme="seed_cn"),
        "segments_by_store": lambda: wb.lifecycle.segments(scheme="seed_cn", by="store"),
        "members": lambda: wb.lifecycle.members(scheme="seed_cn", limit=1000),
        "report": lambda: wb.campaigns.report(spec["campaign"]),
        "tasks": lambda: wb.tasks.list(guide=spec["guide"], limit=200),
    }
    t, c = time.perf_counter(), time.process_time()
    asks[read]()
    print(json.dumps({"read": read, "wall": time.perf_counter() - t, "cpu": time.process_time() - c}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("warehouse")
    p.add_argument("--only", default=",".join(READS))
    p.add_argument("--trace", action="store_true")
    p.add_argument("--one", help=argparse.SUPPRESS)
    a = p.parse_args()
    spec = json.loads(Path(a.warehouse + ".web-bench.json").read_text())
    if a.one:
        if a.trace:
            trace()
        one(a.warehouse, a.one, spec)
        return
    print(f"warehouse {a.warehouse}: {spec}; load {os.getloadavg()[0]:.1f}")
    for read in a.only.split(","):
        cmd = [sys.executable, __file__, a.warehouse, "--one", read] + (["--trace"] if a.trace else [])
        out = subprocess.run(cmd, capture_output=True, text=True)
        sys.stderr.write(out.stderr[-3000:] if out.returncode else out.stderr)
        r = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {"wall": -1, "cpu": -1}
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"  {read:18s} wall {r['wall']:7.2f} s  cpu {r['cpu']:7.2f} s  (max rss so far {rss:.0f} MiB)", flush=True
        )


if __name__ == "__main__":
    main()
