"""Launch speed as whole processes: `winback campaign launch` of one draft on a synthetic warehouse, this checkout
against another source tree (the baseline) in the same run, each on its own copy of the warehouse.

    .venv/bin/python benchmarks/launch_bench.py [MEMBERS] [--scenario new_store_opening] [--baseline-src DIR]
        [--dir /work/bench-data/launch]

The warehouse is built as campaigns_bench.py builds it (members and a snapshot straight in SQL), a draft is
created, and the launch (audience, assignment, coupons, guide tasks, touches, one transaction) is timed as a
child process. Prints wall and CPU seconds (the child's user + system), the load average, and the audience;
asserts nothing. The scenario's audience is ≈ 38 % of the members: 2,640,000 members give a 1.0M audience.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from campaigns_bench import build

from winback.app import Winback
from winback.campaigns.types import CampaignRequest
from winback.config import Settings

NOW = dt.datetime(2026, 11, 2, 9)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _launch(db: Path, src: Path | None) -> tuple[float, float, dict]:
    env = {**os.environ, "WINBACK_NOW": NOW.isoformat()}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, "-m", "winback.cli.main", "--db", str(db), "campaign", "launch", "C0001", "--json"]
    t0, c0 = time.perf_counter(), _children_cpu()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if out.returncode != 0:
        raise SystemExit(out.stdout + out.stderr)
    return wall, cpu, json.loads(out.stdout)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("members", nargs="?", type=int, default=1_000_000)
    p.add_argument("--scenario", default="new_store_opening")
    p.add_argument("--baseline-src", type=Path, default=None, help="a src/ directory of another checkout")
    p.add_argument("--dir", type=Path, default=Path("/work/bench-data/launch"))
    a = p.parse_args()
    a.dir.mkdir(parents=True, exist_ok=True)
    base = a.dir / f"m{a.members}.duckdb"
    if not base.exists():
        with Winback(Settings(db_path=base)) as wb:
            build(wb.db(), a.members)
            request = CampaignRequest(a.scenario, holdout=0.1, variants=["A:voucher:50:200", "B:discount:15"])
            wb.campaigns.create(request, now=NOW)
    runs = [("this checkout", None)] + ([("baseline", a.baseline_src)] if a.baseline_src else [])
    for name, src in runs:
        copy = a.dir / "launch-run.duckdb"
        shutil.copyfile(base, copy)
        load = os.getloadavg()[0]
        wall, cpu, out = _launch(copy, src)
        counts = f"coupons {out['coupons']:,}  tasks {out['tasks']:,}  touches {out['touches']:,}"
        line = f"{name:<14} launch {wall:7.2f} s  cpu {cpu:6.2f} s  load {load:5.2f}  audience {out['members']:,}"
        print(f"{line}  {counts}", flush=True)
        copy.unlink()


if __name__ == "__main__":
    main()
