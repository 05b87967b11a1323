"""History without copies (issue 14, item 2), as whole processes: one full refresh and `winback refresh --history
monthly`, each on its own copy of a brand's warehouse, and the warehouse size they leave after a CHECKPOINT.

    .venv/bin/python benchmarks/history_bench.py WAREHOUSE [--work DIR] [--baseline-src DIR]

WAREHOUSE (a demo brand, e.g. `winback demo` output; never written) is copied to DIR and opened once by the app
(pending migrations run: that copy is the starting point of every run). Then, for this checkout and (with
--baseline-src, a src/ directory of another checkout) the baseline, in the same run:
  full      `winback refresh --full --json` on a fresh copy: wall and CPU seconds of the child process
  history   `winback refresh --history monthly --json` on another fresh copy (a snapshot on the first day of
            every month since the first order, then one at the default as-of)
  size      each copy's file size after CHECKPOINT; growth per extra date = (history size - full size) /
            (history dates - 1), as a share of one full snapshot stored as rows (the member_snapshot table of
            migrations 006/011 at the default as-of, written alone into a scratch file)
Prints one line per run and the ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _winback(db: Path, src: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src), "WINBACK_DB": str(db)}
    cmd = [sys.executable, "-m", "winback.cli.main", *args]
    t0, c0 = time.perf_counter(), _child_cpu()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall, cpu = time.perf_counter() - t0, _child_cpu() - c0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stdout[-3000:]}{out.stderr[-3000:]}")
    return {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "load": round(os.getloadavg()[0], 2),
            "result": json.loads(out.stdout)}  # fmt: skip


def _checkpoint(db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("CHECKPOINT")
    con.close()
    return db.stat().st_size


def _full_copy_bytes(db: Path, as_of: str, scratch: Path) -> int:
    """One snapshot stored as rows (migration 011's member_snapshot columns), alone in a file, after CHECKPOINT."""
    import duckdb

    from winback.lifecycle.snapshot_sql import STORED_SNAPSHOT_COLUMNS

    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch))
    con.execute(f"ATTACH '{db}' AS src (READ_ONLY)")
    con.execute(
        f"CREATE TABLE s AS SELECT {', '.join(STORED_SNAPSHOT_COLUMNS)} FROM src.member_snapshot "
        f"WHERE as_of = DATE '{as_of}'"
    )
    con.execute("DETACH src")
    con.execute("CHECKPOINT")
    con.close()
    size = scratch.stat().st_size
    scratch.unlink()
    return size


def _prepare(source: Path, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    start = work / "start.duckdb"
    shutil.copyfile(source, start)
    for extra in (".wal",):
        Path(str(start) + extra).unlink(missing_ok=True)
    _winback(start, ROOT / "src", "info", "--json")  # pending migrations run once, here
    _checkpoint(start)
    return start


def run(name: str, src: Path, start: Path, work: Path, history: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    modes = (("full", ["--full"]), ("history", ["--history", "monthly"]))
    for mode, args in modes if history else modes[:1]:
        db = work / f"{mode}.duckdb"
        shutil.copyfile(start, db)
        out[mode] = _winback(db, src, "refresh", *args, "--json")
        out[mode]["bytes"] = _checkpoint(db)
    as_of = out["full"]["result"]["as_of"]
    if not history:
        (work / "full.duckdb").unlink()
        out["full"].pop("result")
        return out
    out["full_copy_bytes"] = _full_copy_bytes(work / "full.duckdb", as_of, work / "copy.duckdb")
    dates = len(out["history"]["result"].get("history") or [as_of])
    out["dates"] = dates
    out["growth_bytes"] = (out["history"]["bytes"] - out["full"]["bytes"]) / max(dates - 1, 1)
    for mode in ("full", "history"):
        (work / f"{mode}.duckdb").unlink()
        out[mode].pop("result")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("warehouse", type=Path)
    p.add_argument("--work", type=Path, default=Path("/tmp/winback-history-bench"))
    p.add_argument("--baseline-src", type=Path, default=None, help="a src/ directory of another checkout")
    p.add_argument("--baseline-full-only", action="store_true", help="the baseline's full refresh only")
    a = p.parse_args(argv)
    start = _prepare(a.warehouse, a.work)
    print(f"history benchmark: {a.warehouse} -> {start} ({start.stat().st_size / 2**20:.1f} MiB after migrations)")
    runs = [("this checkout", ROOT / "src")] + ([("baseline", a.baseline_src)] if a.baseline_src else [])
    for name, src in runs:
        r = run(name, src, start, a.work, history=not (a.baseline_full_only and name == "baseline"))
        if "history" not in r:
            f = r["full"]
            print(f"{name:<14} full {f['seconds']:7.2f} s (CPU {f['cpu_seconds']:7.2f}, load {f['load']})", flush=True)
            continue
        f, h = r["full"], r["history"]
        print(
            f"{name:<14} full {f['seconds']:7.2f} s (CPU {f['cpu_seconds']:7.2f}, load {f['load']})  "
            f"history {r['dates']} dates {h['seconds']:7.2f} s (CPU {h['cpu_seconds']:7.2f}, load {h['load']})  "
            f"= {h['seconds'] / f['seconds']:.2f} x wall, {h['cpu_seconds'] / f['cpu_seconds']:.2f} x CPU",
            flush=True,
        )
        print(
            f"{'':<14} size after full {f['bytes'] / 2**20:.1f} MiB, after history {h['bytes'] / 2**20:.1f} MiB: "
            f"{r['growth_bytes'] / 2**20:.2f} MiB per extra date = {r['growth_bytes'] / r['full_copy_bytes']:.1%} "
            f"of one full snapshot ({r['full_copy_bytes'] / 2**20:.1f} MiB as rows)",
            flush=True,
        )
        print(json.dumps(r), flush=True)
    start.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
