"""The planner's acceptance back-test (issue 12) on several draws of the demo brand: held-out seeds and bigger brands.

    .venv/bin/python benchmarks/planner_backtest.py [--seed N]... [--members M] [--warehouse FILE]... --work DIR

For each `--seed` a demo brand of `--members` members (default 200,000) is generated into DIR (`winback demo`, the
default dates: orders 2023-11-21 … 2026-11-20); each `--warehouse` (a demo brand made by `winback demo`, e.g. the
2M one; never written) is copied into DIR. Each gets the lifecycle snapshots the back-test needs (2023-11-21,
2024-11-21, 2025-11-21 and the half-year ones 2024-05-23, 2024-11-22, 2025-05-23, then one at the default as-of),
unless the copy has them already. Then a plan at 2025-11-21 (one year before the last order) is back-tested on the
following year, as tests/planner/test_backtest_demo.py does on the default brand, and the script prints:

  pick       the estimator the plan picks (by its own back-test over the half year before its as-of) and why
  combos     every estimator combination's total errors and cells outside ±20 % (cells with >= 500 members)
  cells      the pick's cells: members, actual repurchasers, estimate / actual - 1 for repurchasers and revenue
  floor      the cells a perfect estimator would still put outside ±20 %: per cell P(miss) when repurchasers are
             Poisson around their expectation and revenue their sum of spends (the cell's own mean and spread),
             summed (Monte Carlo, fixed seed); a cell with no repurchaser is out for any estimate above zero

Heavy for big brands: run a 2M brand under `flock /work/bench.lock`. Asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from winback.app import Winback  # noqa: E402
from winback.config import Settings  # noqa: E402

NOW = "2026-11-21"
AS_OF = dt.date(2025, 11, 21)
SNAPSHOTS = ("2023-11-21", "2024-05-23", "2024-11-21", "2024-11-22", "2025-05-23", "2025-11-21")
CELL_MIN, CELL_TOL = 500, 0.20


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def prepare(db: Path, seed: int | None, members: int, source: Path | None) -> None:
    """A demo brand at `db` (generated with `seed`, or copied from `source`) with the back-test's snapshots."""
    if source is not None and not db.exists():
        shutil.copy(source, db)
    with Winback(Settings.load(environ={}, db_path=db, now=NOW)) as wb:
        if seed is not None and not db.with_suffix(".ready").exists():
            files = db.parent / f"files-{seed}"
            wb.demo.run(files, members=members, seed=seed, parquet_only=True)
            shutil.rmtree(files, ignore_errors=True)
        from winback.planner import store

        have = set(store.snapshot_dates(wb.db(write=False)))
        todo = [dt.date.fromisoformat(d) for d in SNAPSHOTS if dt.date.fromisoformat(d) not in have]
        for d in todo:
            wb.lifecycle.refresh(as_of=d)
        if todo:
            wb.lifecycle.refresh()
    db.with_suffix(".ready").touch()


def _out(err: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in err["cells"] if c["members"] >= CELL_MIN and (
        c["repurchasers"] is None or abs(c["repurchasers"]) > CELL_TOL
        or c["revenue"] is None or abs(c["revenue"]) > CELL_TOL)]  # fmt: skip


def _pct(x: float | None) -> str:
    return f"{x * 100:+.1f} %" if x is not None else "n/a"


def floor(actual: list[Any], draws: int = 20_000) -> tuple[float, list[tuple[str, float]]]:
    """(expected cells out for a perfect estimator, the cells with P(miss) >= 5 %)."""
    rng = np.random.default_rng(1)
    total, shown = 0.0, []
    for c in actual:
        if c.members < CELL_MIN:
            continue
        a = c.repurchasers
        if a == 0:
            p = 1.0
        else:
            mean = c.revenue / a
            sd = math.sqrt(max(c.revenue_sq / a - mean * mean, 0.0))
            x = rng.poisson(a, draws)
            rev = x * mean + np.sqrt(x) * sd * rng.standard_normal(draws)
            with np.errstate(divide="ignore", invalid="ignore"):
                ok = (x > 0) & (np.abs(a / x - 1) <= CELL_TOL) & (np.abs(a * mean / rev - 1) <= CELL_TOL)
            p = float(1 - ok.mean())
        total += p
        if p >= 0.05:
            shown.append((f"{c.stage}/{c.tier} ({a} repurchasers)", p))
    return total, shown


def report(name: str, db: Path) -> None:
    t0, c0 = time.perf_counter(), _cpu()
    with Winback(Settings.load(environ={}, db_path=db, now=NOW)) as wb:
        bt = wb.planner.backtest(as_of=AS_OF)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    pick = f"{bt.planned.repurchasers}+{bt.planned.aov}"
    print(f"\n## {name}: back-test at {AS_OF} ({wall:.0f} s wall, {cpu:.0f} s CPU)")
    print(f"pick: {pick}\nreason: {bt.planned.reason}")
    for combo, err in bt.errors.items():
        mark = "  <- the plan's pick" if combo == pick else ""
        print(f"  {combo:24s} repurchasers {_pct(err['repurchasers']):>8s}  revenue {_pct(err['revenue']):>8s}  "
              f"cells out {len(_out(err))} of {len(err['cells'])}{mark}")  # fmt: skip
    err, est = bt.errors[pick], {(c.stage, c.tier): c for c in bt.estimates[pick]}
    out = _out(err)
    print("| cell | members | actual repurchasers | estimate | actual revenue | estimate | error reps / revenue |")
    print("|---|---|---|---|---|---|---|")
    for c in err["cells"]:
        e = est[(c["stage"], c["tier"])]
        flag = " **out**" if c in out else ""
        print(f"| {c['stage']}/{c['tier']}{flag} | {c['members']:,} | {c['actual_repurchasers']:,} | "
              f"{e.repurchasers:,.0f} | ¥{c['actual_revenue']:,.0f} | ¥{e.revenue:,.0f} | "
              f"{_pct(c['repurchasers'])} / {_pct(c['revenue'])} |")  # fmt: skip
    print(f"total: repurchasers {_pct(err['repurchasers'])}, revenue {_pct(err['revenue'])}; "
          f"cells out of ±20 %: {len(out)} of {len(err['cells'])}")  # fmt: skip
    expected, cells = floor(list(bt.actual))
    print(f"floor: a perfect estimator would put {expected:.1f} cells out (" +
          ", ".join(f"{n} {p:.0%}" for n, p in cells) + ")")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, action="append", default=[])
    ap.add_argument("--members", type=int, default=200_000)
    ap.add_argument("--warehouse", type=Path, action="append", default=[])
    ap.add_argument("--work", type=Path, required=True)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    runs = [(f"seed {s}, {args.members:,} members", args.work / f"demo-{s}-{args.members}.duckdb", s, None)
            for s in args.seed]  # fmt: skip
    runs += [(str(w), args.work / f"copy-{i}-{w.name}", None, w) for i, w in enumerate(args.warehouse)]
    for name, db, seed, source in runs:
        t0, c0 = time.perf_counter(), _cpu()
        prepare(db, seed, args.members, source)
        print(f"prepared {name}: {time.perf_counter() - t0:.0f} s wall, {_cpu() - c0:.0f} s CPU", flush=True)
        report(name, db)


if __name__ == "__main__":
    main()
